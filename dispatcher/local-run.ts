// Runs a function over inputs on this machine without Redis: `photons run` and the tests use it.
// The same runtime pool as the dispatcher's, fed from memory instead of from BullMQ.
import pino from 'pino';
import type { SerializedError } from '../errors';
import { bundleFunction } from '../photon-worker/bundle';
import type { Mode } from '../photon-worker/types';
import { loadConfig, type PhotonsConfig } from '../config';
import { RuntimePool } from './runtime-pool';

export type LocalOutcome =
  | { index: number; ok: true; value: unknown }
  | { index: number; ok: false; error: SerializedError };

export interface LocalRunOptions {
  /** Jobs at once (default 1). In lambda mode, each in a runtime of its own. */
  concurrency?: number;
  mode?: Mode;
  /** Timeout per job, overriding the function's config. */
  timeoutMs?: number;
  config?: Readonly<PhotonsConfig>;
  /** Called as each job finishes, in completion order. */
  onOutcome?: (outcome: LocalOutcome) => void;
}

/** Runs every input and returns the outcomes in input order. */
export async function runLocal(file: string, inputs: unknown[], options: LocalRunOptions = {}): Promise<LocalOutcome[]> {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`options.concurrency must be a positive integer, got ${String(concurrency)}`);
  }
  const config = options.config ?? loadConfig();
  const mode = options.mode ?? config.mode;
  const bundle = await bundleFunction(file);
  const pool = new RuntimePool({
    bundle,
    mode,
    maxRuntimes: mode === 'lambda' ? concurrency : 1,
    photonsPerRuntime: concurrency,
    memoryMb: config.runtime.memoryMb,
    keepAliveMs: config.runtime.keepAliveMs,
    watchdogMs: config.runtime.watchdogMs,
    defaultTimeoutMs: config.job.timeoutMs,
    batchSize: config.batch.size,
    batchLingerMs: config.batch.lingerMs,
    eluHigh: config.runtime.eluHigh,
    logLevel: config.log.level,
    logger: pino({ level: config.log.level }).child({ component: 'local-run', fn: bundle.name }),
  });
  const outcomes: LocalOutcome[] = new Array(inputs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const index = next++;
      const outcome = await pool.submit({
        jobId: String(index),
        input: inputs[index],
        attempt: 1,
        timeoutMs: options.timeoutMs,
      });
      const local: LocalOutcome =
        outcome.kind === 'done'
          ? { index, ok: true, value: JSON.parse(outcome.valueJson) as unknown }
          : { index, ok: false, error: outcome.error };
      outcomes[index] = local;
      options.onOutcome?.(local);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, worker));
  } finally {
    await pool.close();
  }
  return outcomes;
}
