// A queue worker's commands of one event-loop turn reach Redis in one write to its socket (a
// system call here, a read in redis-server), with the same replies in the same order, and a
// client that reconnected still coalesces. Writes are counted where they reach the kernel (the
// socket's _write and _writev), which Redis' own read count cannot show reliably: a busy Redis
// reads many separate writes at once.
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { coalesceWrites } from '../../dispatcher/coalesce-writes';
import { startRedisServer, type LocalRedis } from '../../dispatcher/redis-server';

describe('dispatcher: coalesced writes to Redis', function () {
  this.timeout(30_000);
  let redis: LocalRedis;

  before(async () => {
    redis = await startRedisServer();
  });

  after(async () => {
    await redis.stop();
  });

  /** Counts what the client's current socket hands to the kernel: one call per system call. */
  function countWrites(client: Redis): () => number {
    const socket = client.stream as Socket & { _write: Socket['_write']; _writev?: Socket['_writev'] };
    let writes = 0;
    const write = socket._write.bind(socket);
    socket._write = (...args) => {
      writes++;
      write(...args);
    };
    const writev = socket._writev?.bind(socket);
    if (writev) {
      socket._writev = (...args) => {
        writes++;
        writev(...args);
      };
    }
    return () => writes;
  }

  /** Sends `count` INCRs in one turn: the replies, and how many socket writes carried them. */
  async function burst(client: Redis, key: string, count: number): Promise<{ replies: number[]; writes: number }> {
    const writes = countWrites(client);
    const replies = await Promise.all(Array.from({ length: count }, () => client.incr(key)));
    return { replies, writes: writes() };
  }

  it('sends the commands of one turn in one write, with every reply in order', async () => {
    const plain = new Redis(redis.url);
    const coalesced = new Redis(redis.url);
    coalesceWrites(coalesced);
    try {
      await Promise.all([plain.ping(), coalesced.ping()]);
      const together = await burst(coalesced, 'coalesced', 200);
      assert.deepEqual(
        together.replies,
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      assert.equal(together.writes, 1, `200 commands of one turn took ${together.writes} socket writes`);
      // The same burst from a plain client: a write per command (fewer only if the socket's buffer filled).
      const alone = await burst(plain, 'plain', 200);
      assert.ok(alone.writes >= 100, `a plain client wrote 200 commands in ${alone.writes} writes`);
    } finally {
      plain.disconnect();
      coalesced.disconnect();
    }
  });

  it('keeps coalescing on the new socket after Redis drops the connection', async () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    const admin = new Redis(redis.url);
    coalesceWrites(client);
    try {
      await client.ping();
      const readyAgain = once(client, 'ready');
      const socket = client.stream;
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await readyAgain;
      assert.notEqual(client.stream, socket);
      assert.equal(await client.set('after', 'reconnect'), 'OK');
      const { replies, writes } = await burst(client, 'again', 100);
      assert.equal(replies.at(-1), 100);
      assert.equal(writes, 1, `100 commands after the reconnect took ${writes} socket writes`);
    } finally {
      client.disconnect();
      admin.disconnect();
    }
  });
});
