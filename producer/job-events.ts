// Wake-up calls from BullMQ's event stream, one QueueEvents per function: a finished job's
// waiter (invoke) or its run reads the job early. Only a hint: the job hash stays the record.
import { QueueEvents } from 'bullmq';
import type { Cluster, RedisOptions } from 'ioredis';
import { queueName } from '../contract/keys';

type Hint = (jobId: string) => void;

interface Listeners {
  events: QueueEvents;
  ready: Promise<void>;
  jobs: Map<string, Set<Hint>>;
  runs: Map<string, Hint>;
}

export class JobEvents {
  private readonly byFunction = new Map<string, Listeners>();

  constructor(
    /** Asked once per function: QueueEvents copies options, or duplicates a cluster client. */
    private readonly connection: () => RedisOptions | Cluster,
    private readonly prefix: string,
    private readonly cluster: boolean,
  ) {}

  /** Starts listening to `fn`'s events (once); events before this resolves may be missed. */
  watch(fn: string): Promise<void> {
    return this.listeners(fn).ready;
  }

  onJob(fn: string, jobId: string, hint: Hint): () => void {
    const { jobs } = this.listeners(fn);
    const set = jobs.get(jobId) ?? new Set<Hint>();
    set.add(hint);
    jobs.set(jobId, set);
    return () => {
      set.delete(hint);
      if (set.size === 0) jobs.delete(jobId);
    };
  }

  /** `hint` hears about every job whose id is `${runId}.<chunk>`. */
  onRun(fn: string, runId: string, hint: Hint): () => void {
    const { runs } = this.listeners(fn);
    runs.set(runId, hint);
    return () => {
      if (runs.get(runId) === hint) runs.delete(runId);
    };
  }

  async close(): Promise<void> {
    const all = [...this.byFunction.values()];
    this.byFunction.clear();
    await Promise.all(all.map((l) => l.events.close().catch(() => undefined)));
  }

  private listeners(fn: string): Listeners {
    let listeners = this.byFunction.get(fn);
    if (listeners) return listeners;
    const events = new QueueEvents(queueName(fn, this.cluster), { connection: this.connection(), prefix: this.prefix });
    // Connection trouble only delays hints; the readers poll anyway.
    events.on('error', () => undefined);
    const created: Listeners = {
      events,
      ready: events.waitUntilReady().then(
        () => undefined,
        () => undefined,
      ),
      jobs: new Map(),
      runs: new Map(),
    };
    const dispatch = ({ jobId }: { jobId: string }): void => {
      for (const hint of created.jobs.get(jobId) ?? []) hint(jobId);
      const dot = jobId.lastIndexOf('.');
      if (dot > 0) created.runs.get(jobId.slice(0, dot))?.(jobId);
    };
    events.on('completed', dispatch);
    events.on('failed', dispatch);
    listeners = created;
    this.byFunction.set(fn, listeners);
    return listeners;
  }
}
