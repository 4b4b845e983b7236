// Benchmark fixture: the trivial function of the throughput and latency benchmarks.
export default async function noop(input: { i: number }): Promise<{ i: number }> {
  return { i: input.i };
}
