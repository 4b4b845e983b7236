// The HTTP API: the client's operations as JSON over HTTP, with schema validation on every route,
// an OpenAPI document, a body limit and bearer-token auth; `startApi` is what `photons api` runs.
import { createHash, timingSafeEqual } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { PhotonsConfig } from '../../config';
import { ErrorCodes, PhotonsError } from '../../errors';
import { PhotonsClient } from '../client';
import { clientErrorAnswer, publicAnswer, toApiError } from './api-errors';
import { MAX_JOB_ID_LENGTH } from '../job-id';
import { hostCheck } from './host-check';
import { jobRoutes } from './job-routes';
import { parseJsonBodies } from './json-body';
import { isMonitoringPath, monitoring, monitoringOptions } from './monitoring';
import { runRoutes } from './run-routes';
import { scheduleRoutes } from './schedule-routes';

const VERSION: string = (require('../../../package.json') as { version: string }).version;
/** How long the rest of a refused upload is read and dropped before its connection is cut. */
const LINGER_MS = 5_000;
/** Routes anyone may read: they run nothing and reveal no data. */
const PUBLIC_ROUTES = new Set(['/health', '/openapi.json']);

export interface ApiOptions {
  client: PhotonsClient;
  /** Bearer token every request must carry; empty or undefined: no auth. */
  token?: string;
  bodyLimitBytes?: number;
  /** POST /invoke waits at most this long. */
  maxWaitMs?: number;
  /** api.maxRuns: map runs this process runs at once. */
  maxRuns?: number;
  /** api.allowedHosts and api.dashboardPublic: the Host names answered without a token. */
  allowedHosts?: string;
  dashboardPublic?: boolean;
  logger?: Logger;
  /** Most inputs of one POST /jobs/bulk or POST /runs. */
  maxInputsPerRequest?: number;
  /** Requests per rateLimitWindowMs from one address, and from all; 0: no limit. */
  rateLimitPerAddress?: number;
  rateLimitGlobal?: number;
  rateLimitWindowMs?: number;
  /** A request not arrived whole (headers and body) after this long answers 408 and is closed. */
  requestTimeoutMs?: number;
}

/** Routes whose body carries a list of inputs, bounded by maxInputsPerRequest. */
const INPUT_LIST_ROUTES = new Set(['/jobs/bulk', '/runs']);

/** Builds the API over a client, ready for `inject` or `listen`; the caller closes both. */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const { client, token, bodyLimitBytes = 1_048_576, maxWaitMs = 30_000, maxInputsPerRequest = 10_000 } = options;
  const { rateLimitPerAddress = 50_000, rateLimitGlobal = 200_000, rateLimitWindowMs = 10_000, requestTimeoutMs = 60_000 } = options;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger | undefined,
    bodyLimit: bodyLimitBytes,
    // fastify's default (100) is below the longest job id: GET /jobs/{id} must read every id it accepts.
    routerOptions: { maxParamLength: MAX_JOB_ID_LENGTH + 56 },
    requestTimeout: requestTimeoutMs,
    // Node looks for requests past requestTimeout this often (default 30 s, longer than a short
    // timeout), and enforces none while headersTimeout (default 60 s) is above it.
    http: { connectionsCheckingInterval: Math.min(1_000, requestTimeoutMs), headersTimeout: Math.min(60_000, requestTimeoutMs) },
    clientErrorHandler(err, socket) {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(clientErrorAnswer(err, requestTimeoutMs));
      socket.destroy(err);
    },
    // The router's own refusals (a malformed URL, a path segment past maxParamLength) answer like every other 4xx.
    frameworkErrors(err, _request, reply) {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void (reply as FastifyReply).code(tooLong ? 414 : 400).send({
        error: {
          code: ErrorCodes.BAD_REQUEST,
          message: tooLong
            ? `A part of the path is longer than ${MAX_JOB_ID_LENGTH + 56} characters: ids are at most ${MAX_JOB_ID_LENGTH}.`
            : 'The URL is malformed (bad percent-encoding): encode ids with encodeURIComponent.',
        },
      });
    },
    // Strict types: a string "5" is not the integer 5, and an unknown field is an error, not dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  parseJsonBodies(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Photons API', version: VERSION, description: 'Enqueue jobs, invoke functions and run maps over Photons dispatchers.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: token ? [{ bearer: [] }] : [],
    },
  });

  app.setErrorHandler((err, request, reply) => {
    const answer = toApiError(err, bodyLimitBytes);
    if (answer.status >= 500) request.log.error({ err, url: request.url, requestId: request.id }, 'request failed');
    void reply.code(answer.status).send(publicAnswer(answer, request.id));
  });
  await rateLimits(app, { perAddress: rateLimitPerAddress, global: rateLimitGlobal, windowMs: rateLimitWindowMs });
  app.addHook('preHandler', async (request) => {
    const inputs = (request.body as { inputs?: unknown } | undefined)?.inputs;
    if (Array.isArray(inputs) && inputs.length > maxInputsPerRequest && INPUT_LIST_ROUTES.has(request.routeOptions.url ?? '')) {
      throw new PhotonsError(
        ErrorCodes.TOO_MANY_INPUTS,
        `This request carries ${inputs.length} inputs, more than ${maxInputsPerRequest} (api.maxInputsPerRequest, PHOTONS_API_MAX_INPUTS_PER_REQUEST): send them in several requests, or map over them with the client.`,
      );
    }
  });
  // An upload over the body limit is refused before it is all read. Closing the connection at once
  // (fastify's way, and Node's for a client that asked for close) resets a client that is still
  // writing, which then never reads the 413. As nginx's lingering close does, the connection stays
  // open while the rest of the body is read and dropped, for LINGER_MS at most; the client closes
  // it when done, or reuses it (the HTTP parser has skipped the whole body).
  app.addHook('onSend', async (request, reply) => {
    const incoming = request.raw;
    if (reply.statusCode !== 413 || incoming.complete) return;
    reply.removeHeader('connection');
    reply.raw.shouldKeepAlive = true;
    reply.raw.once('finish', () => {
      if (incoming.complete) return;
      // IncomingMessage.destroy() closes its socket (and works on inject()'s stand-in too).
      const cut = setTimeout(() => incoming.destroy(), LINGER_MS).unref();
      incoming.once('end', () => clearTimeout(cut)).once('close', () => clearTimeout(cut));
    });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({
      error: { code: ErrorCodes.ROUTE_NOT_FOUND, message: `No route ${request.method} ${request.url.split('?')[0]}. GET /openapi.json lists the routes.` },
    });
  });
  hostCheck(app, { token, allowedHosts: options.allowedHosts, dashboardPublic: options.dashboardPublic });
  if (token) {
    const expected = digest(token);
    app.addHook('onRequest', async (request) => {
      if (PUBLIC_ROUTES.has(request.url.split('?')[0]!) || isMonitoringPath(request.url)) return;
      const header = request.headers.authorization ?? '';
      const match = /^Bearer (.+)$/i.exec(header);
      if (!match) throw new PhotonsError(ErrorCodes.UNAUTHORIZED, 'This API needs a bearer token: send Authorization: Bearer <api.token>.');
      if (!timingSafeEqual(digest(match[1]!), expected))
        throw new PhotonsError(ErrorCodes.UNAUTHORIZED, 'The bearer token is wrong: use the value of api.token (PHOTONS_API_TOKEN).');
    });
  }

  app.get('/health', { schema: { summary: 'Liveness', tags: ['meta'] } }, async () => ({ ok: true }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  jobRoutes(app, { client, maxWaitMs });
  runRoutes(app, { client, logger: app.log, maxRuns: options.maxRuns });
  scheduleRoutes(app, { client });
  return app;
}

export interface RunningApi {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8321 */
  url: string;
  /** Stops listening, then closes the client's connections. */
  close(): Promise<void>;
}

/**
 * Starts the API from the process config (api.* keys) and listens. Refuses a non-loopback host
 * without a token unless api.allowUnauthenticated: anyone reaching it could run every function.
 */
export async function startApi(config: Readonly<PhotonsConfig>, logger: Logger): Promise<RunningApi> {
  const {
    host,
    port,
    token,
    allowUnauthenticated,
    bodyLimitBytes,
    maxWaitMs,
    maxInputsPerRequest,
    rateLimitPerAddress,
    rateLimitGlobal,
    rateLimitWindowMs,
    requestTimeoutMs,
  } = config.api;
  const { maxRuns, allowedHosts, dashboardPublic } = config.api;
  if (!token && !isLoopback(host) && !allowUnauthenticated) {
    throw new PhotonsError(
      ErrorCodes.CONFIG,
      `Refusing to serve the API on ${host} without a token: anyone who reaches it could run your functions. Set api.token (PHOTONS_API_TOKEN), listen on 127.0.0.1, or set api.allowUnauthenticated (PHOTONS_API_ALLOW_UNAUTHENTICATED=true) if a network boundary protects it.`,
    );
  }
  const client = PhotonsClient.fromConfig(config);
  const app = await buildApi({
    client,
    token,
    bodyLimitBytes,
    maxWaitMs,
    maxRuns,
    allowedHosts,
    dashboardPublic,
    logger: logger.child({ component: 'api' }),
    maxInputsPerRequest,
    rateLimitPerAddress,
    rateLimitGlobal,
    rateLimitWindowMs,
    requestTimeoutMs,
  });
  await app.register(monitoring, monitoringOptions(config));
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    await client.close();
    throw new PhotonsError(
      ErrorCodes.CONFIG,
      `The API cannot listen on ${host}:${port} (${(err as Error).message}). Pick another api.port (PHOTONS_API_PORT).`,
      { cause: err },
    );
  }
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  logger.info({ url, auth: Boolean(token) }, `API listening on ${url}`);
  return {
    app,
    url,
    async close() {
      await app.close();
      await client.close();
    },
  };
}

/**
 * Two request quotas per window, before auth (a token guesser is limited too): one per client
 * address, one for all addresses together. Over either, 429 PHOTONS_ERR_RATE_LIMITED with
 * Retry-After in seconds. Counted in this process: each API process has its own quotas.
 */
async function rateLimits(app: FastifyInstance, limits: { perAddress: number; global: number; windowMs: number }): Promise<void> {
  if (limits.perAddress === 0 && limits.global === 0) return;
  await app.register(rateLimit, { global: false });
  const checks = [
    {
      max: limits.perAddress,
      scope: 'from this address',
      key: 'api.rateLimitPerAddress (PHOTONS_API_RATE_LIMIT_PER_ADDRESS)',
      limiter: app.createRateLimit({ max: limits.perAddress, timeWindow: limits.windowMs }),
    },
    {
      max: limits.global,
      scope: 'in all',
      key: 'api.rateLimitGlobal (PHOTONS_API_RATE_LIMIT_GLOBAL)',
      limiter: app.createRateLimit({ max: limits.global, timeWindow: limits.windowMs, keyGenerator: () => 'all' }),
    },
  ].filter((check) => check.max > 0);
  app.addHook('onRequest', async (request, reply) => {
    for (const { max, scope, key, limiter } of checks) {
      const state = await limiter(request);
      if (state.isAllowed || !state.isExceeded) continue;
      void reply.header('retry-after', String(state.ttlInSeconds));
      throw new PhotonsError(
        ErrorCodes.RATE_LIMITED,
        `More than ${max} requests ${scope} within ${limits.windowMs} ms (${key}): retry after ${state.ttlInSeconds} s.`,
      );
    }
  });
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
