// Every error the HTTP API answers, as `{ error: { code, message } }` with a 4xx for anything the
// caller can fix: our own PhotonsErrors, fastify's parsing and schema errors, and the rest.
import type { FastifyError } from 'fastify';
import { ErrorCodes, PhotonsError, type ErrorCode } from '../../errors';

export interface ApiError {
  status: number;
  code: ErrorCode;
  message: string;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.UNKNOWN_FUNCTION]: 404,
  [ErrorCodes.JOB_NOT_FOUND]: 404,
  [ErrorCodes.RUN_NOT_FOUND]: 404,
  [ErrorCodes.ROUTE_NOT_FOUND]: 404,
  [ErrorCodes.INVALID_FUNCTION_NAME]: 400,
  [ErrorCodes.INVALID_OPTION]: 400,
  [ErrorCodes.INPUT_NOT_JSON]: 400,
  [ErrorCodes.BAD_REQUEST]: 400,
  [ErrorCodes.USAGE]: 400,
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.BODY_TOO_LARGE]: 413,
  [ErrorCodes.RUN_INCOMPLETE]: 409,
  // The function exists but does not load: nothing the request can change, yet no server fault.
  [ErrorCodes.BUNDLE]: 422,
  [ErrorCodes.FUNCTION_INIT]: 422,
  [ErrorCodes.NO_HANDLER]: 422,
  [ErrorCodes.FUNCTION_CONFIG]: 422,
  [ErrorCodes.REDIS_UNAVAILABLE]: 503,
  [ErrorCodes.INPUT_TOO_DEEP]: 400,
  [ErrorCodes.TOO_MANY_INPUTS]: 400,
  [ErrorCodes.JOB_EXISTS]: 409,
  [ErrorCodes.REQUEST_TIMEOUT]: 408,
  [ErrorCodes.RATE_LIMITED]: 429,
  [ErrorCodes.INVALID_SCHEDULE]: 400,
  [ErrorCodes.SCHEDULE_NOT_FOUND]: 404,
};

export function toApiError(err: unknown, bodyLimitBytes: number): ApiError {
  if (err instanceof PhotonsError) return { status: STATUS[err.code] ?? 500, code: err.code, message: err.message };
  const fastifyError = err as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(fastifyError.validation)) {
    return {
      status: 400,
      code: ErrorCodes.BAD_REQUEST,
      message: `${describeValidation(fastifyError.validation, fastifyError.validationContext)} See GET /openapi.json.`,
    };
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        code: ErrorCodes.BODY_TOO_LARGE,
        message: `The request body is larger than ${bodyLimitBytes} bytes (api.bodyLimitBytes, PHOTONS_API_BODY_LIMIT_BYTES): send fewer inputs per request, or start a map run and stream its results.`,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: ErrorCodes.BAD_REQUEST, message: 'The body must be JSON: send Content-Type: application/json.' };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = err instanceof SyntaxError ? `The body is not valid JSON (${err.message}).` : String(fastifyError.message);
    return { status, code: ErrorCodes.BAD_REQUEST, message };
  }
  return { status: 500, code: ErrorCodes.INTERNAL, message: INTERNAL_MESSAGE };
}

const INTERNAL_MESSAGE = 'The server failed on this request; its log has the details under this request id. Please report it.';

/**
 * What a 5xx answer may say: its code and the request id, under which the log holds the error in
 * full. Messages of server faults carry paths, hosts and stack frames a caller has no use for.
 */
export function publicAnswer(answer: ApiError, requestId: string): { error: { code: ErrorCode; message: string; requestId?: string } } {
  if (answer.status < 500) return { error: { code: answer.code, message: answer.message } };
  const message =
    answer.code === ErrorCodes.REDIS_UNAVAILABLE
      ? 'The job queues do not answer; try again shortly. Its log has the details under this request id.'
      : INTERNAL_MESSAGE;
  return { error: { code: answer.code === ErrorCodes.REDIS_UNAVAILABLE ? answer.code : ErrorCodes.INTERNAL, message, requestId } };
}

/**
 * Answers what goes wrong on a connection before a request reaches a route, in the API's own
 * shape: above all a request whose body is still arriving after api.requestTimeoutMs (a client
 * trickling its upload would otherwise hold a connection and a buffer for ever).
 */
export function clientErrorAnswer(err: NodeJS.ErrnoException, requestTimeoutMs: number): string {
  const [status, reason, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [
          408,
          'Request Timeout',
          ErrorCodes.REQUEST_TIMEOUT,
          `The request did not arrive whole within ${requestTimeoutMs} ms (api.requestTimeoutMs, PHOTONS_API_REQUEST_TIMEOUT_MS): send the body at once.`,
        ]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', ErrorCodes.BAD_REQUEST, 'The request headers are too large.']
        : [400, 'Bad Request', ErrorCodes.BAD_REQUEST, 'The request is not valid HTTP.'];
  const body = JSON.stringify({ error: { code, message } });
  return `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\n\r\n${body}`;
}

interface ValidationIssue {
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** "body.options.chunkSize must be integer" rather than ajv's "/options/chunkSize". */
function describeValidation(issues: ValidationIssue[], context = 'body'): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const where = `${context}${issue.instancePath.replace(/\//g, '.')}`;
      const extra = issue.params?.additionalProperty;
      if (typeof extra === 'string') return `${where} has an unknown field "${extra}".`;
      const missing = issue.params?.missingProperty;
      if (typeof missing === 'string') return `${where} lacks the required field "${missing}".`;
      return `${where} ${issue.message ?? 'is invalid'}.`;
    })
    .join(' ');
}
