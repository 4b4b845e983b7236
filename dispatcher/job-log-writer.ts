// Adds the lines jobs logged to their BullMQ job logs (the `<queue>:<id>:logs` list that
// `job.log`, `queue.getJobLogs` and bull-board read), in one pipeline per queue per turn of the
// event loop however many jobs answered in it (ARCHITECTURE.md, "Job logs").
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { RedisClient } from '../contract/redis';

interface Pending {
  key: string;
  lines: string[];
  keep: number;
}

export class JobLogWriter {
  /** Per queue: on a Redis Cluster a pipeline may only touch one slot, and a queue's keys share one. */
  private batches = new Map<string, Pending[]>();
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly redis: () => RedisClient,
    /** Lines kept per job unless the job's keepLogs option says otherwise; 0: no bound. */
    private readonly keep: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Resolves once the lines are stored (or could not be: a job log is never worth failing a job).
   * Awaited before the job completes, so a job removed on completion takes its log with it.
   */
  write(job: Job, lines: string[]): Promise<void> {
    const queue = job.queueQualifiedName;
    let batch = this.batches.get(queue);
    if (!batch) this.batches.set(queue, (batch = []));
    batch.push({ key: `${queue}:${job.id}:logs`, lines, keep: job.opts.keepLogs ?? this.keep });
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
    return this.flushing;
  }

  private async flush(): Promise<void> {
    const batches = this.batches;
    this.batches = new Map();
    this.flushing = undefined;
    await Promise.all(
      [...batches.values()].map(async (batch) => {
        const pipeline = this.redis().pipeline();
        for (const { key, lines, keep } of batch) {
          pipeline.rpush(key, ...lines);
          if (keep > 0) pipeline.ltrim(key, -keep, -1);
        }
        try {
          const replies = (await pipeline.exec()) ?? [];
          const failed = replies.find(([err]) => err);
          if (failed) this.logger.warn({ err: failed[0] }, 'job log lines not stored');
        } catch (err) {
          this.logger.warn({ err }, 'job log lines not stored');
        }
      }),
    );
  }
}
