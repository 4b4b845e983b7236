// Benchmark fixture: await-gate.ts opted out of protected builtins, to measure what protecting costs.
import awaitGate from './await-gate';

export const config = { protectBuiltins: false };

export default awaitGate;
