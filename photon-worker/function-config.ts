// Checks a function's `export const config`: a typo here should stop the deploy, not be ignored.
import { ErrorCodes, PhotonsError } from '../errors';
import { JOB_LOG_LEVELS, isJobLogLevel } from './job-log';
import type { FunctionConfig } from './types';

type NumericKey = Exclude<keyof FunctionConfig, BooleanKey | 'jobLogLevel'>;
type BooleanKey = 'protectBuiltins';
const BOOLEAN_KEYS: readonly BooleanKey[] = ['protectBuiltins'];

const LIMITS: Record<NumericKey, { min: number; max: number }> = {
  timeoutMs: { min: 1, max: 24 * 3600_000 },
  photonsPerRuntime: { min: 1, max: 100_000 },
  memoryMb: { min: 16, max: 64 * 1024 },
  attempts: { min: 1, max: 1000 },
  backoffMs: { min: 0, max: 24 * 3600_000 },
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
    const limit = LIMITS[key as NumericKey];
    if (!limit) {
      throw new PhotonsError(
        ErrorCodes.FUNCTION_CONFIG,
        `${where} has an unknown key "${key}"; the keys are ${[...Object.keys(LIMITS), ...BOOLEAN_KEYS, 'jobLogLevel'].join(', ')}.`,
      );
    }
    if (!Number.isInteger(raw) || (raw as number) < limit.min || (raw as number) > limit.max) {
      throw new PhotonsError(ErrorCodes.FUNCTION_CONFIG, `${where}.${key} must be an integer from ${limit.min} to ${limit.max}, got ${JSON.stringify(raw)}.`);
    }
    config[key as NumericKey] = raw as number;
  }
  return Object.freeze(config);
}
