// References to the builtins the runtime itself relies on, taken when this module loads: before any
// function code runs in the thread. A job may patch `JSON.stringify` or `Map.prototype.get` (its
// function opted out of protected builtins, or did it while loading); the runtime's encoding and
// bookkeeping must still work, and must not hand one job's patch the results of the others.

const { bind, call } = Function.prototype;
/** `uncurryThis(Map.prototype.get)(map, key)`: calls the method as captured, whatever the prototype holds later. */
const uncurryThis = <T, A extends unknown[], R>(fn: (this: T, ...args: A) => R): ((self: T, ...args: A) => R) =>
  bind.call(call, fn) as (self: T, ...args: A) => R;

export const JSONStringify = JSON.stringify;
export const ReflectApply = Reflect.apply;
export const ObjectDefineProperty = Object.defineProperty;
export const ObjectFreeze = Object.freeze;

const PromiseCtor = Promise;
const promiseThen = uncurryThis(Promise.prototype.then) as <T, R1, R2>(
  promise: Promise<T>,
  onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
  onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
) => Promise<R1 | R2>;
export { promiseThen };
/** A promise of the captured constructor that settles as `value` does (a thenable is followed, as `await` does). */
export const promiseResolve = <T>(value: T | PromiseLike<T>): Promise<T> => new PromiseCtor<T>((resolve) => resolve(value));
/** A resolved promise made by the captured constructor. */
export const promiseResolved = (): Promise<void> => new PromiseCtor<void>((resolve) => resolve());
/** A pending promise and its resolver, made by the captured constructor. */
export function promiseWithResolver(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new PromiseCtor<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A Map whose methods are the ones captured here, so a patched `Map.prototype` does not reach the
 * runtime's tables. Iterating one goes through the Map iterator's prototype, which is frozen with
 * the other intrinsics (protect-builtins.ts).
 */
export class SafeMap<K, V> extends Map<K, V> {}
/** Likewise for Set. */
export class SafeSet<T> extends Set<T> {}
/** Likewise for WeakMap. */
export class SafeWeakMap<K extends object, V> extends WeakMap<K, V> {}

for (const [safe, unsafe] of [
  [SafeMap, Map],
  [SafeSet, Set],
  [SafeWeakMap, WeakMap],
] as const) {
  for (const key of Reflect.ownKeys(unsafe.prototype)) {
    if (key === 'constructor') continue;
    Object.defineProperty(safe.prototype, key, Object.getOwnPropertyDescriptor(unsafe.prototype, key)!);
  }
  Object.freeze(safe.prototype);
}

// The real timers, for the runtime's own job timeouts and answer batching: a job may not redirect them.
export const realSetTimeout = setTimeout;
export const realClearTimeout = clearTimeout;
export const realSetInterval = setInterval;
export const realClearInterval = clearInterval;
export const realSetImmediate = setImmediate;
export const realClearImmediate = clearImmediate;
export const performanceNow = performance.now.bind(performance);
