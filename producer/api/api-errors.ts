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
};

export function toApiError(err: unknown, bodyLimitBytes: number): ApiError {
  if (err instanceof PhotonsError) return { status: STATUS[err.code] ?? 500, code: err.code, message: err.message };
  const fastifyError = err as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(fastifyError.validation)) {
    return { status: 400, code: ErrorCodes.BAD_REQUEST, message: `${describeValidation(fastifyError.validation, fastifyError.validationContext)} See GET /openapi.json.` };
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
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: ErrorCodes.BAD_REQUEST, message: 'The body is empty but Content-Type says JSON: send a JSON object.' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: ErrorCodes.BAD_REQUEST, message: `The body is not valid JSON (${fastifyError.message ?? ''}).` };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = err instanceof SyntaxError ? `The body is not valid JSON (${err.message}).` : String(fastifyError.message);
    return { status, code: ErrorCodes.BAD_REQUEST, message };
  }
  return { status: 500, code: ErrorCodes.INTERNAL, message: 'The server failed on this request; the logs have the details. Please report it.' };
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
