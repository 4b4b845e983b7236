// Runs one BullMQ job on a runtime pool and settles it: its result, its failure (with the retry
// policy), or, when a runtime died under it, a hand-back to the queue or a failure as poison.
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { ErrorCodes, type SerializedError } from '../errors';
import { CHUNK_JOB_NAME, type ChunkData, type ChunkResult } from '../contract/wire';
import { photonsKeys } from '../contract/keys';
import type { RedisClient } from '../contract/redis';
import type { JobLogWriter } from './job-log-writer';
import type { JobRequest } from '../photon-worker/protocol';
import type { JobOutcome } from './waiting';
import { POISON_DEATHS, type RuntimePool } from './runtime-pool';

export class JobRunner {
  constructor(
    private readonly prefix: string,
    private readonly redis: () => RedisClient,
    private readonly logger: Logger,
    /** While shutting down, a runtime retired under a job is no fault of the job's. */
    private readonly closing: () => boolean,
    private readonly jobLogs: JobLogWriter,
  ) {}

  /** Runs a job (or each item of a chunk job) on the pool and gives BullMQ its result, failure or hand-back. */
  async run(name: string, pool: RuntimePool, job: Job, token: string): Promise<unknown> {
    // A job started more often than it finished attempts was handed back before: maybe by a
    // runtime death. Only then is the death count worth a round trip to Redis.
    const solo = job.attemptsStarted > job.attemptsMade + 1 && (await this.deathsOf(name, job.id!)) > 0;
    const attempt = job.attemptsMade + 1;
    const items = job.name === CHUNK_JOB_NAME ? chunkItems(name, job) : undefined;
    // A chunk's items go as one request (its photons are `<jobId>#<index>`), answered together.
    const request: JobRequest = items ? { jobId: job.id!, inputs: items, first: 0, attempt } : { jobId: job.id!, inputs: [job.data as unknown], attempt };
    const outcomes = await pool.submit(request, solo);
    const died = outcomes.find((o) => o.kind === 'runtime-died');
    if (died) return this.handBack(name, job, token, died.error);
    const lines = items
      ? outcomes.flatMap((o, i) => (o.kind === 'runtime-died' ? [] : (o.logs?.map((line) => `item ${i}: ${line}`) ?? [])))
      : logsOf(outcomes[0]!);
    if (lines.length > 0) await this.jobLogs.write(job, lines);
    for (const [i, o] of outcomes.entries()) if (o.kind === 'done') outcomes[i] = storable(name, items ? `${job.id}#${i}` : job.id!, o);
    if (items) {
      const result: ChunkResult = {
        items: outcomes.map((o) => (o.kind === 'done' ? { ok: true, value: JSON.parse(o.valueJson) as unknown } : { ok: false, error: o.error })),
      };
      return result;
    }
    const outcome = outcomes[0]!;
    if (outcome.kind === 'done') return JSON.parse(outcome.valueJson) as unknown;
    this.applyRetryPolicy(job, pool);
    throw toJobError(outcome.error, outcome.kind === 'failed' && outcome.unrecoverable);
  }

  /** A job whose options name no attempts takes its function's `config.attempts` and backoff. */
  private applyRetryPolicy(job: Job, pool: RuntimePool): void {
    const fnConfig = pool.functionConfig;
    // BullMQ stores `attempts: 0` for a job added without attempts (its Job constructor's default),
    // and 0 runs once like 1: only a positive value is the producer's own choice.
    if ((job.opts.attempts ?? 0) > 0 || !fnConfig?.attempts) return;
    // BullMQ decides on retry from the job's options in memory; the count lives in Redis.
    job.opts.attempts = fnConfig.attempts;
    job.opts.backoff = { type: 'exponential', delay: fnConfig.backoffMs ?? 1_000 };
  }

  /** Puts a job back at the head of its queue without spending an attempt, or fails it as poison. */
  private async handBack(name: string, job: Job, token: string, reason: SerializedError): Promise<never> {
    if (!this.closing()) {
      const key = photonsKeys(this.prefix).deaths(name);
      const [[, deaths]] = (await this.redis().multi().hincrby(key, job.id!, 1).expire(key, 86_400).exec()) as [[Error | null, number]];
      if (deaths >= POISON_DEATHS) {
        await this.redis().hdel(key, job.id!);
        throw new UnrecoverableError(
          `${ErrorCodes.POISON}: Job ${job.id} of "${name}" was present at ${deaths} runtime deaths and is failed as poison. Last: ${reason.message}`,
        );
      }
      this.logger.warn({ fn: name, jobId: job.id, reason: reason.message }, 'runtime died under the job: handed back to the queue, to run alone');
    }
    await job.moveToWait(token);
    throw new WaitingError();
  }

  private async deathsOf(name: string, jobId: string): Promise<number> {
    const value = await this.redis().hget(photonsKeys(this.prefix).deaths(name), jobId);
    return value ? Number(value) : 0;
  }
}

function logsOf(outcome: JobOutcome): string[] {
  return (outcome.kind === 'runtime-died' ? undefined : outcome.logs) ?? [];
}

function chunkItems(name: string, job: Job): unknown[] {
  const items = (job.data as Partial<ChunkData> | null)?.items;
  if (!Array.isArray(items)) {
    throw new UnrecoverableError(
      `${ErrorCodes.BAD_JOB}: Job ${job.id} of "${name}" is named "${CHUNK_JOB_NAME}" but its data has no items array. Enqueue chunks with the Photons client, or give the job another name.`,
    );
  }
  return items;
}

/** The error BullMQ stores: the message starts with our code, the stack points at the author's file. */
function toJobError(error: SerializedError, unrecoverable: boolean): Error {
  const message = `${error.code}: ${error.message}`;
  const err = unrecoverable ? new UnrecoverableError(message) : new Error(message);
  if (!unrecoverable && error.name) err.name = error.name;
  const frames = error.stack?.split('\n').slice(1).join('\n');
  err.stack = frames ? `${err.name}: ${message}\n${frames}` : `${err.name}: ${message}`;
  return err;
}

/**
 * Deeper than this, a result that its runtime could encode may still overflow the stack of the
 * dispatcher's main thread when BullMQ stores it (a thread has a larger stack than the main one).
 */
export const MAX_RESULT_DEPTH = 1_000;

/** The outcome as it may be stored: a result nested too deep fails its own job, nothing else. */
function storable(name: string, jobId: string, outcome: JobOutcome & { kind: 'done' }): JobOutcome {
  // Nesting d levels takes at least 2d characters: short results need no scan.
  if (outcome.valueJson.length <= 2 * MAX_RESULT_DEPTH) return outcome;
  const depth = nestingOf(outcome.valueJson);
  if (depth <= MAX_RESULT_DEPTH) return outcome;
  return {
    kind: 'failed',
    unrecoverable: true,
    error: {
      code: ErrorCodes.RESULT_NOT_JSON,
      message: `Function "${name}" returned a value nested ${depth} levels deep (job ${jobId}); results may nest at most ${MAX_RESULT_DEPTH} levels. Return a flatter value.`,
    },
  };
}

/** How deep arrays and objects nest in a JSON text (brackets inside strings do not count). */
function nestingOf(json: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
