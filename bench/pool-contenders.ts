// The two pools `photons bench pool` sets side by side, behind one interface: the project's
// RuntimePool as the dispatcher builds it (config defaults, a spare thread), and piscina 5 given the
// same limits, a packing load balancer and the same photon runtime in each thread
// (bench/pool-piscina-task.ts). piscina is a bench-only dependency in bench/workloads
// (ARCHITECTURE.md, "Scheduling", says why the product does not use it).
import { createRequire } from 'node:module';
import * as path from 'node:path';
import pino from 'pino';
import type PiscinaPool from 'piscina';
import { loadConfig } from '../config';
import { poolOptionsFrom } from '../dispatcher/pool-options';
import { FIRST_SLOTS } from '../dispatcher/placement';
import { RuntimePool } from '../dispatcher/runtime-pool';
import { SpareThreads } from '../dispatcher/spare-threads';
import { bundleFunction } from '../photon-worker/bundle';
import type { PoolWork, PoolWorkAnswer } from './functions/pool-work';
import type { PiscinaTaskData } from './pool-piscina-task';

export const CONTENDERS = ['photons', 'piscina'] as const;
export type ContenderName = (typeof CONTENDERS)[number];

/** What became of one submission: an answer, or the thread died under it. */
export type Submitted = { kind: 'done'; answer: PoolWorkAnswer } | { kind: 'died'; message: string };

export interface Contender {
  /** Runs one job; `alone`: in a thread of its own (a job present at a thread's death runs again so). */
  submit(work: PoolWork, alone: boolean): Promise<Submitted>;
  close(): Promise<void>;
}

export interface PoolLimits {
  /** Heap limit per thread in MB. */
  memoryMb: number;
}

const ROOT = path.resolve(__dirname, '..', '..');
const FUNCTION_FILE = path.join(ROOT, 'bench', 'functions', 'pool-work.ts');
/** piscina runs the compiled task file beside this one (build/bench). */
const PISCINA_TASK = path.join(__dirname, 'pool-piscina-task.js');

export async function startContender(name: ContenderName, limits: PoolLimits): Promise<Contender> {
  return name === 'photons' ? startProjectPool(limits) : startPiscina(limits);
}

async function startProjectPool(limits: PoolLimits): Promise<Contender> {
  const config = loadConfig({ 'log.level': 'silent' });
  const bundle = await bundleFunction(FUNCTION_FILE);
  // As dispatcher.ts builds it: config defaults and the dispatcher's spare threads.
  const spares = new SpareThreads(config.runtime.spareThreads, limits.memoryMb);
  const pool = new RuntimePool(poolOptionsFrom(config, bundle, pino({ level: 'silent' }), { memoryMb: limits.memoryMb, spares }));
  let next = 0;
  return {
    async submit(work, alone) {
      const outcome = (await pool.submit({ jobId: String(++next), inputs: [work], attempt: 1 }, alone))[0]!;
      if (outcome.kind === 'done') return { kind: 'done', answer: JSON.parse(outcome.valueJson) as PoolWorkAnswer };
      if (outcome.kind === 'runtime-died') return { kind: 'died', message: outcome.error.message };
      throw new Error(`The pool failed a job of the benchmark: ${outcome.error.message}`);
    },
    async close() {
      await pool.close();
      await spares.close();
    },
  };
}

type PiscinaOptions = NonNullable<ConstructorParameters<typeof PiscinaPool>[0]>;
type LoadBalancer = NonNullable<PiscinaOptions['loadBalancer']>;

/**
 * Packing, as the project's pool places jobs: the busiest thread that still has a free slot; null
 * (piscina then starts a thread, up to maxThreads) when every thread is full.
 */
export function packingBalancer(slots: number): LoadBalancer {
  return (_task, workers) => {
    let best: (typeof workers)[number] | null = null;
    for (const worker of workers) {
      if (worker.terminating || worker.destroyed || worker.currentUsage >= slots) continue;
      if (!best || worker.currentUsage > best.currentUsage) best = worker;
    }
    return best;
  };
}

function loadPiscina(): typeof PiscinaPool {
  // Resolved from bench/workloads, where the bench-only dependencies live (its package.json).
  const requireFromWorkloads = createRequire(path.join(ROOT, 'bench', 'workloads', 'package.json'));
  return (requireFromWorkloads('piscina') as { Piscina: typeof PiscinaPool }).Piscina;
}

async function startPiscina(limits: PoolLimits): Promise<Contender> {
  const config = loadConfig({ 'log.level': 'silent' });
  const Piscina = loadPiscina();
  const bundle = await bundleFunction(FUNCTION_FILE);
  const workerData: PiscinaTaskData = {
    startup: {
      runtimeId: 1,
      functionName: bundle.name,
      file: bundle.file,
      code: bundle.code,
      sourceMap: bundle.sourceMap,
      mode: 'photon',
      logLevel: 'silent',
      defaultTimeoutMs: config.job.timeoutMs,
    },
  };
  const start = (slots: number): PiscinaPool<PoolWork, PoolWorkAnswer> => {
    const pool = new Piscina<PoolWork, PoolWorkAnswer>({
      filename: PISCINA_TASK,
      workerData,
      // The same numbers as the project's pool: threads, slots per thread, heap limit, keep-alive.
      minThreads: 0,
      maxThreads: config.runtime.maxRuntimes,
      concurrentTasksPerWorker: slots,
      loadBalancer: packingBalancer(slots),
      resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb },
      idleTimeout: config.runtime.keepAliveMs,
      // Tasks that await need the thread's event loop: an idle thread must not sleep in Atomics.wait.
      atomics: 'disabled',
    });
    // A thread's death rejects its tasks; with no task in it, piscina emits 'error' instead.
    pool.on('error', () => undefined);
    return pool;
  };
  // piscina's slots per thread are fixed: the number the project's pool starts with when its slots
  // follow memory (photonsPerRuntime 0), else the same fixed number.
  const shared = start(config.runtime.photonsPerRuntime || FIRST_SLOTS);
  // piscina cannot run one task alone in a pool of shared threads: a second pool, one task per
  // thread, takes the jobs present at a death (created on first need, it starts no thread before).
  let alone: PiscinaPool<PoolWork, PoolWorkAnswer> | undefined;
  return {
    async submit(work, runAlone) {
      const pool = runAlone ? (alone ??= start(1)) : shared;
      try {
        return { kind: 'done', answer: await pool.run(work) };
      } catch (err) {
        // The work never throws: a rejection is the thread's death (out of heap, exit).
        return { kind: 'died', message: (err as Error).message };
      }
    },
    async close() {
      await Promise.all([shared.destroy(), alone?.destroy()]);
    },
  };
}
