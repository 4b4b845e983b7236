// Benchmark fixture for the trace replay: a function shaped by a trace. It loads `sharedMb` once per
// runtime (what its libraries or model would be), then holds `privateMb` of its own for `ms`.
import { setTimeout as delay } from 'node:timers/promises';
import type { FunctionConfig, PhotonContext } from '../../photon-worker/types';

export const config: FunctionConfig = { photonsPerRuntime: 64, timeoutMs: 600_000 };

export interface SyntheticInput {
  ms: number;
  privateMb: number;
  sharedMb: number;
}

const MB = 1024 * 1024;

/** Written, not just allocated: untouched pages of a fresh allocation are not resident. */
function resident(mb: number, fill: number): Buffer {
  return Buffer.allocUnsafe(Math.round(mb * MB)).fill(fill);
}

export default async function synthetic(input: SyntheticInput, ctx: PhotonContext): Promise<{ heldBytes: number }> {
  const shared = await ctx.shared('libraries', () => resident(input.sharedMb, 7));
  const own = resident(input.privateMb, input.ms & 255);
  await delay(input.ms, undefined, { signal: ctx.signal });
  return { heldBytes: own.length + shared.length };
}
