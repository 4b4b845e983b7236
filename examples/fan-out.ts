// Fan-out: hash 10,000 inputs with the paper's `hash` workload through `map`, 100 per chunk job,
// and print a summary. Needs a running `photons start` (or dispatcher) serving the paper's workloads:
//   PHOTONS_FUNCTIONS_DIR=bench/workloads npx photons start
//   npm run build:test && node build/examples/fan-out.js [count]
import { PhotonsClient } from 'photons';

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 10_000);
  const client = new PhotonsClient({ redisUrl: process.env.PHOTONS_REDIS_URL, prefix: process.env.PHOTONS_REDIS_PREFIX });
  try {
    // A generator: inputs are produced as the run asks for them, never all held at once.
    function* inputs(): Generator<{ seed: number; sizeBytes: number }> {
      for (let seed = 0; seed < count; seed++) yield { seed, sizeBytes: 64 * 1024 };
    }
    const started = Date.now();
    const run = await client.map<{ sha256: string }>('hash', inputs(), {
      chunkSize: 100,
      onProgress: (p) => process.stderr.write(`\r${p.done}/${p.total ?? '?'} done, ${p.failed} failed`),
    });
    const firstBytes = new Map<string, number>();
    for await (const item of run) {
      if (!item.ok) {
        console.error(`\nitem ${item.index} failed: ${item.error.code}: ${item.error.message}`);
        continue;
      }
      const head = item.value.sha256.slice(0, 1);
      firstBytes.set(head, (firstBytes.get(head) ?? 0) + 1);
    }
    const { done, failed } = run.progress();
    const seconds = (Date.now() - started) / 1000;
    console.error('');
    console.log(`run ${run.id}: ${done - failed} hashed, ${failed} failed in ${seconds.toFixed(1)} s (${Math.round(done / seconds)} items/s)`);
    console.log(
      `digests by first hex digit: ${[...firstBytes]
        .sort()
        .map(([k, v]) => `${k}:${v}`)
        .join(' ')}`,
    );
  } finally {
    await client.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
