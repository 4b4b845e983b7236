// A map-reduce run: a map run whose results one job of the reduce function reads, in input order,
// with ctx.results(). A run of a million items cannot be a BullMQ flow (a flow adds every child at
// once), so the run's own bookkeeping starts the reduce: whichever process follows the run to its
// end adds the reduce job under an id derived from the run id, which BullMQ adds once however many
// processes, restarts or resumes add it. See ARCHITECTURE.md, "Map-reduce".
import { reduceJobId, type ReduceInput } from '../contract/run-results';
import type { Outcome } from '../contract/jobs';
import { ErrorCodes, JobFailedError, PhotonsError } from '../errors';
import type { MapRun } from './map-run';
import type { RunProgress } from './types';

/** How the client adds and waits for the reduce job (producer/client.ts). */
export interface ReduceHooks {
  /** Whether the run's record says its reduce job was added before. */
  addedBefore: (runId: string) => Promise<boolean>;
  /** Whether the reduce job is in Redis. */
  exists: (jobId: string) => Promise<boolean>;
  /** Adds the reduce job with the given id (adding an id already there adds nothing), then notes it on the run's record. */
  add: (jobId: string, input: ReduceInput) => Promise<void>;
  /** Waits for the reduce job's end up to `timeoutMs`: its outcome, or none yet. */
  wait: (jobId: string, timeoutMs: number) => Promise<Outcome | undefined>;
}

export interface MapReduceResultOptions {
  /** Longest wait for the reduce's result, in ms, from this call. Default: no limit. */
  timeoutMs?: number;
}

// One wait on the reduce job at a time, then another: a long reduce holds no single timer for hours.
const WAIT_SLICE_MS = 60_000;

export class MapReduceRun<R = unknown> {
  readonly id: string;
  readonly fn: string;
  /** The reduce job's id in the queue of `reduceFn`: the same for every process that follows the run. */
  readonly reduceJobId: string;
  private readonly started: Promise<ReduceInput>;

  constructor(
    private readonly map: MapRun,
    readonly reduceFn: string,
    private readonly hooks: ReduceHooks,
  ) {
    this.id = map.id;
    this.fn = map.fn;
    this.reduceJobId = reduceJobId(map.id);
    // The results go to the reducer, not to this process: following the run to its end is what starts the reduce.
    this.started = this.startReduce();
    this.started.catch(() => undefined);
  }

  /** The map's counts (the reduce is one more job, read with result()). */
  progress(): RunProgress {
    return this.map.progress();
  }

  /** Resolves with the reduce job's input once the job is added; rejects if the map did not end with every result in. */
  reduceStarted(): Promise<ReduceInput> {
    return this.started;
  }

  /** The reducer's result; a failed reduce rejects with JobFailedError, a failed or cancelled map with PHOTONS_ERR_RUN_FAILED. */
  async result(options: MapReduceResultOptions = {}): Promise<R> {
    await this.started;
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      const outcome = await this.hooks.wait(this.reduceJobId, Math.max(0, Math.min(left, WAIT_SLICE_MS)));
      if (outcome) {
        if (!outcome.ok) throw new JobFailedError(this.reduceFn, this.reduceJobId, outcome.error);
        return outcome.value as R;
      }
      if (left <= WAIT_SLICE_MS) {
        throw new PhotonsError(
          ErrorCodes.WAIT_TIMEOUT,
          `The reduce job ${this.reduceJobId} of "${this.reduceFn}" has no result after ${options.timeoutMs} ms; it goes on: read it later with result("${this.reduceJobId}") or resume the run ${this.id}.`,
        );
      }
    }
  }

  /** Cancels the map (its unfinished items fail as cancelled); the reduce then does not start. */
  cancel(): Promise<void> {
    return this.map.cancel();
  }

  private async startReduce(): Promise<ReduceInput> {
    const progress = await this.map.finished();
    if (progress.state !== 'done') {
      throw new PhotonsError(
        ErrorCodes.RUN_FAILED,
        `Run ${this.id} of "${this.fn}" ended ${progress.state} with ${progress.done} of ${progress.total ?? progress.enqueued} results in: its reduce "${this.reduceFn}" does not start.`,
      );
    }
    const input: ReduceInput = { runId: this.id, fn: this.fn, total: progress.done, ok: progress.done - progress.failed, failed: progress.failed };
    // Added once and gone since (expired, removed): BullMQ would add it again, and the reduce would run twice.
    if ((await this.hooks.addedBefore(this.id)) && !(await this.hooks.exists(this.reduceJobId))) {
      throw new PhotonsError(
        ErrorCodes.JOB_NOT_FOUND,
        `The reduce job ${this.reduceJobId} of run ${this.id} ran and is no longer in Redis (expired or removed): it is not run again.`,
      );
    }
    await this.hooks.add(this.reduceJobId, input);
    return input;
  }
}
