// A photon's timers. The function's code sees these setTimeout/setInterval/setImmediate (and clear*)
// under the bare names and through its `globalThis`. They are one set of functions per runtime, so
// creating a photon costs nothing more: the job a call belongs to is the job scope it runs in (an
// AsyncLocalStorage entered per job, see job-scope.ts). What a job starts and leaves running is
// cleared when it settles, and a throw from one of its callbacks is logged with its id. Timers of
// packages (node_modules call the real ones), of node:timers and of a ctx.shared init belong to the
// runtime and are not tracked.
import { RUNTIME_OWNED, jobScope, type ScopeMark } from './job-scope';
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
type Starter = (callback: Callback, ...rest: unknown[]) => Handle;

export const TIMER_NAMES = ['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate'] as const;
export type TimerName = (typeof TIMER_NAMES)[number];
export type TimerFunctions = Record<TimerName, (...args: unknown[]) => unknown>;

/** Where a throw from a job's timer callback goes: the runtime logs it with the job's id. */
let onTimerThrow: (err: unknown, jobId: string) => void = () => undefined;
export function setTimerThrowHandler(handler: (err: unknown, jobId: string) => void): void {
  onTimerThrow = handler;
}

const starter =
  (real: unknown, once: boolean) =>
  (callback: unknown, ...rest: unknown[]): Handle =>
    start(real as Starter, once, callback, rest);
const stopper =
  (real: unknown) =>
  (handle: unknown): void => {
    const mark = jobScope.getStore();
    if (mark?.live) mark.live.delete(handle);
    (real as (handle: unknown) => void)(handle);
  };

export const PHOTON_TIMERS: TimerFunctions = {
  setTimeout: starter(realSetTimeout, true),
  setInterval: starter(realSetInterval, false),
  setImmediate: starter(realSetImmediate, true),
  clearTimeout: stopper(realClearTimeout),
  clearInterval: stopper(realClearInterval),
  clearImmediate: stopper(realClearImmediate),
};

function start(real: Starter, once: boolean, callback: unknown, rest: unknown[]): Handle {
  const mark = jobScope.getStore();
  // Not a function (Node throws its own error), outside any job, or in a ctx.shared init: the real timer.
  if (typeof callback !== 'function' || mark === undefined || mark === RUNTIME_OWNED || mark.jobId === undefined) {
    return ReflectApply(real, undefined, [callback, ...rest]) as Handle;
  }
  const jobId = mark.jobId;
  // eslint-disable-next-line prefer-const -- `fire` closes over it before the timer gives it a value
  let handle: Handle | undefined;
  const fire = (...args: unknown[]): void => {
    if (once) mark.live?.delete(handle);
    try {
      ReflectApply(callback as Callback, undefined, args);
    } catch (err) {
      onTimerThrow(err, jobId);
    }
  };
  handle = ReflectApply(real, undefined, [fire, ...rest]);
  if (mark.settled) {
    // The job has its answer: what it starts now would outlive it.
    clear(handle);
    return handle;
  }
  (mark.live ??= new SafeSet()).add(handle);
  return handle;
}

/** Clears what the job left running, and any timer it starts from now on; returns how many it cleared. */
export function settleTimers(mark: ScopeMark): number {
  mark.settled = true;
  const live = mark.live;
  if (!live) return 0;
  mark.live = undefined;
  let cleared = 0;
  live.forEach((handle) => {
    clear(handle as Handle);
    cleared++;
  });
  return cleared;
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
