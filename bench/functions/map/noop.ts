// Benchmark function for bench/map.ts: returns its input, so the figures measure the path through
// Redis, the dispatcher and a photon rather than any work.
export default function noop(input: unknown): unknown {
  return input;
}
