// Every Redis key name Photons uses, built here and nowhere else (as BullMQ's QueueKeys builds a
// queue's): a producer and a dispatcher agree on a key because both ask this file for it. Our own
// keys live beside BullMQ's under `<prefix>:__photons:`; none of our commands spans two keys, so
// they work unchanged on a cluster, where each key may sit on another shard.
import type { Channel } from './channels';

/** A key of our own, next to the BullMQ queues of the same prefix. */
export function photonsKey(prefix: string, ...parts: string[]): string {
  return [prefix, '__photons', ...parts].join(':');
}

/**
 * The BullMQ queue of a function. On a cluster its name is a hash tag, `{fn}`: every key of one
 * queue then hashes to one slot (BullMQ's scripts need that), and the functions spread over the
 * shards. On one Redis it is the bare name, so that a plain `new Queue(fn)` reaches it.
 */
export function queueName(fn: string, cluster: boolean): string {
  return cluster ? `{${fn}}` : fn;
}

/** The key of a job's hash in BullMQ's layout: <prefix>:<queue>:<jobId>. */
export function jobKey(prefix: string, fn: string, cluster: boolean, jobId: string): string {
  return `${prefix}:${queueName(fn, cluster)}:${jobId}`;
}

/** The hash of a queue's settings, where BullMQ keeps a queue's global concurrency and rate limit. */
export function queueMetaKey(prefix: string, fn: string, cluster: boolean): string {
  return `${prefix}:${queueName(fn, cluster)}:meta`;
}

/** BullMQ's rate-limit counter of a queue: jobs started in the current window, expiring with it. */
export function queueLimiterKey(prefix: string, fn: string, cluster: boolean): string {
  return `${prefix}:${queueName(fn, cluster)}:limiter`;
}

/** The keys of one prefix. */
export class PhotonsKeys {
  constructor(readonly prefix: string) {}

  /** Hash: function name → its registry entry (file and hash, or why it does not load), kept by the dispatchers. */
  get functions(): string {
    return photonsKey(this.prefix, 'functions');
  }

  /** Sorted set of dispatcher ids, scored by when their heartbeat expires. */
  get dispatcherRoll(): string {
    return photonsKey(this.prefix, 'dispatchers');
  }

  /** One dispatcher's heartbeat (a DispatcherStats as JSON), expiring unless renewed. */
  heartbeat(dispatcherId: string): string {
    return photonsKey(this.prefix, 'dispatcher', dispatcherId);
  }

  /** Hash of a run's metadata (client.map), expiring with its results. */
  run(runId: string): string {
    return photonsKey(this.prefix, 'run', runId);
  }

  /** Sorted set of the newest runs' ids, scored by when they started: the dashboard's list of runs. */
  get recentRuns(): string {
    return photonsKey(this.prefix, 'recent-runs');
  }

  /** Tombstone of a job cancelled before it ran: its function name. */
  cancelled(jobId: string): string {
    return photonsKey(this.prefix, 'cancelled', jobId);
  }

  /** A deployed bundle, by content hash. */
  bundle(hash: string): string {
    return photonsKey(this.prefix, 'bundle', hash);
  }

  /** Hash: function name → the content hash of its current deployed version. */
  get deployed(): string {
    return photonsKey(this.prefix, 'deployed');
  }

  /** Hash of a function: job id → the version (content hash) that ran it. */
  versions(fn: string): string {
    return photonsKey(this.prefix, 'versions', fn);
  }

  /** Hash of a function: job id → how often a runtime died under it. */
  deaths(fn: string): string {
    return photonsKey(this.prefix, 'deaths', fn);
  }

  /** Hash: schedule id → its record (function, timing, input, paused); ids are one namespace across functions. */
  get schedules(): string {
    return photonsKey(this.prefix, 'schedules');
  }

  /** Hash: function name → the limits a dispatcher last applied to its queue, and from which version. */
  get queueLimits(): string {
    return photonsKey(this.prefix, 'limits');
  }

  /** A pub/sub channel under the prefix. */
  channel(name: Channel): string {
    return photonsKey(this.prefix, name);
  }
}

export function photonsKeys(prefix: string): PhotonsKeys {
  return new PhotonsKeys(prefix);
}
