// Benchmark fixture: a trivial function that awaits until the benchmark opens the gate, so that
// thousands of photons are in flight at once and their heap can be measured.
// eslint-disable-next-line no-shadow-restricted-names -- types the one global the benchmark sets
declare const globalThis: { benchGate?: Promise<void> };

export default async function awaitGate(input: number): Promise<number> {
  await globalThis.benchGate;
  return input;
}
