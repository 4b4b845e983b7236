// Protected builtins: once a function's module and its packages have loaded, the intrinsics (the
// prototypes of Object, Array, Promise…, JSON, Math, Reflect, …) are frozen and the real global's
// builtin properties made read-only. A job can then no longer change what another job of the
// runtime sees through a builtin; load-time polyfills, which run before this, still work.
import { ObjectDefineProperty, ObjectFreeze, ReflectApply, SafeSet } from './primordials';

/** The names the real global had when the thread booted, before any function or package code ran. */
const BOOT_GLOBAL_NAMES: readonly string[] = Object.getOwnPropertyNames(globalThis);

/** The ECMAScript globals: frozen with everything they reach. Host globals (process, Buffer, …) are not. */
const INTRINSIC_GLOBALS = [
  'Object',
  'Function',
  'Array',
  'Number',
  'Boolean',
  'String',
  'Symbol',
  'BigInt',
  'Date',
  'RegExp',
  'Promise',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'WeakRef',
  'FinalizationRegistry',
  'Proxy',
  'Reflect',
  'JSON',
  'Math',
  'Atomics',
  'Intl',
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'Error',
  'AggregateError',
  'EvalError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'TypeError',
  'URIError',
  'WebAssembly',
  'parseInt',
  'parseFloat',
  'isNaN',
  'isFinite',
  'decodeURI',
  'decodeURIComponent',
  'encodeURI',
  'encodeURIComponent',
  'escape',
  'unescape',
  'eval',
];

/**
 * Properties of frozen prototypes that code commonly assigns on its own objects (`this.name = …` in
 * an Error subclass, `obj.toString = …`). Assigning a property whose inherited counterpart is
 * read-only throws in strict code (the "override mistake"), so these become accessor pairs whose
 * setter gives the receiver an own property, and refuses a write to the prototype itself.
 */
const OVERRIDABLE: ReadonlyArray<[object, readonly string[]]> = [
  [Object.prototype, ['toString', 'toLocaleString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable']],
  [Function.prototype, ['toString', 'bind', 'call', 'apply']],
  [Array.prototype, ['toString', 'push']],
  ...[Error, AggregateError, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError].map(
    (ctor) => [ctor.prototype, ['name', 'message', 'toString']] as [object, readonly string[]],
  ),
];

/**
 * Error keeps `stackTraceLimit` and `prepareStackTrace` writable: V8 reads them as data properties
 * of Error, and packages commonly set them. They stay shared by the runtime's jobs.
 */
const ERROR_WRITABLE = ['stackTraceLimit', 'prepareStackTrace'];

let protectedOnce = false;

/** Freezes the intrinsics and the real global's builtins. Irreversible for the thread; idempotent. */
export function protectBuiltins(): void {
  if (protectedOnce) return;
  protectedOnce = true;
  const errorCtor = Error as unknown as Record<string, unknown>;
  for (const name of ERROR_WRITABLE) {
    if (!Object.prototype.hasOwnProperty.call(errorCtor, name)) {
      ObjectDefineProperty(errorCtor, name, { value: undefined, writable: true, enumerable: false, configurable: true });
    }
  }
  const roots: unknown[] = INTRINSIC_GLOBALS.map((name) => (globalThis as Record<string, unknown>)[name]);
  for (const [target, names] of OVERRIDABLE) for (const name of names) roots.push(makeOverridable(target, name));
  roots.push(...hiddenIntrinsics());
  freezeAll(roots, errorCtor);
  closeRealGlobal();
}

/** The real Object, for putting Object.prototype.constructor back. */
const RealObject = Object;

/** Puts Object.prototype.constructor back if a job changed it; true when it had to. */
export function restoreObjectConstructor(): boolean {
  if (!protectedOnce || RealObject.prototype.constructor === RealObject) return false;
  ObjectDefineProperty(RealObject.prototype, 'constructor', { value: RealObject });
  return true;
}

/** Intrinsics no global names: reached only through instances. */
function hiddenIntrinsics(): unknown[] {
  const proto = Object.getPrototypeOf as (o: unknown) => unknown;
  const iteratorOf = (o: Iterable<unknown>): unknown => proto(o[Symbol.iterator]());
  const generator = function* () {};
  const asyncGenerator = async function* () {};
  return [
    proto(generator),
    proto(async function () {}),
    proto(asyncGenerator),
    proto(proto(generator.prototype)),
    proto(proto(asyncGenerator.prototype)),
    iteratorOf([]),
    iteratorOf(new Map()),
    iteratorOf(new Set()),
    iteratorOf(''),
    proto('x'.matchAll(/x/g)),
    proto(Int8Array),
  ];
}

function freezeAll(roots: unknown[], errorCtor: object): void {
  const seen = new SafeSet<object>();
  const pending = roots;
  while (pending.length > 0) {
    const value = pending.pop();
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) continue;
    seen.add(value);
    if (value === errorCtor) freezeExcept(value, ERROR_WRITABLE);
    // `constructor` cannot be made an accessor pair: Node's util.inspect (and so every log line that
    // prints an object) finds an object's class through a data `constructor` property. Code assigns
    // `proto.constructor = C` on a plain object literal often enough (classes written by hand, some
    // bundled helpers) that a frozen Object.prototype.constructor would break it in every job; so that
    // one property stays writable, shared by the runtime's jobs, and is put back after each job that
    // changed it (restoreObjectConstructor).
    else if (value === Object.prototype) freezeExcept(value, ['constructor']);
    else ObjectFreeze(value);
    pending.push(Object.getPrototypeOf(value));
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (!descriptor) continue;
      if ('value' in descriptor) pending.push(descriptor.value);
      else pending.push(descriptor.get, descriptor.set);
    }
  }
}

function freezeExcept(target: object, writable: readonly string[]): void {
  for (const key of Reflect.ownKeys(target)) {
    const descriptor = Object.getOwnPropertyDescriptor(target, key)!;
    const keepWritable = typeof key === 'string' && writable.includes(key);
    ObjectDefineProperty(target, key, 'value' in descriptor && !keepWritable ? { configurable: false, writable: false } : { configurable: false });
  }
  Object.preventExtensions(target);
}

/** The SES-style fix of the override mistake for one data property of a prototype; returns its value, to be frozen too. */
function makeOverridable(target: object, name: string): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(target, name);
  if (!descriptor || !('value' in descriptor) || !descriptor.writable) return undefined;
  const original: unknown = descriptor.value;
  ObjectDefineProperty(target, name, {
    get: () => original,
    set(this: object, value: unknown) {
      if (this === target) {
        throw new TypeError(
          `Cannot assign to read only property '${name}' of a frozen builtin: builtins are protected once the function has loaded (export const config = { protectBuiltins: false } to opt out)`,
        );
      }
      ObjectDefineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
    },
    enumerable: descriptor.enumerable,
    configurable: false,
  });
  return original;
}

/**
 * The real global (reached through `Function('return this')()` or `globalThis.constructor`…): its
 * builtin data properties become read-only, since every photon's view reads through to it. New
 * names stay possible: packages add globals as they run, and their state is the runtime's anyway.
 */
function closeRealGlobal(): void {
  const real = globalThis as Record<string, unknown>;
  for (const name of BOOT_GLOBAL_NAMES) {
    const descriptor = Object.getOwnPropertyDescriptor(real, name);
    if (!descriptor?.configurable) continue;
    if ('value' in descriptor) ObjectDefineProperty(real, name, { writable: false, configurable: false });
    else if (descriptor.get) lockLazyGlobal(real, name, descriptor.get, descriptor.enumerable ?? false);
  }
}

/**
 * Node creates many globals on first read (fetch, FormData, crypto, …: loading them all up front
 * would add hundreds of milliseconds to every cold start). Each becomes a fixed accessor that
 * resolves Node's value once, on first read, and refuses to be set.
 */
function lockLazyGlobal(real: Record<string, unknown>, name: string, nodeGetter: () => unknown, enumerable: boolean): void {
  let resolved = false;
  let value: unknown;
  ObjectDefineProperty(real, name, {
    configurable: false,
    enumerable,
    get() {
      if (!resolved) {
        value = resolveLazy(real, nodeGetter);
        resolved = true;
      }
      return value;
    },
    set() {
      throw new TypeError(
        `Cannot set the global "${name}": builtins are protected once the function has loaded (export const config = { protectBuiltins: false } to opt out)`,
      );
    },
  });
}

function resolveLazy(real: object, nodeGetter: () => unknown): unknown {
  try {
    // Most of Node's lazy getters redefine the property on their receiver: give them a stand-in.
    return ReflectApply(nodeGetter, Object.create(null) as object, []);
  } catch {
    // A few insist on the real global as their receiver, and do not redefine anything.
    return ReflectApply(nodeGetter, real, []);
  }
}
