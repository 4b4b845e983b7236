// Per-job bookkeeping of a fault scenario: job ids known in advance, enqueued at a steady rate,
// then each job's fate read from its BullMQ hash (finishedOn, returnvalue, failedReason, stalled
// count) and its run count from the side channel, so completions, losses and duplicates are counted.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { producerConnection } from '../../contract/redis';
import type { Counts, ScenarioSize } from './scenario';
import type { TallyInput } from './side-channel';
import { sleep, until, type Fleet, type Member } from './fleet';

export interface JobOutcome {
  completed: boolean;
  failedReason: string | undefined;
  /** Finished runs, from the side channel: 2 or more is a duplicate. */
  runs: number;
  finishedOn: number | undefined;
  /** Times the job was taken back from a dispatcher that lost it (BullMQ's stalled counter). */
  stalled: number;
}

/** The run-count hash of a scenario. */
export function runsKey(prefix: string): string {
  return `${prefix}:faults:runs`;
}

export function jobIds(scenario: string, count: number): string[] {
  // Not plain integers: BullMQ keeps those for its own ids.
  return Array.from({ length: count }, (_, i) => `${scenario}-${i}`);
}

export interface EnqueueOptions {
  fn: string;
  ids: readonly string[];
  input: (i: number) => TallyInput & Record<string, unknown>;
  /** Jobs per second; the whole workload is spread over ids.length / rate seconds. */
  ratePerSec: number;
  /** Give up on a chunk Redis keeps refusing after this long (the scenario then counts it unacknowledged). */
  retryForMs?: number;
}

/**
 * The workload of the scenarios that hit the dispatchers or Redis: `dispatchers` dispatcher
 * processes, serving, then tally jobs of 50 ms enqueued at a steady rate. Resolves once a third of
 * them have completed, which is when the fault strikes.
 */
export async function tallyRun(fleet: Fleet, url: string, prefix: string, scenario: string, dispatchers: number, { jobs, quick }: ScenarioSize) {
  const members: Member[] = Array.from({ length: dispatchers }, () => fleet.spawn('dispatcher'));
  await Promise.all(members.map((d) => fleet.serving(d)));
  const ids = jobIds(scenario, jobs);
  const enqueued = enqueue(url, prefix, { fn: 'tally', ids, ratePerSec: quick ? 400 : 500, input: (i) => ({ i, ms: 50, url, key: runsKey(prefix) }) });
  await until('a third of the jobs to complete', async () => (await fleet.redis.zcard(`${prefix}:tally:completed`)) >= jobs / 3, 120_000, 100);
  return { dispatchers: members, ids, enqueued };
}

/**
 * Adds the jobs in chunks at a steady rate, as a producer does, and returns the ids whose add
 * Redis acknowledged. A refused chunk is retried with the same ids: BullMQ ignores an id it has.
 */
export async function enqueue(url: string, prefix: string, options: EnqueueOptions): Promise<string[]> {
  const queue = new Queue(options.fn, { connection: producerConnection(url), prefix });
  queue.on('error', () => undefined);
  const acked: string[] = [];
  const chunk = Math.max(1, Math.round(options.ratePerSec / 10));
  const started = Date.now();
  try {
    for (let first = 0; first < options.ids.length; first += chunk) {
      const ids = options.ids.slice(first, first + chunk);
      const jobs = ids.map((jobId, k) => ({ name: options.fn, data: options.input(first + k), opts: { jobId } }));
      const giveUpAt = Date.now() + (options.retryForMs ?? 60_000);
      for (;;) {
        try {
          await queue.addBulk(jobs);
          acked.push(...ids);
          break;
        } catch {
          if (Date.now() > giveUpAt) break;
          await sleep(200);
        }
      }
      const due = started + ((first + chunk) / options.ratePerSec) * 1000;
      await sleep(Math.max(0, due - Date.now()));
    }
    return acked;
  } finally {
    await queue.close().catch(() => undefined);
  }
}

/**
 * Waits until `count` jobs of the function have finished (completed or failed), or until nothing
 * has finished for `idleMs`: what never finishes by then is lost.
 */
export async function settle(redis: Redis, prefix: string, fn: string, count: number, idleMs = 30_000): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const [completed, failed] = await Promise.all([redis.zcard(`${prefix}:${fn}:completed`), redis.zcard(`${prefix}:${fn}:failed`)]);
    const finished = completed + failed;
    if (finished >= count) return;
    if (finished !== last) {
      last = finished;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > idleMs) {
      return;
    }
    await sleep(250);
  }
}

/** Each job's outcome, read in pipelined batches. */
export async function readOutcomes(redis: Redis, prefix: string, fn: string, ids: readonly string[]): Promise<Map<string, JobOutcome>> {
  const outcomes = new Map<string, JobOutcome>();
  const runs = await redis.hgetall(runsKey(prefix));
  for (let first = 0; first < ids.length; first += 1_000) {
    const batch = ids.slice(first, first + 1_000);
    const pipeline = redis.pipeline();
    for (const id of batch) pipeline.hmget(`${prefix}:${fn}:${id}`, 'finishedOn', 'returnvalue', 'failedReason', 'stc');
    const replies = (await pipeline.exec()) ?? [];
    batch.forEach((id, k) => {
      const [finishedOn, returnvalue, failedReason, stalled] = (replies[k]?.[1] as Array<string | null> | undefined) ?? [];
      outcomes.set(id, {
        completed: Boolean(finishedOn) && !failedReason && returnsIndex(returnvalue, id),
        failedReason: failedReason ?? undefined,
        runs: Number(runs[id] ?? 0),
        finishedOn: finishedOn ? Number(finishedOn) : undefined,
        stalled: Number(stalled ?? 0),
      });
    });
  }
  return outcomes;
}

/** The result must be this job's own ({ i } with the index its id ends in), not a neighbour's. */
function returnsIndex(returnvalue: string | null | undefined, id: string): boolean {
  if (!returnvalue) return false;
  try {
    return (JSON.parse(returnvalue) as { i?: unknown }).i === Number(id.slice(id.lastIndexOf('-') + 1));
  } catch {
    return false;
  }
}

/** Jobs that must complete, against what happened to them. */
export function count(outcomes: Map<string, JobOutcome>, mustComplete: readonly string[]): Counts {
  let completed = 0;
  let duplicated = 0;
  for (const id of mustComplete) {
    const outcome = outcomes.get(id);
    if (outcome?.completed) completed++;
    if ((outcome?.runs ?? 0) > 1) duplicated++;
  }
  return { jobs: mustComplete.length, completed, duplicated, lost: mustComplete.length - completed };
}

/** From `since` to the last finish among `ids` (the jobs a fault interrupted); undefined if none. */
export function recoveryMs(outcomes: Map<string, JobOutcome>, ids: Iterable<string>, since: number): number | undefined {
  let last: number | undefined;
  for (const id of ids) {
    const finishedOn = outcomes.get(id)?.finishedOn;
    if (finishedOn !== undefined && (last === undefined || finishedOn > last)) last = finishedOn;
  }
  return last === undefined ? undefined : Math.max(0, last - since);
}

/** The ids a dispatcher lost and another took back. */
export function takenBack(outcomes: Map<string, JobOutcome>): string[] {
  return [...outcomes].filter(([, o]) => o.stalled > 0).map(([id]) => id);
}
