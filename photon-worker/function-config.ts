// Checks a function's `export const config`: a typo here should stop the deploy, not be ignored.
import { ErrorCodes, PhotonsError } from '../errors';
import { JOB_LOG_LEVELS, isJobLogLevel } from './job-log';
import type { FunctionConfig } from './types';

type NumericKey = Exclude<keyof FunctionConfig, BooleanKey | 'jobLogLevel' | 'rateLimit'>;
type BooleanKey = 'protectBuiltins';
const BOOLEAN_KEYS: readonly BooleanKey[] = ['protectBuiltins'];
const RATE_LIMIT = { max: { min: 1, max: 1_000_000 }, durationMs: { min: 10, max: 24 * 3600_000 } };

const LIMITS: Record<NumericKey, { min: number; max: number }> = {
  timeoutMs: { min: 1, max: 24 * 3600_000 },
  photonsPerRuntime: { min: 1, max: 100_000 },
  memoryMb: { min: 16, max: 64 * 1024 },
  attempts: { min: 1, max: 1000 },
  backoffMs: { min: 0, max: 24 * 3600_000 },
  maxConcurrency: { min: 1, max: 100_000 },
};

export function validateFunctionConfig(value: unknown, functionName: string, file: string): FunctionConfig {
  if (value === undefined) return {};
  const where = `Function "${functionName}" (${file}): export const config`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PhotonsError(ErrorCodes.FUNCTION_CONFIG, `${where} must be an object, got ${typeof value}.`);
  }
  const config: FunctionConfig = {};
  for (const [key, raw] of Object.entries(value)) {
    // A plain comparison, not BOOLEAN_KEYS.includes: this runs for every photon, and a function that
    // opted out of protected builtins may have patched Array.prototype.includes.
    if (key === 'protectBuiltins') {
      if (typeof raw !== 'boolean') {
        throw new PhotonsError(ErrorCodes.FUNCTION_CONFIG, `${where}.${key} must be true or false, got ${JSON.stringify(raw)}.`);
      }
      config[key as BooleanKey] = raw;
      continue;
    }
    if (key === 'jobLogLevel') {
      if (!isJobLogLevel(raw)) {
        throw new PhotonsError(ErrorCodes.FUNCTION_CONFIG, `${where}.${key} must be one of ${JOB_LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}.`);
      }
      config.jobLogLevel = raw;
      continue;
    }
    if (key === 'rateLimit') {
      config.rateLimit = rateLimitOf(raw, `${where}.rateLimit`);
      continue;
    }
    const limit = LIMITS[key as NumericKey];
    if (!limit) {
      throw new PhotonsError(
        ErrorCodes.FUNCTION_CONFIG,
        `${where} has an unknown key "${key}"; the keys are ${[...Object.keys(LIMITS), 'rateLimit', ...BOOLEAN_KEYS, 'jobLogLevel'].join(', ')}.`,
      );
    }
    config[key as NumericKey] = integerIn(raw, limit, `${where}.${key}`);
  }
  return Object.freeze(config);
}

/** `{ max, durationMs }`: at most `max` jobs (items of a chunk) started per `durationMs` across the fleet. */
function rateLimitOf(raw: unknown, where: string): { max: number; durationMs: number } {
  const shape = `${where} must be { max: <jobs>, durationMs: <window in ms> }, e.g. { max: 10, durationMs: 1000 }`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new PhotonsError(ErrorCodes.FUNCTION_CONFIG, `${shape}, got ${JSON.stringify(raw)}.`);
  let known = 0;
  for (const key in raw) known += key === 'max' || key === 'durationMs' ? 1 : 100;
  if (known !== 2) throw new PhotonsError(ErrorCodes.FUNCTION_CONFIG, `${shape}, got ${JSON.stringify(raw)}.`);
  const { max, durationMs } = raw as Record<string, unknown>;
  return Object.freeze({
    max: integerIn(max, RATE_LIMIT.max, `${where}.max`),
    durationMs: integerIn(durationMs, RATE_LIMIT.durationMs, `${where}.durationMs`),
  });
}

function integerIn(raw: unknown, limit: { min: number; max: number }, where: string): number {
  if (!Number.isInteger(raw) || (raw as number) < limit.min || (raw as number) > limit.max) {
    throw new PhotonsError(ErrorCodes.FUNCTION_CONFIG, `${where} must be an integer from ${limit.min} to ${limit.max}, got ${JSON.stringify(raw)}.`);
  }
  return raw as number;
}
