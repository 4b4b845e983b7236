// Benchmark fixture of `photons bench pool`: the same work for the project's pool (as a function
// file) and for piscina (through bench/pool-piscina-task.ts). Each answer says which thread ran it
// and that thread's heap, so the bench can add up the heap of the threads it used.
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';
import { threadId } from 'node:worker_threads';

export type PoolWork = { kind: 'io'; ms: number } | { kind: 'cpu'; rounds: number } | { kind: 'out-of-heap' };

export interface PoolWorkAnswer {
  threadId: number;
  heapUsed: number;
}

export default async function poolWork(input: PoolWork): Promise<PoolWorkAnswer> {
  if (input.kind === 'io') await delay(input.ms);
  else if (input.kind === 'cpu') {
    let digest = Buffer.alloc(32);
    for (let i = 0; i < input.rounds; i++) digest = createHash('sha256').update(digest).digest();
  } else {
    // Fills the heap until the thread dies of it: what a runtime crash looks like in production.
    const hoard: number[][] = [];
    for (;;) hoard.push(Array.from({ length: 100_000 }, (_, i) => i + hoard.length));
  }
  return { threadId, heapUsed: getHeapStatistics().used_heap_size };
}
