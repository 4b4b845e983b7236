// JSON schemas shared by the routes: they validate requests and make up the OpenAPI document. Their
// limits are the contract's rules (contract/rules.ts), the ones the client and the bundler check.
import { FUNCTION_NAME_RULE, MAX_FUNCTION_NAME_LENGTH, MAX_JOB_ID_LENGTH } from '../../contract/rules';

export const errorBody = {
  type: 'object',
  description: 'Every error: a stable PHOTONS_ERR_* code and a message saying what to do.',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        requestId: { type: 'string', description: 'On a 5xx: the id its log line carries.' },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

export const serializedError = {
  type: 'object',
  description: "The function's error as the dispatcher stored it.",
  properties: { code: { type: 'string' }, message: { type: 'string' }, stack: { type: 'string' } },
  required: ['code', 'message'],
} as const;

// No `pattern` here: a name of the right length but a wrong character is refused by the client's
// check, whose PHOTONS_ERR_INVALID_FUNCTION_NAME says what a name may hold.
export const fnField = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_FUNCTION_NAME_LENGTH,
  description: `Function name (its file name without extension): ${FUNCTION_NAME_RULE}.`,
} as const;

/** Any JSON value: the function's input or output. */
export const anyJson = { description: 'Any JSON value.' } as const;

export const jobOptions = {
  type: 'object',
  additionalProperties: false,
  properties: {
    attempts: { type: 'integer', minimum: 1 },
    backoffMs: { type: 'integer', minimum: 1 },
    delayMs: { type: 'integer', minimum: 0 },
    priority: { type: 'integer', minimum: 1 },
  },
} as const;

export const jobIdParams = {
  type: 'object',
  properties: { jobId: { type: 'string', minLength: 1, maxLength: MAX_JOB_ID_LENGTH } },
  required: ['jobId'],
} as const;

export const fnQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { fn: { ...fnField, description: "The job's function, if known (saves a lookup)." } },
} as const;

export const runProgress = {
  type: 'object',
  properties: {
    runId: { type: 'string' },
    fn: { type: 'string' },
    state: { type: 'string', enum: ['enqueuing', 'enqueued', 'done', 'cancelled', 'failed'] },
    total: { type: ['integer', 'null'] },
    enqueued: { type: 'integer' },
    done: { type: 'integer', description: 'Items finished, successfully or not.' },
    failed: { type: 'integer' },
    reduce: { type: 'string', description: 'A map-reduce run: the reduce function.' },
    reduceJobId: { type: 'string', description: "A map-reduce run: the reduce job's id; its result is GET /jobs/{reduceJobId}." },
  },
} as const;

/** The error answers every route may give, for the OpenAPI document. */
export const errorResponses = { 400: errorBody, 401: errorBody, 404: errorBody, 409: errorBody, 413: errorBody, 429: errorBody } as const;
