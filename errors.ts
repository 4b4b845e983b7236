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
  /** The function module exports no handler: no default export function, no function named `handler`. */
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
  /** A function name that cannot name a queue (letters, digits, '-' and '_', starting with a letter). */
  INVALID_FUNCTION_NAME: 'PHOTONS_ERR_INVALID_FUNCTION_NAME',
  /** An option given to the client or the HTTP API has a bad value or is unknown. */
  INVALID_OPTION: 'PHOTONS_ERR_INVALID_OPTION',
  /** No job of that id exists (never enqueued, or its result expired). */
  JOB_NOT_FOUND: 'PHOTONS_ERR_JOB_NOT_FOUND',
  /** The job failed; the error carries the function's own error. */
  JOB_FAILED: 'PHOTONS_ERR_JOB_FAILED',
  /** Waiting for a job's result took longer than the caller allowed; the job may still finish. */
  WAIT_TIMEOUT: 'PHOTONS_ERR_WAIT_TIMEOUT',
  /** No run of that id exists (never started, or it expired). */
  RUN_NOT_FOUND: 'PHOTONS_ERR_RUN_NOT_FOUND',
  /** A run stopped before all its items were enqueued and cannot go on without its inputs. */
  RUN_INCOMPLETE: 'PHOTONS_ERR_RUN_INCOMPLETE',
  /** A run with failFast stopped at its first failed item. */
  RUN_FAILED: 'PHOTONS_ERR_RUN_FAILED',
  /** An HTTP request is malformed (not JSON, wrong types, missing fields). */
  BAD_REQUEST: 'PHOTONS_ERR_BAD_REQUEST',
  /** An HTTP request body is larger than api.bodyLimitBytes. */
  BODY_TOO_LARGE: 'PHOTONS_ERR_BODY_TOO_LARGE',
  /** An HTTP request lacks the bearer token, or has a wrong one. */
  UNAUTHORIZED: 'PHOTONS_ERR_UNAUTHORIZED',
  /** No HTTP route answers that method and path. */
  ROUTE_NOT_FOUND: 'PHOTONS_ERR_ROUTE_NOT_FOUND',
  /** A fault of Photons itself while answering a request: please report it. */
  INTERNAL: 'PHOTONS_ERR_INTERNAL',
  /** A job of that id exists with another function or another input. */
  JOB_EXISTS: 'PHOTONS_ERR_JOB_EXISTS',
  /** An input nests arrays and objects deeper than producer.maxInputDepth. */
  INPUT_TOO_DEEP: 'PHOTONS_ERR_INPUT_TOO_DEEP',
  /** One HTTP request carries more inputs than api.maxInputsPerRequest. */
  TOO_MANY_INPUTS: 'PHOTONS_ERR_TOO_MANY_INPUTS',
  /** Too many requests from one address, or in all: wait as Retry-After says. */
  RATE_LIMITED: 'PHOTONS_ERR_RATE_LIMITED',
  /** A request's body did not arrive within api.requestTimeoutMs. */
  REQUEST_TIMEOUT: 'PHOTONS_ERR_REQUEST_TIMEOUT',
  /** A file a command would write exists already (photons init never overwrites). */
  FILE_EXISTS: 'PHOTONS_ERR_FILE_EXISTS',
  /** A deployed bundle fails its checks (hash, name, signature): dispatchers refuse to run it. */
  DEPLOY_REJECTED: 'PHOTONS_ERR_DEPLOY_REJECTED',
  /** This API process already runs api.maxRuns map runs: wait for one to end, or raise the limit. */
  TOO_MANY_RUNS: 'PHOTONS_ERR_TOO_MANY_RUNS',
  /** An unauthenticated request named a Host that is not in api.allowedHosts (DNS rebinding). */
  HOST_NOT_ALLOWED: 'PHOTONS_ERR_HOST_NOT_ALLOWED',
  /** A state-changing dashboard request came from another site (its Origin or Referer). */
  CROSS_SITE: 'PHOTONS_ERR_CROSS_SITE',
  /** Too many dashboard sign-in attempts from one address: wait, then try again. */
  TOO_MANY_SIGN_INS: 'PHOTONS_ERR_TOO_MANY_SIGN_INS',
  /** A schedule's id, interval, cron expression or time zone is invalid. */
  INVALID_SCHEDULE: 'PHOTONS_ERR_INVALID_SCHEDULE',
  /** No schedule of that id exists. */
  SCHEDULE_NOT_FOUND: 'PHOTONS_ERR_SCHEDULE_NOT_FOUND',
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

/** A job that failed: `jobError` is the function's own error as the dispatcher stored it. */
export class JobFailedError extends PhotonsError {
  constructor(
    readonly fn: string,
    readonly jobId: string,
    readonly jobError: SerializedError,
  ) {
    super(ErrorCodes.JOB_FAILED, `Job ${jobId} of "${fn}" failed: ${jobError.code}: ${jobError.message}`);
    this.name = 'JobFailedError';
  }
}
