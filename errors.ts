// Every error a user can meet, with a stable code. Codes are never reused once retired:
// scripts and dashboards match on them.

export const ErrorCodes = {
  /** A configuration value (env, file or flag) is invalid. */
  CONFIG: 'PHOTONS_ERR_CONFIG',
  /** A command-line flag or argument is missing or invalid. */
  USAGE: 'PHOTONS_ERR_USAGE',
  /** The function file does not exist. */
  FUNCTION_NOT_FOUND: 'PHOTONS_ERR_FUNCTION_NOT_FOUND',
  /** The function file could not be bundled (syntax error, missing local import). */
  BUNDLE: 'PHOTONS_ERR_BUNDLE',
  /** The function module threw while its top level ran. */
  FUNCTION_INIT: 'PHOTONS_ERR_FUNCTION_INIT',
  /** The function module has no default export function. */
  NO_HANDLER: 'PHOTONS_ERR_NO_HANDLER',
  /** The function's `export const config` is invalid. */
  FUNCTION_CONFIG: 'PHOTONS_ERR_FUNCTION_CONFIG',
  /** The handler threw or rejected. */
  HANDLER: 'PHOTONS_ERR_HANDLER',
  /** The handler threw something that is not an Error. */
  NON_ERROR_THROWN: 'PHOTONS_ERR_NON_ERROR_THROWN',
  /** The handler returned a value that cannot be stored as JSON. */
  RESULT_NOT_JSON: 'PHOTONS_ERR_RESULT_NOT_JSON',
  /** The input is not JSON. */
  INPUT_NOT_JSON: 'PHOTONS_ERR_INPUT_NOT_JSON',
  /** The job ran past its timeout. */
  TIMEOUT: 'PHOTONS_ERR_TIMEOUT',
  /** The job was cancelled. */
  CANCELLED: 'PHOTONS_ERR_CANCELLED',
  /** The runtime running the job died (crash, out of heap, blocked event loop). */
  RUNTIME_DIED: 'PHOTONS_ERR_RUNTIME_DIED',
  /** The job was present at repeated runtime deaths and is failed for good. */
  POISON: 'PHOTONS_ERR_POISON',
  /** No Redis answers and none could be started. */
  REDIS_UNAVAILABLE: 'PHOTONS_ERR_REDIS_UNAVAILABLE',
  /** A job's data does not have the shape its name promises (e.g. a chunk without items). */
  BAD_JOB: 'PHOTONS_ERR_BAD_JOB',
  /** No function of that name is deployed. */
  UNKNOWN_FUNCTION: 'PHOTONS_ERR_UNKNOWN_FUNCTION',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class PhotonsError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PhotonsError';
    this.code = code;
  }
}

/** The JSON form of an error, as stored in Redis and printed by the CLI. */
export interface SerializedError {
  code: string;
  message: string;
  name?: string;
  stack?: string;
}

export function isSerializedError(value: unknown): value is SerializedError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SerializedError).code === 'string' &&
    typeof (value as SerializedError).message === 'string'
  );
}
