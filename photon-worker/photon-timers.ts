// A photon's own timers. The function's code sees these setTimeout/setInterval/setImmediate (and
// clear*) under the bare names and through its `globalThis`; they track what the job starts, so that
// what it leaves running is cleared when the job settles, and a throw from one of its callbacks is
// logged with the job's id. Timers of packages (node_modules call the real ones) and of a ctx.shared
// init belong to the runtime and are not tracked.
import { inRuntimeScope } from './job-scope';
import {
  ReflectApply,
  SafeSet,
  realClearImmediate,
  realClearInterval,
  realClearTimeout,
  realSetImmediate,
  realSetInterval,
  realSetTimeout,
} from './primordials';

type Handle = NodeJS.Timeout | NodeJS.Immediate;
type Callback = (...args: unknown[]) => void;

export const TIMER_NAMES = ['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate'] as const;
export type TimerName = (typeof TIMER_NAMES)[number];
export type TimerFunctions = Record<TimerName, (...args: unknown[]) => unknown>;

/** The real timers, for module instances that belong to the runtime (the load check, shared mode). */
export const RUNTIME_TIMERS: TimerFunctions = {
  setTimeout: realSetTimeout as unknown as TimerFunctions['setTimeout'],
  setInterval: realSetInterval as unknown as TimerFunctions['setInterval'],
  setImmediate: realSetImmediate as unknown as TimerFunctions['setImmediate'],
  clearTimeout: realClearTimeout as unknown as TimerFunctions['clearTimeout'],
  clearInterval: realClearInterval as unknown as TimerFunctions['clearInterval'],
  clearImmediate: realClearImmediate as unknown as TimerFunctions['clearImmediate'],
};

type Starter = (cb: Callback, ...rest: unknown[]) => Handle;
const startTimeout = realSetTimeout as unknown as Starter;
const startInterval = realSetInterval as unknown as Starter;
const startImmediate = realSetImmediate as unknown as Starter;

export class PhotonTimers {
  readonly functions: TimerFunctions;
  /** Handles the job started that have not fired (one-shot) or been cleared; created on first use. */
  live: SafeSet<Handle> | undefined;
  settled = false;

  /** `onThrow` gets what a callback of the job's timers threw: it is logged, never rethrown. */
  constructor(readonly onThrow: (err: unknown) => void) {
    // Six small closures per photon; the work is in the module's functions below.
    this.functions = {
      setTimeout: (callback: unknown, ...rest: unknown[]) => start(this, startTimeout, true, callback, rest),
      setInterval: (callback: unknown, ...rest: unknown[]) => start(this, startInterval, false, callback, rest),
      setImmediate: (callback: unknown, ...rest: unknown[]) => start(this, startImmediate, true, callback, rest),
      clearTimeout: (handle: unknown) => stop(this, realClearTimeout as (handle: unknown) => void, handle),
      clearInterval: (handle: unknown) => stop(this, realClearInterval as (handle: unknown) => void, handle),
      clearImmediate: (handle: unknown) => stop(this, realClearImmediate as (handle: unknown) => void, handle),
    };
  }

  /** Clears what the job left running, and any timer it starts from now on; returns how many it cleared. */
  settle(): number {
    this.settled = true;
    const live = this.live;
    if (!live) return 0;
    this.live = undefined;
    let cleared = 0;
    live.forEach((handle) => {
      clear(handle);
      cleared++;
    });
    return cleared;
  }
}

function start(timers: PhotonTimers, real: Starter, once: boolean, callback: unknown, rest: unknown[]): Handle {
  // Not a function (Node throws its own error), or called from a ctx.shared init: the real timer.
  if (typeof callback !== 'function' || inRuntimeScope()) return ReflectApply(real, undefined, [callback, ...rest]);
  let handle: Handle | undefined;
  const fire = (...args: unknown[]): void => {
    if (once) timers.live?.delete(handle!);
    try {
      ReflectApply(callback as Callback, undefined, args);
    } catch (err) {
      timers.onThrow(err);
    }
  };
  handle = ReflectApply(real, undefined, [fire, ...rest]);
  if (timers.settled) {
    // The job has its answer: what it starts now would outlive it.
    clear(handle);
    return handle;
  }
  (timers.live ??= new SafeSet()).add(handle);
  return handle;
}

function stop(timers: PhotonTimers, real: (handle: unknown) => void, handle: unknown): void {
  timers.live?.delete(handle as Handle);
  real(handle);
}

function clear(handle: Handle): void {
  // clearTimeout and clearInterval are the same for Node's Timeout; an Immediate needs its own.
  if (isImmediate(handle)) realClearImmediate(handle);
  else realClearTimeout(handle);
}

const probe = realSetImmediate(() => undefined);
const ImmediateProto: unknown = Object.getPrototypeOf(probe);
realClearImmediate(probe);

function isImmediate(handle: Handle): handle is NodeJS.Immediate {
  return Object.getPrototypeOf(handle) === ImmediateProto;
}
