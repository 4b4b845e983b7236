// Booted, empty runtime threads kept ready for the next cold start (OpenWhisk's "prewarm" stem
// cells): starting a worker thread and loading the runtime code takes tens of milliseconds, loading
// a function into a booted thread about one. A spare costs the memory of an empty thread (~8 MB).
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

export const RUNTIME_THREAD = path.join(__dirname, '..', 'photon-worker', 'runtime-thread.js');

/** `ownStdout`: the thread's stdout is a stream for the host to route, not piped to the process's. */
export function startRuntimeThread(memoryMb: number, name: string, ownStdout = false): Worker {
  return new Worker(RUNTIME_THREAD, { resourceLimits: { maxOldGenerationSizeMb: memoryMb }, name, stdout: ownStdout });
}

export class SpareThreads {
  private readonly spares = new Set<Worker>();
  private closed = false;

  /** Keeps `count` booted threads with a heap limit of `memoryMb`. */
  constructor(
    private readonly count: number,
    private readonly memoryMb: number,
  ) {
    this.refill();
  }

  /** A booted thread of that heap limit, if one is ready; a replacement starts at once. */
  take(memoryMb: number): Worker | undefined {
    if (memoryMb !== this.memoryMb) return undefined;
    const [spare] = this.spares;
    if (!spare) return undefined;
    this.spares.delete(spare);
    spare.removeAllListeners('exit');
    spare.removeAllListeners('error');
    spare.ref();
    this.refill();
    return spare;
  }

  async close(): Promise<void> {
    this.closed = true;
    const spares = [...this.spares];
    this.spares.clear();
    await Promise.all(spares.map((spare) => spare.terminate()));
  }

  private refill(): void {
    while (!this.closed && this.spares.size < this.count) {
      const spare = startRuntimeThread(this.memoryMb, 'photons:spare');
      // An idle spare must not keep the process alive, and one that dies is simply forgotten.
      spare.unref();
      spare.on('error', () => undefined);
      spare.once('exit', () => this.spares.delete(spare));
      this.spares.add(spare);
    }
  }
}
