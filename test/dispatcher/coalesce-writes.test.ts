// A queue worker's commands of one event-loop turn reach Redis in one write: fewer system calls on
// both sides, the same replies in the same order, and a reconnected client still coalesces.
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { coalesceWrites } from '../../dispatcher/coalesce-writes';
import { startRedisServer, type LocalRedis } from '../../dispatcher/redis-server';

describe('dispatcher: coalesced writes to Redis', function () {
  this.timeout(30_000);
  let redis: LocalRedis;
  let info: Redis;

  before(async () => {
    // A Redis of its own: its count of socket reads is this test's alone.
    redis = await startRedisServer();
    info = new Redis(redis.url);
  });

  after(async () => {
    info.disconnect();
    await redis.stop();
  });

  const reads = async (): Promise<number> => Number(/total_reads_processed:(\d+)/.exec(await info.info('stats'))?.[1]);

  /** Sends `count` INCRs in one turn; the replies and how many socket reads Redis needed for them. */
  async function burst(client: Redis, key: string, count: number): Promise<{ replies: number[]; reads: number }> {
    const before = await reads();
    const replies = await Promise.all(Array.from({ length: count }, () => client.incr(key)));
    // The INFO that reads the count after is one read of its own.
    return { replies, reads: (await reads()) - before - 1 };
  }

  it('sends the commands of one turn in one write, with every reply in order', async () => {
    const plain = new Redis(redis.url);
    const coalesced = new Redis(redis.url);
    coalesceWrites(coalesced);
    try {
      await Promise.all([plain.ping(), coalesced.ping()]);
      const alone = await burst(plain, 'plain', 200);
      const together = await burst(coalesced, 'coalesced', 200);
      assert.deepEqual(
        together.replies,
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      assert.ok(together.reads <= 3, `200 commands of one turn took ${together.reads} socket reads in Redis`);
      // The same burst from a plain client: a write, and mostly a read, per command.
      assert.ok(alone.reads > 10 * together.reads, `plain ${alone.reads} reads, coalesced ${together.reads}`);
    } finally {
      plain.disconnect();
      coalesced.disconnect();
    }
  });

  it('keeps coalescing on the new socket after Redis drops the connection', async () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    coalesceWrites(client);
    try {
      await client.ping();
      const readyAgain = once(client, 'ready');
      const socket = client.stream;
      await info.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await readyAgain;
      assert.notEqual(client.stream, socket);
      assert.equal(await client.set('after', 'reconnect'), 'OK');
      const { replies, reads } = await burst(client, 'again', 100);
      assert.equal(replies.at(-1), 100);
      assert.ok(reads <= 3, `100 commands after the reconnect took ${reads} socket reads`);
    } finally {
      client.disconnect();
    }
  });
});
