// The queue a pool holds jobs in: first in first out across many small takes (the array is
// compacted under the hood), cancels keep the others' order, a drain empties it.
import { strict as assert } from 'node:assert';
import { JobQueue } from '../../dispatcher/job-queue';

describe('dispatcher: the job queue', function () {
  it('hands out 20,000 jobs in order, a few at a time, as a runtime answer frees a few slots', function () {
    const queue = new JobQueue<number>();
    for (let n = 0; n < 20_000; n++) queue.push(n);
    const seen: number[] = [];
    while (queue.length > 0) {
      const before = queue.length;
      const taken = queue.take(8);
      assert.equal(queue.length, before - taken.length);
      seen.push(...taken);
      if (seen.length === 10_000) for (let n = 20_000; n < 20_005; n++) queue.push(n);
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 20_005 }, (_, n) => n),
    );
    assert.deepEqual(queue.take(3), []);
  });

  it('removes the jobs a cancel names and keeps the rest in order; a drain takes all', function () {
    const queue = new JobQueue<string>();
    for (let n = 0; n < 3_000; n++) queue.push(n % 3 === 0 ? `chunk#${n}` : `job-${n}`);
    queue.take(1_500);
    const cancelled = queue.removeWhere((id) => id.startsWith('chunk#'));
    assert.equal(cancelled.length, 500);
    assert.equal(cancelled[0], 'chunk#1500');
    assert.equal(queue.length, 1_000);
    assert.deepEqual(queue.take(2), ['job-1501', 'job-1502']);
    const rest = queue.drain();
    assert.equal(rest.length, 998);
    assert.equal(rest.at(-1), 'job-2999');
    assert.equal(queue.length, 0);
  });

  it('fills a room by weight: a chunk that does not fit is split, its rest stays first in line', function () {
    type Entry = { id: string; items: number[] };
    const queue = new JobQueue<Entry>(
      (e) => e.items.length,
      (e, at) => [
        { id: e.id, items: e.items.slice(0, at) },
        { id: e.id, items: e.items.slice(at) },
      ],
    );
    queue.push({ id: 'a', items: [1, 2, 3] });
    queue.push({ id: 'chunk', items: Array.from({ length: 10 }, (_, i) => i) });
    queue.push({ id: 'b', items: [1] });
    assert.equal(queue.weight, 14);
    assert.deepEqual(queue.take(5), [
      { id: 'a', items: [1, 2, 3] },
      { id: 'chunk', items: [0, 1] },
    ]);
    assert.equal(queue.weight, 9);
    assert.deepEqual(queue.take(100, 1), [{ id: 'chunk', items: [2, 3, 4, 5, 6, 7, 8, 9] }], 'at most one entry');
    assert.deepEqual(
      queue.removeWhere((e) => e.id === 'b'),
      [{ id: 'b', items: [1] }],
    );
    assert.equal(queue.weight, 0);
    assert.equal(queue.length, 0);
  });
});
