// Which job the running code belongs to, across awaits and timers: an AsyncLocalStorage entered per
// job. It names the job of an error that escaped (an unhandled rejection, a throw in a package's
// timer), and tells a ctx.shared init (the runtime's) from a job's own code.
import { AsyncLocalStorage } from 'node:async_hooks';

/** The store: a job's id (and its timers, see photon-timers.ts), or RUNTIME_OWNED inside a ctx.shared init. */
export interface ScopeMark {
  readonly jobId: string | undefined;
  /** The timers the job's own code started that have not fired (one-shot) or been cleared. */
  live?: Set<unknown>;
  /** The job has its answer: a timer its code starts now is cleared at once. */
  settled?: boolean;
}

export const RUNTIME_OWNED: ScopeMark = Object.freeze({ jobId: undefined });

export const jobScope = new AsyncLocalStorage<ScopeMark>();

/**
 * The symbol under which the scope's store rides on each promise. Node's AsyncLocalStorage keeps a
 * promise's store on the promise itself; the 'unhandledRejection' event runs outside the promise's
 * context, so the store is read from there. Found by probing once; undefined if Node keeps it
 * elsewhere (the rejection is then logged without its job).
 */
const storeKey: symbol | undefined = (() => {
  const probe: ScopeMark = { jobId: 'probe' };
  const promise = jobScope.run(probe, () => Promise.resolve());
  return Object.getOwnPropertySymbols(promise).find((key) => (promise as unknown as Record<symbol, unknown>)[key] === probe);
})();

/** The id of the job whose code made `promise`, if known. */
export function jobOfPromise(promise: unknown): string | undefined {
  if (storeKey === undefined || typeof promise !== 'object' || promise === null) return undefined;
  const mark = (promise as Record<symbol, ScopeMark | undefined>)[storeKey];
  return mark?.jobId;
}

/** The id of the job whose code is running now, if any. */
export function currentJobId(): string | undefined {
  return jobScope.getStore()?.jobId;
}

/** True inside a ctx.shared init: what it starts belongs to the runtime. */
export function inRuntimeScope(): boolean {
  return jobScope.getStore() === RUNTIME_OWNED;
}
