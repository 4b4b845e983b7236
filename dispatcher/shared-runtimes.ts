// The long tail shares (ARCHITECTURE.md, "Shared runtimes"): a function's first runtime may be a
// place in a shared thread beside other functions' instead of a thread of its own, as Hydra shares
// one runtime among functions. Each function keeps its own photons, `ctx.shared` values and
// node_modules packages there; what it shares is the event loop, the heap and the process state.
// A function that misbehaves there (the thread blocks, runs out of heap or crashes while it has
// jobs in it) is moved to runtimes of its own for the dispatcher's life, and so is one whose config
// asks for what a shared thread cannot give (protectBuiltins: false, another memoryMb).
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FunctionBundle } from '../photon-worker/bundle';
import type { SharedThreadData } from '../photon-worker/shared-protocol';
import { makeRuntimeFolder } from './runtime-folders';
import { SharedLease, type SharedThreadHandle } from './shared-lease';

export const SHARED_RUNTIME_THREAD = path.join(__dirname, '..', 'photon-worker', 'shared-runtime-thread.js');

/** A shared thread takes one more function while its heap stays under this share of its limit. */
const HEAP_HEADROOM = 0.5;

/**
 * A bundle that names these config keys is not loaded beside others at all: a function that opts
 * out of protected builtins must not run its top level in a thread its neighbours use. (A config
 * built at run time is caught once the function has loaded: shared-lease.ts.)
 */
const OWN_THREAD_KEYS = /\b(?:protectBuiltins|memoryMb)\b/;

export interface SharedRuntimesOptions {
  /** Heap limit of a shared thread, in MB: the runtime default, so a function's own config may differ. */
  memoryMb: number;
  /** Most functions in one shared thread. */
  functionsPerRuntime: number;
  /** Keep a booted, unused shared thread ready for the next first runtime (runtime.spareThreads > 0). */
  keepSpare: boolean;
  logLevel: string;
  logger: Logger;
}

class SharedThread implements SharedThreadHandle {
  readonly worker: Worker;
  readonly leases = new Set<SharedLease>();
  dead = false;
  private retiring = false;
  heapUsed = 0;
  heapLimit = 0;
  private readonly tmpdir = makeRuntimeFolder('shared');
  private error: (Error & { code?: string }) | undefined;

  constructor(
    id: number,
    private readonly owner: SharedRuntimes,
    private readonly options: SharedRuntimesOptions,
  ) {
    const workerData: SharedThreadData = { tmpdir: this.tmpdir, logLevel: options.logLevel };
    this.worker = new Worker(SHARED_RUNTIME_THREAD, { resourceLimits: { maxOldGenerationSizeMb: options.memoryMb }, name: `photons:shared#${id}`, workerData });
    this.worker.on('error', (err) => (this.error ??= err));
    this.worker.on('exit', () => this.onExit());
  }

  get memoryMb(): number {
    return this.options.memoryMb;
  }

  get hasRoom(): boolean {
    return (
      !this.dead &&
      !this.retiring &&
      this.leases.size < this.options.functionsPerRuntime &&
      (this.heapLimit === 0 || this.heapUsed < HEAP_HEADROOM * this.heapLimit)
    );
  }

  kill(): Promise<number> {
    this.error ??= new Error(`its shared runtime stopped answering: a job in it blocked the event loop for more than watchdogMs`);
    return this.worker.terminate();
  }

  leave(lease: SharedLease): void {
    this.leases.delete(lease);
    if (this.leases.size > 0 || this.dead) return;
    // Empty: it retires, and takes no function on its way out.
    this.retiring = true;
    void this.worker.terminate();
  }

  moveOut(fn: string, why: string, misbehaved?: boolean): void {
    this.owner.moveOut(fn, why, misbehaved);
  }

  heapReading(heapUsed: number, heapLimit: number): void {
    this.heapUsed = heapUsed;
    this.heapLimit = heapLimit;
  }

  private onExit(): void {
    this.dead = true;
    rmSync(this.tmpdir, { recursive: true, force: true, maxRetries: 2 });
    const leases = [...this.leases];
    this.leases.clear();
    if (this.error) {
      // Which function blocked the loop or filled the heap cannot be told from outside the thread:
      // every function with jobs in it (or still loading) leaves. With rarely used neighbours that
      // is mostly the culprit alone.
      for (const lease of leases) if (lease.suspect) this.owner.moveOut(lease.fn, `its shared runtime ended while it had jobs there: ${this.error.message}`);
    }
    for (const lease of leases) lease.threadEnded(this.error, !this.owner.closed);
    this.owner.forget(this);
  }
}

export class SharedRuntimes {
  private readonly threads = new Set<SharedThread>();
  /** Functions that run in threads of their own for the dispatcher's life, and why. */
  private readonly ownThreads = new Map<string, string>();
  /** Bundles read for OWN_THREAD_KEYS, once each. */
  private readonly checked = new WeakMap<FunctionBundle, boolean>();
  private nextId = 1;
  /**
   * A booted shared thread no function has used: the next function whose first runtime needs a
   * new shared thread only loads into it (about a millisecond) instead of booting one (tens of
   * ms), as dispatcher/spare-threads.ts does for threads of their own. Booted at start, once the
   * function that took the last one has loaded (a boot beside that load would share the cores with
   * the cold start it serves), and when a shared thread retires.
   */
  private spare: SharedThread | undefined;
  closed = false;

  constructor(private readonly options: SharedRuntimesOptions) {}

  /** Boots the spare shared thread. */
  start(): void {
    this.refill();
  }

  private refill(): void {
    if (this.closed || !this.options.keepSpare || this.spare) return;
    this.spare = new SharedThread(this.nextId++, this, this.options);
  }

  /**
   * A place in a shared thread for a runtime of this function, or undefined when it gets a thread
   * of its own: it is not shareable, or it already has a runtime (a function busy enough for two
   * runtimes is not the long tail).
   */
  lease(bundle: FunctionBundle, memoryMb: number): SharedLease | undefined {
    if (this.closed || memoryMb !== this.options.memoryMb || this.ownThreads.has(bundle.name)) return undefined;
    if (!this.shareable(bundle)) return undefined;
    for (const thread of this.threads) for (const lease of thread.leases) if (lease.fn === bundle.name) return undefined;
    let thread = [...this.threads].find((t) => t.hasRoom);
    const fromSpare = !thread && this.spare !== undefined;
    if (!thread) {
      thread = this.spare ?? new SharedThread(this.nextId++, this, this.options);
      this.spare = undefined;
      this.threads.add(thread);
    }
    const lease = new SharedLease(bundle.name, thread);
    thread.leases.add(lease);
    // The next spare boots once this cold start has its first answer, not beside it.
    if (fromSpare) lease.once('message', () => this.refill());
    return lease;
  }

  private shareable(bundle: FunctionBundle): boolean {
    let shareable = this.checked.get(bundle);
    if (shareable === undefined) this.checked.set(bundle, (shareable = !OWN_THREAD_KEYS.test(bundle.code)));
    return shareable;
  }

  /** The functions moved to threads of their own, and why. */
  get movedOut(): ReadonlyMap<string, string> {
    return this.ownThreads;
  }

  /** The spare shared thread's id, if one is kept. */
  get spareThreadId(): number | undefined {
    return this.spare?.worker.threadId;
  }

  /** How many shared threads run now. */
  get threadCount(): number {
    return this.threads.size;
  }

  /** `misbehaved`: it took its shared thread down (a warning); otherwise its config asks for a thread of its own. */
  moveOut(fn: string, why: string, misbehaved = true): void {
    if (this.ownThreads.has(fn)) return;
    this.ownThreads.set(fn, why);
    this.options.logger[misbehaved ? 'warn' : 'info']({ fn, why }, `function "${fn}" runs in runtimes of its own from now on: ${why}`);
  }

  forget(thread: SharedThread): void {
    // A spare that died unused is not booted again: whatever killed it would kill the next.
    if (thread === this.spare) {
      this.spare = undefined;
      return;
    }
    this.threads.delete(thread);
    this.refill();
  }

  async close(): Promise<void> {
    this.closed = true;
    const threads = [...this.threads, ...(this.spare ? [this.spare] : [])];
    this.spare = undefined;
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }
}
