// Where a dispatcher's runtime threads come from (ARCHITECTURE.md, "Cold starts"). Booting a worker
// thread is CPU work (tens of milliseconds of a core for Node's own start, more for the runtime
// code): a burst of first jobs to hundreds of functions that starts every thread at once shares
// the cores among all of them, so every one of them is late and they all finish together. So
// threads boot at most one per core at a time, in the order they were asked for, and the first
// jobs finish one after another instead. Booted, empty threads are kept ready for the next cold
// start (OpenWhisk's "prewarm" stem cells): loading a function into one takes about a millisecond.
// They are refilled when no runtime waits for a thread, ahead of demand. A spare costs the memory
// of an empty thread (~8 MB).
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * A boot slot is given back after this long even if the function has not loaded yet: a top level
 * that awaits (a download, a connection) is not using the CPU, and must not hold up other cold starts.
 */
export const BOOT_SLOT_MAX_MS = 1_000;

export const RUNTIME_THREAD = path.join(__dirname, '..', 'photon-worker', 'runtime-thread.js');

/** `ownStdout`: the thread's stdout is a stream for the host to route, not piped to the process's. */
export function startRuntimeThread(memoryMb: number, name: string, ownStdout = false): Worker {
  return new Worker(RUNTIME_THREAD, { resourceLimits: { maxOldGenerationSizeMb: memoryMb }, name, stdout: ownStdout });
}

/** A runtime's claim on a thread: it says when its function has loaded, or that it needs none any more. */
export interface ThreadClaim {
  /** The thread has booted and loaded its function (or failed to, or died): the next one may boot. */
  booted(): void;
  /** No thread is needed any more (the runtime is retired before it got one); frees its boot slot. */
  cancel(): void;
}

interface Waiting {
  memoryMb: number;
  name: string;
  grant: (worker: Worker) => void;
  claim: ThreadClaim;
}

export class SpareThreads {
  private readonly spares = new Set<Worker>();
  /** Spares still booting: they count against `count` and against the boot slots. */
  private readonly booting = new Set<Worker>();
  private waiting: Waiting[] = [];
  /** Threads booting for runtimes, not yet loaded. */
  private runtimeBoots = 0;
  private closed = false;

  /**
   * Keeps `count` booted threads with a heap limit of `memoryMb`; at most `bootsAtOnce` threads
   * boot at a time (one per core by default), each holding its slot until its function has loaded,
   * or for `slotMaxMs` at most.
   */
  constructor(
    private readonly count: number,
    private readonly memoryMb: number,
    readonly bootsAtOnce: number = availableParallelism(),
    private readonly slotMaxMs = BOOT_SLOT_MAX_MS,
  ) {
    this.pump();
  }

  /** Runtimes waiting for a boot slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * A thread for a runtime: a booted spare of that heap limit at once (`grant` is called before this
   * returns), else a new thread as soon as a boot slot is free. The runtime calls `booted` once its
   * function has loaded, or `cancel` if it no longer needs the thread.
   */
  request(memoryMb: number, name: string, grant: (worker: Worker) => void): ThreadClaim {
    const spare = memoryMb === this.memoryMb ? this.takeSpare() : undefined;
    if (spare) {
      grant(spare);
      this.pump();
      return { booted: () => undefined, cancel: () => undefined };
    }
    let state: 'waiting' | 'booting' | 'done' = 'waiting';
    const claim: ThreadClaim = {
      booted: () => {
        if (state === 'booting') {
          this.runtimeBoots--;
          this.pump();
        }
        state = 'done';
      },
      cancel: () => {
        if (state === 'waiting') this.waiting = this.waiting.filter((w) => w.claim !== claim);
        claim.booted();
      },
    };
    this.waiting.push({
      memoryMb,
      name,
      claim,
      grant: (worker) => {
        state = 'booting';
        setTimeout(() => claim.booted(), this.slotMaxMs).unref();
        grant(worker);
      },
    });
    this.pump();
    return claim;
  }

  async close(): Promise<void> {
    this.closed = true;
    const spares = [...this.spares, ...this.booting];
    this.spares.clear();
    this.booting.clear();
    await Promise.all(spares.map((spare) => spare.terminate()));
  }

  private takeSpare(): Worker | undefined {
    const [spare] = this.spares;
    if (!spare) return undefined;
    this.spares.delete(spare);
    spare.removeAllListeners('exit');
    spare.removeAllListeners('error');
    spare.removeAllListeners('online');
    spare.ref();
    return spare;
  }

  /** Boots threads while slots are free: first for runtimes that wait, then spares. */
  private pump(): void {
    if (this.closed) return;
    while (this.waiting.length > 0 && this.bootSlotsFree() > 0) {
      const next = this.waiting.shift()!;
      this.runtimeBoots++;
      next.grant(startRuntimeThread(next.memoryMb, next.name));
    }
    while (this.waiting.length === 0 && this.bootSlotsFree() > 0 && this.spares.size + this.booting.size < this.count) this.bootSpare();
  }

  private bootSlotsFree(): number {
    return this.bootsAtOnce - this.runtimeBoots - this.booting.size;
  }

  private bootSpare(): void {
    const spare = startRuntimeThread(this.memoryMb, 'photons:spare');
    // An idle spare must not keep the process alive, and one that dies is simply forgotten.
    spare.unref();
    spare.on('error', () => undefined);
    this.booting.add(spare);
    const settle = (kept: boolean): void => {
      if (!this.booting.delete(spare)) return;
      if (kept && !this.closed) this.spares.add(spare);
      this.pump();
    };
    spare.once('online', () => settle(true));
    spare.once('exit', () => {
      this.spares.delete(spare);
      settle(false);
    });
  }
}
