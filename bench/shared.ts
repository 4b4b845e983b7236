// `photons bench shared`: runtimes shared among functions (runtime.shareAmongFunctions) against a
// runtime per function, for many small functions: the RSS each function keeps once it has run and
// gone idle, the latency of each function's first job (a cold start), and the throughput of a burst
// to a few of them. Each side runs in a fresh process (bench/shared-child.ts), one after the other.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { bundleFunction } from '../photon-worker/bundle';
import { machine, table, type SuiteOptions, type SuiteReport } from './report';
import type { SharedBenchRequest, SharedBenchSide } from './shared-child';

/** A small function: a package-free handler with a little module state, like most of a long tail. */
function source(name: string): string {
  return `import { createHash } from 'node:crypto';
const salt = ${JSON.stringify(name)};
let calls = 0;
export default async function ${name}(input: { n: number }) {
  calls++;
  return { fn: salt, calls, digest: createHash('sha256').update(salt + input.n).digest('hex').slice(0, 16) };
}
`;
}

function runSide(request: SharedBenchRequest): Promise<SharedBenchSide> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'shared-child.js'), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('message', (side: SharedBenchSide) => resolve(side));
    child.once('exit', (code) => reject(new Error(`bench process exited with ${code} before answering`)));
    child.send(request);
  });
}

export async function sharedBench(options: SuiteOptions): Promise<SuiteReport> {
  const functions = options.quick ? 50 : 200;
  const folder = mkdtempSync(path.join(tmpdir(), 'photons-bench-shared-'));
  try {
    const bundles = [];
    for (let i = 0; i < functions; i++) {
      const file = path.join(folder, `small${i}.ts`);
      writeFileSync(file, source(`small${i}`));
      bundles.push(await bundleFunction(file));
    }
    const base = { bundles, burstFunctions: 4, burstJobs: options.quick ? 500 : 2_000 };
    const own = await runSide({ ...base, share: false });
    const shared = await runSide({ ...base, share: true });
    const ratio = (a: number, b: number) => Number((a / b).toFixed(2));
    const result = {
      suite: 'shared',
      functions,
      own,
      shared,
      idleRssRatio: ratio(shared.idleRssPerFunctionMB, own.idleRssPerFunctionMB),
      firstJobP50Ratio: ratio(shared.firstJobP50Ms, own.firstJobP50Ms),
      firstBurstRatio: ratio(shared.firstBurstJobsPerSecond, own.firstBurstJobsPerSecond),
      secondBurstRatio: ratio(shared.secondBurstJobsPerSecond, own.secondBurstJobsPerSecond),
      machine: machine(),
    };
    const rows = [own, shared].map((side) => [
      side.share ? 'shared among functions' : 'a runtime per function',
      String(side.threads),
      side.idleRssPerFunctionMB.toFixed(2),
      side.idleRssMB.toFixed(0),
      side.firstJobP50Ms.toFixed(1),
      side.firstJobP99Ms.toFixed(1),
      String(side.firstBurstJobsPerSecond),
      String(side.secondBurstJobsPerSecond),
    ]);
    const lines = [
      `${functions} small functions, one first job each in turn, then twice ${base.burstJobs} jobs to each of ${base.burstFunctions} of them at once`,
      ...table(['runtimes', 'threads', 'idle RSS/fn MB', 'idle RSS MB', 'first job p50 ms', 'first job p99 ms', 'burst 1 jobs/s', 'burst 2 jobs/s'], rows),
      `shared / own: idle RSS per function ${result.idleRssRatio}, first job p50 ${result.firstJobP50Ratio}, throughput of burst 1 ${result.firstBurstRatio}, of burst 2 ${result.secondBurstRatio}`,
    ];
    return { lines, result };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
