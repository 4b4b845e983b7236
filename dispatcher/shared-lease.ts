// One function's place in a shared runtime thread, seen by its Runtime (dispatcher/runtime.ts) as a
// thread of its own: the same messages, events and terminate (ARCHITECTURE.md, "Shared runtimes").
// Until the function is ready the lease may still move it to a thread of its own, unseen by the
// Runtime: when it fails to load beside others (a load-time polyfill meets the frozen builtins) or
// its config asks for what a shared thread cannot give.
import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { HostMessage, RuntimeMessage, RuntimeStartup } from '../photon-worker/protocol';
import type { SharedLoad, SharedPortMessage } from '../photon-worker/shared-protocol';
import type { FunctionConfig } from '../photon-worker/types';
import { startRuntimeThread } from './spare-threads';

/**
 * A function whose loading (its module and its packages) grows the shared heap by more than this is
 * not one of the small functions sharing is for: one copy of it fills a good part of the neighbours'
 * heap, so it gets a thread of its own.
 */
const SMALL_FUNCTION_HEAP_BYTES = 32 * 2 ** 20;

/** What a Runtime needs of its thread: a worker thread of its own, or a lease in a shared one. */
export interface RuntimeThread {
  readonly threadId: number;
  readonly performance: Pick<Worker['performance'], 'eventLoopUtilization'>;
  postMessage(message: HostMessage): void;
  on(event: 'message', listener: (message: RuntimeMessage) => void): this;
  on(event: 'error', listener: (err: Error & { code?: string }) => void): this;
  on(event: 'exit', listener: (code: number) => void): this;
  /** `fault`: the thread is stuck or broken and must end; otherwise only this function leaves it. */
  terminate(fault?: boolean): Promise<number>;
}

/** The shared thread as a lease sees it (dispatcher/shared-runtimes.ts). */
export interface SharedThreadHandle {
  readonly worker: Worker;
  /** The thread's heap limit in MB: a function whose config names another needs its own. */
  readonly memoryMb: number;
  readonly dead: boolean;
  /** The thread's heap in use at its last reading (0 before any). */
  readonly heapUsed: number;
  /** Ends the thread: it is blocked or broken. Every lease in it sees the thread exit. */
  kill(): Promise<number>;
  /** The function has left; the thread retires once none is left. */
  leave(lease: SharedLease): void;
  /** The function runs in threads of its own from now on, for the dispatcher's life. */
  moveOut(fn: string, why: string, misbehaved?: boolean): void;
  heapReading(heapUsed: number, heapLimit: number): void;
}

export class SharedLease extends EventEmitter implements RuntimeThread {
  private port: MessagePort | undefined;
  /** Set once the function moved to a thread of its own before it was ready. */
  private own: Worker | undefined;
  private startup: RuntimeStartup | undefined;
  private ready = false;
  /** The thread's heap before this function loaded into it. */
  private heapBefore = 0;
  private exited = false;
  /**
   * Jobs sent and not answered: a function with jobs in the thread when it died is a suspect. A
   * count, not their ids: each job is answered once (photon-worker/runtime.ts, settle), and a set
   * of ids cost a chunked map's items an insert and a delete each on the main thread.
   */
  private unanswered = 0;

  constructor(
    readonly fn: string,
    private readonly thread: SharedThreadHandle,
  ) {
    super();
  }

  get threadId(): number {
    return (this.own ?? this.thread.worker).threadId;
  }

  get performance(): Pick<Worker['performance'], 'eventLoopUtilization'> {
    return (this.own ?? this.thread.worker).performance;
  }

  /** In the shared thread and either loading or holding jobs: what was running when it died. */
  get suspect(): boolean {
    return !this.own && !this.exited && (!this.ready || this.unanswered > 0);
  }

  postMessage(message: HostMessage): void {
    if (this.own) return this.own.postMessage(message);
    if (this.exited) return;
    if (message.type === 'load') return this.load(message.startup);
    if (!this.port) return;
    // Counted once sent: a batch that cannot be cloned throws here, and is sent again job by job.
    this.port.postMessage(message satisfies SharedPortMessage);
    if (message.type === 'batch') for (const { job } of message.requests) this.unanswered += job.inputs.length;
  }

  terminate(fault = false): Promise<number> {
    if (this.own) return this.own.terminate();
    if (fault && !this.thread.dead) return this.thread.kill();
    this.leaveThread();
    this.exit();
    return Promise.resolve(0);
  }

  /** The shared thread ended: this function's Runtime sees its thread end. `reload`: not a shutdown. */
  threadEnded(error: (Error & { code?: string }) | undefined, reload: boolean): void {
    if (this.own || this.exited) return;
    // A function still loading is not answered with a death (its Runtime would take that for a
    // function that cannot load): it loads again, alone.
    if (reload && !this.ready && this.startup) return this.moveToOwnThread(`its shared runtime ended while it loaded (${error?.message ?? 'stopped'})`);
    if (error) this.emit('error', error);
    this.exit();
  }

  private load(startup: RuntimeStartup): void {
    this.startup = startup;
    this.heapBefore = this.thread.heapUsed;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    port1.on('message', (message: RuntimeMessage) => this.fromThread(message));
    this.thread.worker.postMessage({ type: 'load', startup, port: port2 } satisfies SharedLoad, [port2]);
  }

  private fromThread(message: RuntimeMessage): void {
    if (message.type === 'init-failed') {
      return this.moveToOwnThread(`it did not load beside other functions (${message.error.message}); in a runtime of its own it loads alone`, false);
    }
    if (message.type === 'ready') {
      const why = this.needsOwnThread(message.config) ?? this.tooLarge(message.heapUsed);
      if (why) return this.moveToOwnThread(why, false);
      this.ready = true;
    }
    if (message.type === 'results') for (const { items } of message.answers) this.unanswered = Math.max(0, this.unanswered - items.length);
    if ('heapUsed' in message) this.thread.heapReading(message.heapUsed, message.heapLimit);
    this.emit('message', message);
  }

  /** Why a function's own config keeps it out of a shared thread, once it has loaded. */
  private needsOwnThread(config: FunctionConfig): string | undefined {
    if (config.protectBuiltins === false) return 'its config sets protectBuiltins: false';
    // Left to the pool, which replaces a runtime of the wrong heap size once it knows the function's.
    if (config.memoryMb !== undefined && config.memoryMb !== this.thread.memoryMb)
      this.thread.moveOut(this.fn, `its config sets memoryMb: ${config.memoryMb}`, false);
    return undefined;
  }

  private tooLarge(heapUsed: number): string | undefined {
    const grew = heapUsed - this.heapBefore;
    if (grew > SMALL_FUNCTION_HEAP_BYTES)
      return `loading it took ${Math.round(grew / 2 ** 20)} MB of heap, more than a small function's ${SMALL_FUNCTION_HEAP_BYTES / 2 ** 20} MB`;
    return undefined;
  }

  /** Before the function is ready: it leaves the shared thread and loads again in a thread of its own. */
  private moveToOwnThread(why: string, misbehaved = true): void {
    this.thread.moveOut(this.fn, why, misbehaved);
    this.leaveThread();
    const own = startRuntimeThread(this.thread.memoryMb, `photons:${this.fn}`);
    this.own = own;
    own.on('message', (message: RuntimeMessage) => this.emit('message', message));
    own.on('error', (err) => this.emit('error', err));
    own.on('exit', (exitCode: number) => this.exit(exitCode));
    own.postMessage({ type: 'load', startup: this.startup! } satisfies HostMessage);
  }

  private leaveThread(): void {
    if (!this.port) return;
    this.port.postMessage({ type: 'unload' } satisfies SharedPortMessage);
    this.port.close();
    this.port = undefined;
    this.unanswered = 0;
    this.thread.leave(this);
  }

  /** `exitCode`: a thread of its own's; leaving a shared thread has none. */
  private exit(exitCode?: number): void {
    if (this.exited) return;
    this.exited = true;
    this.port?.close();
    this.port = undefined;
    // As a worker's 'exit' comes after terminate() is called, never within it.
    setImmediate(() => this.emit('exit', exitCode));
  }
}
