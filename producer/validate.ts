// Checks what a caller hands the producer before anything reaches Redis: function names, inputs
// that must survive JSON unchanged, job ids and option values, with messages naming what is wrong.
import { ErrorCodes, PhotonsError } from '../errors';
import { FUNCTION_NAME } from '../photon-worker/bundle';

export function assertFunctionName(fn: unknown): asserts fn is string {
  if (typeof fn !== 'string' || !FUNCTION_NAME.test(fn)) {
    throw new PhotonsError(
      ErrorCodes.INVALID_FUNCTION_NAME,
      `${JSON.stringify(fn) ?? String(fn)} is not a valid function name: use 1 to 64 letters, digits, '-' and '_', starting with a letter (the function's file name without extension).`,
    );
  }
}

/**
 * Throws unless `value` is exactly what JSON can carry. JSON.stringify would quietly turn NaN into
 * null, a Map into {} and drop functions: the function would then run on an input nobody sent.
 * Object properties holding undefined are allowed (JSON drops them, as TypeScript callers expect).
 */
export function assertJson(value: unknown, where: string): void {
  const ancestors = new Set<object>();
  const fail = (path: string, what: string): never => {
    throw new PhotonsError(
      ErrorCodes.INPUT_NOT_JSON,
      `${path} is ${what}; inputs must be JSON: null, booleans, finite numbers, strings, arrays and plain objects.`,
    );
  };
  const walk = (v: unknown, path: string): void => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) fail(path, `${v} (JSON has no NaN or Infinity)`);
      return;
    }
    if (typeof v !== 'object') return void fail(path, v === undefined ? 'undefined' : `a ${typeof v}`);
    if (ancestors.has(v)) fail(path, 'a circular reference');
    ancestors.add(v);
    if (Array.isArray(v)) {
      v.forEach((item: unknown, i) => walk(item, `${path}[${i}]`));
    } else {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        fail(path, `a ${(v as { constructor?: { name?: string } }).constructor?.name ?? 'class instance'} object, not a plain object`);
      }
      for (const [key, item] of Object.entries(v)) {
        if (item !== undefined) walk(item, /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);
      }
    }
    ancestors.delete(v);
  };
  walk(value, where);
}

/** A job id of our choosing or the caller's: no ':' (BullMQ keys) and not an integer (BullMQ's own ids). */
const CUSTOM_JOB_ID = /^[A-Za-z0-9_.-]{1,128}$/;
/** Any id a job may have, BullMQ's own integer ids included. */
const ANY_JOB_ID = /^[A-Za-z0-9_.:-]{1,200}$/;

export function assertJobId(id: unknown, where: string): asserts id is string {
  if (typeof id !== 'string' || !ANY_JOB_ID.test(id)) {
    throw invalidOption(`${where} must be a job id (1 to 200 letters, digits, '.', ':', '_' or '-'), got ${describe(id)}`);
  }
}

export function assertRunId(id: unknown, where: string): asserts id is string {
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    throw invalidOption(`${where} must be a run id (1 to 64 letters, digits, '_' or '-'), got ${describe(id)}`);
  }
}

export type OptionKind = 'positive-int' | 'nat' | 'boolean' | 'function' | 'custom-job-id' | 'iterable';

/** Checks an options object against its spec: unknown keys and bad values name the option. */
export function checkOptions(options: unknown, spec: Record<string, OptionKind>, call: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption(`options of ${call} must be an object, got ${describe(options)}`);
  }
  for (const [key, value] of Object.entries(options)) {
    const kind = spec[key];
    if (!kind) {
      throw invalidOption(`options.${key} is not an option of ${call} (options: ${Object.keys(spec).join(', ')})`);
    }
    if (value === undefined) continue;
    const problem = problemWith(value, kind);
    if (problem) throw invalidOption(`options.${key} must be ${problem}, got ${describe(value)}`);
  }
}

function problemWith(value: unknown, kind: OptionKind): string | undefined {
  switch (kind) {
    case 'positive-int':
      return Number.isSafeInteger(value) && (value as number) >= 1 ? undefined : 'a positive integer';
    case 'nat':
      return Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'a non-negative integer';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'a boolean';
    case 'function':
      return typeof value === 'function' ? undefined : 'a function';
    case 'custom-job-id':
      return typeof value === 'string' && CUSTOM_JOB_ID.test(value) && !/^\d+$/.test(value)
        ? undefined
        : "a job id of 1 to 128 letters, digits, '.', '_' or '-', not only digits";
    case 'iterable':
      return isInputs(value) ? undefined : 'an array, an iterable or an async iterable';
  }
}

export function isInputs(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function' ||
      typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function')
  );
}

export function invalidOption(message: string): PhotonsError {
  return new PhotonsError(ErrorCodes.INVALID_OPTION, `${message}.`);
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
