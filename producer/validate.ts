// Checks what a caller hands the producer before anything reaches Redis: function names, inputs
// that must survive JSON unchanged, job ids and option values, with messages naming what is wrong.
import { ErrorCodes, PhotonsError } from '../errors';
import {
  ANY_JOB_ID_PATTERN,
  DEFAULT_MAX_INPUT_DEPTH,
  FUNCTION_NAME,
  FUNCTION_NAME_RULE,
  MAX_JOB_ID_LENGTH,
  MAX_PRIORITY,
  MAX_RUN_ID_LENGTH,
  RUN_ID_PATTERN,
} from '../contract/rules';
import { assertCustomJobId } from './job-id';

export { DEFAULT_MAX_INPUT_DEPTH, MAX_PRIORITY };

export function assertFunctionName(fn: unknown): asserts fn is string {
  if (typeof fn !== 'string' || !FUNCTION_NAME.test(fn)) {
    throw new PhotonsError(
      ErrorCodes.INVALID_FUNCTION_NAME,
      `${JSON.stringify(fn) ?? String(fn)} is not a valid function name: use ${FUNCTION_NAME_RULE} (the function's file name without extension).`,
    );
  }
}

/** A value to check, and where it sits: its path is spelled out only for the error message. */
interface Place {
  value: unknown;
  parent: Place | undefined;
  key: string | number;
  depth: number;
}
type Step = Place | { leave: object };

/**
 * Throws unless `value` is exactly what JSON can carry. JSON.stringify would quietly turn NaN into
 * null, a Map into {} and drop functions: the function would then run on an input nobody sent.
 * Object properties holding undefined are allowed (JSON drops them, as TypeScript callers expect).
 * Arrays and objects may nest `maxDepth` deep. The walk keeps its own stack rather than recursing:
 * an input nested thousands deep (a few kilobytes of brackets) must be refused, not overflow the
 * call stack of the process that checks it. It runs for every input of a map, so paths are built
 * only when something is wrong.
 */
export function assertJson(value: unknown, where: string, maxDepth = DEFAULT_MAX_INPUT_DEPTH): void {
  const ancestors = new Set<object>();
  const fail = (place: Place, what: string): never => {
    throw new PhotonsError(
      ErrorCodes.INPUT_NOT_JSON,
      `${pathOf(place, where)} is ${what}; inputs must be JSON: null, booleans, finite numbers, strings, arrays and plain objects.`,
    );
  };
  const stack: Step[] = [{ value, parent: undefined, key: '', depth: 0 }];
  while (stack.length > 0) {
    const step = stack.pop()!;
    if ('leave' in step) {
      ancestors.delete(step.leave);
      continue;
    }
    const { value: v, depth } = step;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) fail(step, `${v} (JSON has no NaN or Infinity)`);
      continue;
    }
    if (typeof v !== 'object') fail(step, v === undefined ? 'undefined' : `a ${typeof v}`);
    const container = v as object;
    if (ancestors.has(container)) fail(step, 'a circular reference');
    if (depth >= maxDepth) {
      const path = pathOf(step, where);
      throw new PhotonsError(
        ErrorCodes.INPUT_TOO_DEEP,
        `${where} nests arrays and objects more than ${maxDepth} levels deep (at ${path.length > 80 ? `${path.slice(0, 77)}...` : path}): flatten it, or raise producer.maxInputDepth (PHOTONS_MAX_INPUT_DEPTH).`,
      );
    }
    ancestors.add(container);
    stack.push({ leave: container });
    const first = stack.length;
    if (Array.isArray(container)) {
      // Holes are skipped, as forEach skips them (JSON writes them as null).
      for (let i = 0; i < container.length; i++) if (i in container) stack.push({ value: container[i] as unknown, parent: step, key: i, depth: depth + 1 });
    } else {
      const proto: unknown = Object.getPrototypeOf(container);
      if (proto !== Object.prototype && proto !== null) {
        fail(step, `a ${(container as { constructor?: { name?: string } }).constructor?.name ?? 'class instance'} object, not a plain object`);
      }
      for (const key in container) {
        if (!Object.hasOwn(container, key)) continue;
        const item = (container as Record<string, unknown>)[key];
        if (item !== undefined) stack.push({ value: item, parent: step, key, depth: depth + 1 });
      }
    }
    // Reversed in place, so the first bad item is the one reported.
    for (let i = first, j = stack.length - 1; i < j; i++, j--) {
      const swapped = stack[i]!;
      stack[i] = stack[j]!;
      stack[j] = swapped;
    }
  }
}

/** `inputs[3].a[2]["odd key"]`: where a value sits, for a message. */
function pathOf(place: Place, where: string): string {
  const keys: Array<string | number> = [];
  for (let at: Place | undefined = place; at?.parent; at = at.parent) keys.push(at.key);
  let path = where;
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!;
    path += typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }
  return path;
}

const ANY_JOB_ID = new RegExp(ANY_JOB_ID_PATTERN);
const RUN_ID = new RegExp(RUN_ID_PATTERN);

export function assertJobId(id: unknown, where: string): asserts id is string {
  if (typeof id !== 'string' || !ANY_JOB_ID.test(id)) {
    throw invalidOption(`${where} must be a job id (1 to ${MAX_JOB_ID_LENGTH} letters, digits, '.', ':', '_' or '-'), got ${describe(id)}`);
  }
}

export function assertRunId(id: unknown, where: string): asserts id is string {
  if (typeof id !== 'string' || !RUN_ID.test(id)) {
    throw invalidOption(`${where} must be a run id (1 to ${MAX_RUN_ID_LENGTH} letters, digits, '_' or '-'), got ${describe(id)}`);
  }
}

export type OptionKind = 'positive-int' | 'nat' | 'boolean' | 'function' | 'custom-job-id' | 'iterable' | 'attempts' | 'delay-ms' | 'backoff-ms' | 'priority';

/** The bounds of the job options, checked here because BullMQ would fail on them with a bare Error. */
export interface OptionLimits {
  /** producer.maxAttempts */
  maxAttempts: number;
  /** producer.maxDelayMs: delayMs and backoffMs */
  maxDelayMs: number;
}

export const DEFAULT_OPTION_LIMITS: Readonly<OptionLimits> = { maxAttempts: 1_000, maxDelayMs: 31_536_000_000 };

/** Checks an options object against its spec: unknown keys and bad values name the option. */
export function checkOptions(options: unknown, spec: Record<string, OptionKind>, call: string, limits: Readonly<OptionLimits> = DEFAULT_OPTION_LIMITS): void {
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
    if (kind === 'custom-job-id') {
      assertCustomJobId(value, `options.${key}`);
      continue;
    }
    const problem = problemWith(value, kind, limits);
    if (problem) throw invalidOption(`options.${key} must be ${problem}, got ${describe(value)}`);
  }
}

function problemWith(value: unknown, kind: Exclude<OptionKind, 'custom-job-id'>, limits: Readonly<OptionLimits>): string | undefined {
  const between = (min: number, max: number, what: string): string | undefined =>
    Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max ? undefined : what;
  switch (kind) {
    case 'attempts':
      return between(1, limits.maxAttempts, `an integer from 1 to ${limits.maxAttempts} (producer.maxAttempts)`);
    case 'delay-ms':
      return between(0, limits.maxDelayMs, `an integer from 0 to ${limits.maxDelayMs} ms (producer.maxDelayMs)`);
    case 'backoff-ms':
      return between(1, limits.maxDelayMs, `an integer from 1 to ${limits.maxDelayMs} ms (producer.maxDelayMs)`);
    case 'priority':
      return between(1, MAX_PRIORITY, `an integer from 1 (highest) to ${MAX_PRIORITY} (BullMQ's lowest)`);
    case 'positive-int':
      return Number.isSafeInteger(value) && (value as number) >= 1 ? undefined : 'a positive integer';
    case 'nat':
      return Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'a non-negative integer';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'a boolean';
    case 'function':
      return typeof value === 'function' ? undefined : 'a function';
    case 'iterable':
      return isInputs(value) ? undefined : 'an array, an iterable or an async iterable';
  }
}

export function isInputs(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function' || typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function')
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
