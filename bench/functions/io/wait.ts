// Benchmark fixture of `photons bench io`: an I/O-bound job, waiting as a call to a slow service does.
export default async function wait(input: { ms: number }): Promise<{ waited: number }> {
  await new Promise((resolve) => setTimeout(resolve, input.ms));
  return { waited: input.ms };
}
