// The messages of a shared runtime thread (photon-worker/shared-runtime-thread.ts), beside those of
// protocol.ts: each function in the thread gets a MessagePort of its own, over which it speaks
// protocol.ts exactly as a runtime of its own would (ARCHITECTURE.md, "Shared runtimes").
import type { MessagePort } from 'node:worker_threads';
import type { HostMessage, RuntimeStartup } from './protocol';

/** What a shared runtime thread gets at start (workerData). */
export interface SharedThreadData {
  /** The thread's temporary folder: its os.tmpdir(), under which photons make theirs. */
  tmpdir: string;
  logLevel: string;
}

/** To the thread itself: load one more function, which answers over `port`. */
export interface SharedLoad {
  type: 'load';
  startup: RuntimeStartup;
  port: MessagePort;
}

/** Over a function's port: protocol.ts, plus `unload` when the function leaves the thread. */
export type SharedPortMessage = HostMessage | { type: 'unload' };
