// `photons bench photon-overhead`: what one more job costs as a photon (heap, time to create)
// against what it costs as a runtime of its own (a worker thread, a child process).
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { Runtime } from '../dispatcher/runtime';
import { bundleFunction, type FunctionBundle } from '../photon-worker/bundle';
import type { OverheadReading, OverheadRequest } from './photon-overhead-thread';
import { machine, median, rssBytes, table, type SuiteOptions, type SuiteReport } from './report';

const FUNCTIONS = path.join(__dirname, '..', '..', 'bench', 'functions');

export async function photonOverhead(options: SuiteOptions): Promise<SuiteReport> {
  const gateBundle = await bundleFunction(path.join(FUNCTIONS, 'await-gate.ts'));
  const unprotectedBundle = await bundleFunction(path.join(FUNCTIONS, 'await-gate-unprotected.ts'));
  const noopBundle = await bundleFunction(path.join(FUNCTIONS, 'noop.ts'));
  const inFlight = options.quick ? [1_000] : [1_000, 10_000];
  const instantiations = options.quick ? 5_000 : 20_000;
  // Frozen builtins are for the life of a thread: one thread each, protected and not.
  const reading = await measureInThread(gateBundle, inFlight, instantiations);
  const unprotected = await measureInThread(unprotectedBundle, inFlight, instantiations);
  const runtimes = options.quick ? 2 : 4;
  const threadRuntimeBytes = await measureThreads(noopBundle, runtimes);
  const processRuntimeBytes = await measureProcesses(noopBundle, runtimes);
  const perPhotonHeapBytes = Math.max(...Object.values(reading.perPhotonHeapBytes));
  const result = {
    suite: 'photon-overhead',
    perPhotonHeapBytes,
    perPhotonHeapBytesByInFlight: reading.perPhotonHeapBytes,
    instantiateMicros: Number(reading.instantiateMicros.toFixed(2)),
    builtins: {
      protected: summary(reading),
      unprotected: summary(unprotected),
    },
    threadRuntimeBytes,
    processRuntimeBytes,
    photonsPerThreadRuntime: Math.floor(threadRuntimeBytes / perPhotonHeapBytes),
    targets: { perPhotonHeapBytes: 4096, instantiateMicros: 50 },
    machine: machine(),
  };
  const kb = (bytes: number): string => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`);
  const lines = [
    'What one more concurrent job costs, for a trivial function that awaits',
    '',
    ...table(
      ['as', 'memory per job', 'note'],
      [
        ...Object.entries(reading.perPhotonHeapBytes).map(([n, bytes]) => [`photon (${n} in flight)`, kb(bytes), 'heap of one runtime']),
        ['worker thread of its own', kb(threadRuntimeBytes), `process RSS growth per runtime (${runtimes} started)`],
        ['child process of its own', kb(processRuntimeBytes), `RSS per process (${runtimes} started)`],
      ],
    ),
    '',
    `Creating a photon (fresh module instance, global view, console): ${result.instantiateMicros} µs on average (best of three).`,
    '',
    ...table(
      ['builtins', 'frozen', 'heap per photon', 'create a photon'],
      (['protected', 'unprotected'] as const).map((kind) => {
        const b = result.builtins[kind];
        return [kind, String(b.frozen), kb(b.perPhotonHeapBytes), `${b.instantiateMicros} µs`];
      }),
    ),
    `One thread runtime costs as much memory as ${result.photonsPerThreadRuntime} photons in flight.`,
    `Targets: perPhotonHeapBytes <= 4096 (${perPhotonHeapBytes <= 4096 ? 'met' : 'MISSED'}), instantiateMicros <= 50 (${result.instantiateMicros <= 50 ? 'met' : 'MISSED'}).`,
  ];
  return { lines, result };
}

function summary(reading: OverheadReading): { frozen: boolean; perPhotonHeapBytes: number; instantiateMicros: number } {
  return {
    frozen: reading.builtinsFrozen,
    perPhotonHeapBytes: Math.max(...Object.values(reading.perPhotonHeapBytes)),
    instantiateMicros: Number(reading.instantiateMicros.toFixed(2)),
  };
}

function measureInThread(bundle: FunctionBundle, inFlight: number[], instantiations: number): Promise<OverheadReading> {
  const request: OverheadRequest = {
    startup: {
      runtimeId: 1,
      functionName: bundle.name,
      file: bundle.file,
      code: bundle.code,
      sourceMap: bundle.sourceMap,
      mode: 'photon',
      logLevel: 'silent',
      defaultTimeoutMs: 600_000,
    },
    inFlight,
    instantiations,
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'photon-overhead-thread.js'), { workerData: request });
    worker.once('message', (reading: OverheadReading) => {
      resolve(reading);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/** RSS growth of this process per runtime thread started, each having run one job. */
async function measureThreads(bundle: FunctionBundle, count: number): Promise<number> {
  const samples: number[] = [];
  for (let round = 0; round < 3; round++) {
    const before = rssBytes();
    const started: Runtime[] = [];
    await Promise.all(
      Array.from(
        { length: count },
        (_, i) =>
          new Promise<void>((resolve) => {
            const runtime: Runtime = new Runtime({
              id: i + 1,
              bundle,
              mode: 'lambda',
              memoryMb: 512,
              watchdogMs: 60_000,
              startTimeoutMs: 60_000,
              defaultTimeoutMs: 60_000,
              logLevel: 'silent',
              logger: pino({ level: 'silent' }),
              onProgress: () => undefined,
              onReady: (r) => r.run([{ job: { jobId: '1', inputs: [{ i: 1 }], attempt: 1 }, resolve: () => resolve() }]),
              onAnswers: () => undefined,
              onExit: () => undefined,
            });
            started.push(runtime);
          }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    samples.push((rssBytes() - before) / count);
    await Promise.all(started.map((r) => r.retire()));
  }
  return Math.round(median(samples));
}

/** RSS of a child process that loaded the function and ran one job. */
async function measureProcesses(bundle: FunctionBundle, count: number): Promise<number> {
  const children = Array.from({ length: count }, () => fork(path.join(__dirname, 'process-runtime.js'), { stdio: 'ignore' }));
  try {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve, reject) => {
            child.once('message', () => resolve());
            child.once('exit', (code) => reject(new Error(`runtime process exited with ${code}`)));
            child.send({ name: bundle.name, file: bundle.file, code: bundle.code });
          }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    return Math.round(median(children.map((child) => rssBytes(child.pid!))));
  } finally {
    for (const child of children) child.kill('SIGKILL');
  }
}
