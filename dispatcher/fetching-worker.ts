// A BullMQ Worker that fetches as many jobs as its function can admit now (ARCHITECTURE.md,
// "Scheduling / fetching"), instead of a fixed `concurrency`.
//
// BullMQ's own main loop reads `concurrency` only when a job finishes: a limit raised while every
// slot is busy is seen seconds later, so it cannot follow a pool whose photon slots grow. This loop
// uses BullMQ's manual-fetching API (`getNextJob`) and hands each job to BullMQ's own `processJob`,
// which keeps everything else as BullMQ does it: the job's lock is tracked and renewed by the
// worker's lock manager, completion, failure, retries and the next job fetched with the answer
// (`moveToFinished`). The stalled-job checker runs as with `run()`, and `close()` waits for this
// loop and its jobs, as it waits for BullMQ's own (graceful shutdown hands jobs back through them).
import { setTimeout as delay } from 'node:timers/promises';
import { Worker, type Job, type Processor, type WorkerOptions } from 'bullmq';
import { coalesceWrites } from './coalesce-writes';

/** While nothing can be admitted, how often the room is looked at again (it also grows with the pool's slots). */
const RECHECK_MS = 50;
/** After a Redis error, the wait before fetching again. */
const RETRY_MS = 1_000;
/**
 * Fetches under way at once while the queue has jobs: each fetch is a round trip to Redis, so one at
 * a time (as BullMQ's own loop fetches) leaves a deep queue waiting on latency, not on Redis.
 */
const MAX_LANES = 8;

export class FetchingWorker extends Worker {
  private tokens = 0;
  private readonly chains = new Set<Promise<unknown>>();
  private wake: (() => void) | undefined;
  /** Fetches under way: jobs on their way from Redis, not yet in the pool, so not in its load. */
  private pending = 0;
  /** Fetches under way, and how many may be: one after an empty fetch, doubling while jobs come. */
  private readonly lanes = new Set<Promise<void>>();
  private width = 1;
  /** Empty fetches in a row with one lane. */
  private empties = 0;
  /**
   * Chains whose job is answered and whose next job is on its way with the answer: that next job
   * counts in `pending`, so the answered one must not count in `unanswered` too (it shrank the room of
   * a worker with a fixed concurrency, whose chains then ended and lanes fetched in extra round trips).
   */
  private handing = 0;
  /** Who holds each job now (its chain's token) and since when. */
  private readonly holders = new Map<string, { token: string; at: number }>();
  /** When this worker last held a job (or started): the dispatcher stops it when idle past keep-alive. */
  lastBusyAt = Date.now();

  constructor(
    name: string,
    processor: Processor,
    opts: WorkerOptions,
    /**
     * How many more jobs may be fetched now (the pool's free room, within the budget and any
     * explicit cap), holding `held` jobs with `pending` more on their way.
     */
    private readonly room: (held: number, pending: number) => number,
    private readonly onError: (err: unknown) => void,
  ) {
    super(name, processor, { ...opts, autorun: false });
    // Answers come from a runtime many at a time: their commands leave in one write. A connection
    // that fails is reported by BullMQ itself.
    this.client.then(coalesceWrites, () => undefined);
  }

  /** Jobs fetched and not finished yet (answered ones among them until BullMQ has stored the answer). */
  get held(): number {
    return this.chains.size;
  }

  /** Jobs held and not answered yet: what counts against the room. */
  private get unanswered(): number {
    return this.chains.size - this.handing;
  }

  /** Starts fetching; close() stops it and waits until its last job is answered or handed back. */
  start(): void {
    void this.startStalledCheckTimer().catch(this.onError);
    if (!this.opts.skipLockRenewal) this.lockManager.start();
    // close() waits for this promise, as it waits for BullMQ's main loop.
    this.mainLoopRunning = this.fetchLoop();
  }

  /** Something changed (a job answered, slots grew): look at the room again now. */
  nudge(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async fetchLoop(): Promise<void> {
    while (!this.closing) {
      if (this.lanes.size >= this.width || this.room(this.unanswered, this.pending) <= 0) {
        // A lane that ends, a job answered or slots grown nudge this rest short.
        await this.rest(RECHECK_MS);
        continue;
      }
      const lane = this.fetchOne()
        .catch(this.onError)
        .finally(() => {
          this.lanes.delete(lane);
          this.nudge();
        });
      this.lanes.add(lane);
    }
    await Promise.all(this.lanes);
    await Promise.all(this.chains);
  }

  /** Fetches one job into the pool; the lanes widen while jobs keep coming and narrow to one when none came. */
  private async fetchOne(): Promise<void> {
    const token = `${this.id}:${this.tokens++}`;
    let job: Job | undefined;
    const alone = this.width === 1;
    this.pending++;
    try {
      // Blocks on the queue's marker while it is empty; close() disconnects that connection.
      job = await this.getNextJob(token, { block: true });
    } catch (err) {
      this.pending--;
      this.width = 1;
      if (this.closing) return;
      this.onError(err);
      await delay(RETRY_MS);
      return;
    }
    this.pending--;
    if (job) {
      this.empties = 0;
      // Synchronously into the pool (the processor submits before its first await): the pool's load counts it from here.
      this.process(job, token);
      this.width = Math.min(MAX_LANES, this.width * 2);
      return;
    }
    this.width = 1;
    // No job. Once is common and fetched again at once (a blocking wait that timed out, a marker
    // with no job behind it, the queue emptied by the other lanes): resting would hold the next
    // job back. Twice in a row with one lane is how a rate-limited queue answers, at once and
    // without a round trip to Redis, and fetching straight on would spin on promises and starve
    // this thread's timers (lock renewal, the runtimes' watchdog): look again a little later.
    if (alone && ++this.empties >= 2) await delay(RECHECK_MS);
  }

  /** Runs a job, then the next one BullMQ fetched with its answer, while there is room. */
  private process(first: Job, token: string): void {
    const work = (async () => {
      let job: Job | void = first;
      while (job) {
        this.lastBusyAt = Date.now();
        let fetching = false;
        const fetchNext = (): boolean => {
          // BullMQ asks again when storing the answer failed (handleFailed after handleCompleted, or
          // a retry): the next job is on its way once at most, or the count of jobs on their way
          // grows by one each time, until it fills the room and the worker fetches nothing more.
          if (fetching) return true;
          // unanswered - 1: this chain's own job is answered, so it does not count against the next one.
          fetching = !this.closing && this.room(this.unanswered - 1, this.pending) > 0;
          if (fetching) {
            this.pending++;
            this.handing++;
          }
          return fetching;
        };
        const id = job.id!;
        this.holders.set(id, { token, at: Date.now() });
        try {
          job = await this.processJob(job, token, fetchNext);
        } finally {
          if (fetching) {
            this.pending--;
            this.handing--;
          }
          this.release(id, token);
        }
      }
      this.lastBusyAt = Date.now();
    })().catch(this.onError);
    this.chains.add(work);
    void work.finally(() => {
      this.chains.delete(work);
      this.nudge();
    });
  }

  /**
   * A job handed back to its queue (a runtime died under it) may be fetched again by another chain
   * before this one has finished with it; BullMQ's processJob then stops renewing the lock of the
   * new holder when it ends here (the lock manager tracks jobs by id). Tracked again, its lock lives.
   */
  private release(id: string, token: string): void {
    const holder = this.holders.get(id);
    if (holder?.token === token) this.holders.delete(id);
    else if (holder) this.lockManager.trackJob(id, holder.token, holder.at);
  }

  private rest(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
