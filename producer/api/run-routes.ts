// Routes for map runs: start one, read its progress, stream its results as NDJSON (read back
// from Redis, so any API process can serve the results of any run within its TTL).
import { Readable } from 'node:stream';
import type {} from '@fastify/swagger';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { ErrorCodes } from '../../errors';
import type { PhotonsClient } from '../client';
import { MapRun } from '../map-run';
import { timelineSvg } from '../timeline-svg';
import { MAX_RUN_ID_LENGTH } from '../../contract/rules';
import { anyJson, errorResponses, fnField, runProgress } from './schemas';

/** api.maxRuns's default, for a buildApi caller that does not say. */
export const DEFAULT_MAX_RUNS = 64;

export const runIdParams = {
  type: 'object',
  properties: { runId: { type: 'string', minLength: 1, maxLength: MAX_RUN_ID_LENGTH } },
  required: ['runId'],
} as const;

export interface RunRoutesOptions {
  client: PhotonsClient;
  logger: FastifyBaseLogger;
  /** api.maxRuns: map runs this process runs at once (each reads Redis and holds its window). */
  maxRuns?: number;
}

export function runRoutes(app: FastifyInstance, { client, logger, maxRuns = DEFAULT_MAX_RUNS }: RunRoutesOptions): void {
  let running = 0;

  app.post<{ Body: { fn: string; inputs: unknown[]; reduce?: string; chunkSize?: number; failFast?: boolean; attempts?: number } }>('/runs', {
    schema: {
      summary: 'Start a map run over the inputs, or a map-reduce run',
      description:
        'The run goes on in this server; follow it with GET /runs/{runId} and GET /runs/{runId}/results. With `reduce`, one job of that function reads every result once the map ends (ctx.results()); its result is GET /jobs/{reduceJobId}.',
      tags: ['runs'],
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['fn', 'inputs'],
        properties: {
          fn: fnField,
          inputs: { type: 'array', items: anyJson },
          reduce: { ...fnField, description: `A reduce function: one job of it reads the map results in input order. ${fnField.description}` },
          chunkSize: { type: 'integer', minimum: 1, description: 'Inputs per BullMQ job; results stay per item.' },
          failFast: { type: 'boolean' },
          attempts: { type: 'integer', minimum: 1 },
        },
      },
      response: { 202: runProgress, ...errorResponses },
    },
    handler: async (request, reply) => {
      if (running >= maxRuns) {
        return reply
          .code(429)
          .header('retry-after', '1')
          .send({
            error: {
              code: ErrorCodes.TOO_MANY_RUNS,
              message: `This API process already runs ${running} map runs (api.maxRuns): wait for one to end (GET /runs/{runId}), send the inputs to fewer, larger runs, or raise api.maxRuns (PHOTONS_API_MAX_RUNS).`,
            },
          });
      }
      const { fn, inputs, reduce, ...options } = request.body;
      // Counted from before map() answers: requests arriving together cannot all slip under the limit.
      running++;
      let run;
      try {
        run = reduce === undefined ? await client.map(fn, inputs, options) : await client.mapReduce(fn, inputs, reduce, options);
      } catch (err) {
        running--;
        throw err;
      }
      const { id } = run;
      // Nobody iterates a run started over HTTP: it consumes its own results, which stay in Redis
      // (a map-reduce run's go to its reducer, which this process starts at the end of the map).
      (run instanceof MapRun ? run.finished() : run.reduceStarted())
        .catch((err: unknown) => logger.warn({ err, runId: id }, 'map run stopped'))
        .finally(() => running--);
      return reply.code(202).send(run.progress());
    },
  });

  app.get<{ Params: { runId: string } }>('/runs/:runId', {
    schema: { summary: "A run's progress", tags: ['runs'], params: runIdParams, response: { 200: runProgress, ...errorResponses } },
    handler: (request) => client.runProgress(request.params.runId),
  });

  app.get<{ Params: { runId: string } }>('/runs/:runId/timeline.svg', {
    schema: {
      summary: "A picture of a run: each job's wait and execution over time (a density for thousands), failures marked, and a histogram of execution times",
      tags: ['runs'],
      params: runIdParams,
      response: { 200: { type: 'string', description: 'image/svg+xml' }, ...errorResponses },
    },
    handler: async (request, reply) => reply.type('image/svg+xml; charset=utf-8').send(timelineSvg(await client.runTimeline(request.params.runId))),
  });

  app.get<{ Params: { runId: string }; Querystring: { ordered?: 'true' | 'false' } }>('/runs/:runId/results', {
    schema: {
      summary: "A run's results as NDJSON, one {index, ok, value | error} line per item, until the run ends",
      tags: ['runs'],
      params: runIdParams,
      querystring: { type: 'object', additionalProperties: false, properties: { ordered: { type: 'string', enum: ['true', 'false'] } } },
      response: { 200: { type: 'string', description: 'application/x-ndjson' }, ...errorResponses },
    },
    handler: async (request, reply) => {
      const run = await client.resumeRun(request.params.runId, { ordered: request.query.ordered === 'true' });
      const results = run[Symbol.asyncIterator]();
      // Pulled only when the socket has room: the run reads Redis no further ahead than the client
      // reads (MapRun's read-ahead), so a slow client costs neither memory nor Redis work.
      let started = false;
      const body = new Readable({
        highWaterMark: 16,
        read() {
          // The status and headers go out now, not with the first result, which may be minutes away.
          if (!started && !reply.raw.headersSent) reply.raw.flushHeaders();
          started = true;
          results.next().then(
            (next) => void this.push(next.done ? null : `${JSON.stringify(next.value)}\n`),
            (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
          );
        },
      });
      // A client that hangs up stops the reading at once, even while the run waits for a result
      // (a generator's return would wait for that result); the run itself goes on.
      const stop = (): void => {
        if (reply.raw.writableFinished) return;
        body.destroy();
        void run.detach();
      };
      reply.raw.once('close', stop);
      request.raw.socket?.once('close', stop);
      body.on('error', (err) => logger.warn({ err, runId: run.id }, 'results stream ended early'));
      return reply.type('application/x-ndjson').send(body);
    },
  });
}
