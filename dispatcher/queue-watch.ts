// Which idle queues have work (ARCHITECTURE.md, "Scheduling / fetching"): one pipelined look at
// the BullMQ keys of every function without a running queue worker. A queue has work when it has
// jobs waiting or prioritized, a delayed job that is due (BullMQ promotes those when a worker
// fetches), or an active job whose lock has expired (its dispatcher died: a worker's stalled-job
// checker takes it back). Its queue worker is then started; the check costs no connection of its own.
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '../contract/redis';
import { queueName } from '../contract/keys';

/** BullMQ scores a delayed job `timestamp * 0x1000 + counter`. */
const DELAY_SCORE_FACTOR = 0x1000;
/** Active jobs whose locks are looked at per idle queue and check. */
const ACTIVE_SAMPLE = 20;

type Replies = [Error | null, unknown][] | null;

export class QueueWatch {
  constructor(
    private readonly redis: () => RedisClient,
    private readonly prefix: string,
    private readonly cluster: boolean,
  ) {}

  /** The functions among `names` whose queues have work for a queue worker. */
  async withWork(names: string[]): Promise<string[]> {
    if (names.length === 0) return [];
    // On a cluster each queue hashes to a slot of its own: one pipeline per queue, sent together.
    const groups = this.cluster ? names.map((n) => [n]) : [names];
    const found = await Promise.all(groups.map((group) => this.check(group)));
    return found.flat();
  }

  private async check(names: string[]): Promise<string[]> {
    const pipeline = this.redis().pipeline();
    for (const name of names) {
      const key = this.keyOf(name);
      pipeline
        .llen(key('wait'))
        .zcard(key('prioritized'))
        .zrange(key('delayed'), 0, 0, 'WITHSCORES')
        .lrange(key('active'), 0, ACTIVE_SAMPLE - 1);
    }
    const replies = await exec(pipeline);
    const now = Date.now();
    const withWork: string[] = [];
    const withActive: [string, string[]][] = [];
    names.forEach((name, i) => {
      const [wait, prioritized, delayed, active] = replies.slice(4 * i, 4 * i + 4).map(([, value]) => value) as [number, number, string[], string[]];
      const due = delayed.length === 2 && Math.floor(Number(delayed[1]) / DELAY_SCORE_FACTOR) <= now;
      if (wait > 0 || prioritized > 0 || due) withWork.push(name);
      else if (active.length > 0) withActive.push([name, active]);
    });
    if (withActive.length > 0) withWork.push(...(await this.withExpiredLocks(withActive)));
    return withWork;
  }

  /** Queues with an active job nobody holds a lock on: a dead dispatcher's. */
  private async withExpiredLocks(queues: [string, string[]][]): Promise<string[]> {
    const pipeline = this.redis().pipeline();
    for (const [name, ids] of queues) for (const id of ids) pipeline.exists(this.keyOf(name)(`${id}:lock`));
    const replies = await exec(pipeline);
    let at = 0;
    const expired: string[] = [];
    for (const [name, ids] of queues) {
      if (replies.slice(at, at + ids.length).some(([, exists]) => exists === 0)) expired.push(name);
      at += ids.length;
    }
    return expired;
  }

  private keyOf(name: string): (suffix: string) => string {
    const base = `${this.prefix}:${queueName(name, this.cluster)}:`;
    return (suffix) => base + suffix;
  }
}

async function exec(pipeline: ChainableCommander): Promise<[Error | null, unknown][]> {
  const replies = (await pipeline.exec()) as Replies;
  if (!replies) throw new Error('Redis answered no replies to the queue check');
  const failed = replies.find(([err]) => err);
  if (failed) throw failed[0]!;
  return replies;
}
