// Runs a function over inputs on this machine without Redis: `photons run` and the tests use it.
// The same runtime pool as the dispatcher's, fed from memory instead of from BullMQ.
import pino from 'pino';
import { ErrorCodes, type SerializedError } from '../errors';
import { bundleFunction } from '../photon-worker/bundle';
import type { Mode } from '../photon-worker/types';
import { loadConfig, type PhotonsConfig } from '../config';
import { poolOptionsFrom } from './pool-options';
import { POISON_DEATHS, RuntimePool } from './runtime-pool';

export type LocalOutcome = { index: number; ok: true; value: unknown } | { index: number; ok: false; error: SerializedError };

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
  // Logs go to stderr, the function's console output too: stdout carries only what the caller
  // asked for (`photons run` prints one result line per input there).
  const logger = pino({ level: config.log.level }, pino.destination({ fd: 2, sync: true })).child({ component: 'local-run', fn: bundle.name });
  // One runtime with a slot per concurrent job; in lambda mode a runtime per concurrent job.
  const pool = new RuntimePool(
    poolOptionsFrom(config, bundle, logger, {
      mode,
      maxRuntimes: mode === 'lambda' ? concurrency : 1,
      photonsPerRuntime: concurrency,
      logFd: 2,
      jobLogLevel: 'off',
    }),
  );
  const outcomes = new Array<LocalOutcome>(inputs.length);
  let next = 0;
  const runOne = async (index: number): Promise<LocalOutcome> => {
    const input = asJson(inputs[index]);
    if (input === NOT_JSON) {
      return {
        index,
        ok: false,
        error: {
          code: ErrorCodes.INPUT_NOT_JSON,
          message: `Input ${index} of "${bundle.name}" is not JSON (a function, a BigInt, a cycle…). Inputs must be JSON, as they are in a queue.`,
        },
      };
    }
    const job = { jobId: String(index), inputs: [input], attempt: 1, timeoutMs: options.timeoutMs };
    let outcome = (await pool.submit(job))[0]!;
    // As in the dispatcher: a job present at a runtime death runs again, alone; a second death
    // with it marks it as the culprit.
    if (outcome.kind === 'runtime-died') {
      outcome = (await pool.submit(job, true))[0]!;
      if (outcome.kind === 'runtime-died') {
        return {
          index,
          ok: false,
          error: {
            ...outcome.error,
            code: ErrorCodes.POISON,
            message: `Input ${index} was present at ${POISON_DEATHS} runtime deaths: ${outcome.error.message}`,
          },
        };
      }
    }
    return outcome.kind === 'done' ? { index, ok: true, value: JSON.parse(outcome.valueJson) as unknown } : { index, ok: false, error: outcome.error };
  };
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const index = next++;
      const local = await runOne(index);
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

const NOT_JSON = Symbol('not JSON');

/**
 * The input as a queue would deliver it (a Date becomes its string), or NOT_JSON where JSON would
 * silently lose something: a function, a symbol, a BigInt, a cycle.
 */
function asJson(input: unknown): unknown {
  const seen = new Set<object>();
  const lossy = (value: unknown): boolean => {
    if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') return true;
    if (value === null || typeof value !== 'object') return false;
    if (seen.has(value)) return true;
    seen.add(value);
    const found = Object.values(value).some(lossy);
    seen.delete(value);
    return found;
  };
  if (input === undefined || lossy(input)) return NOT_JSON;
  return JSON.parse(JSON.stringify(input)) as unknown;
}
