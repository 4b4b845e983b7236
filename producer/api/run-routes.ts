// Routes for map runs: start one, read its progress, stream its results as NDJSON (read back
// from Redis, so any API process can serve the results of any run within its TTL).
import { Readable } from 'node:stream';
import type {} from '@fastify/swagger';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { PhotonsClient } from '../client';
import { MAX_RUN_ID_LENGTH } from '../../contract/rules';
import { anyJson, errorResponses, fnField, runProgress } from './schemas';

const runIdParams = { type: 'object', properties: { runId: { type: 'string', minLength: 1, maxLength: MAX_RUN_ID_LENGTH } }, required: ['runId'] } as const;

export function runRoutes(app: FastifyInstance, { client, logger }: { client: PhotonsClient; logger: FastifyBaseLogger }): void {
  app.post<{ Body: { fn: string; inputs: unknown[]; chunkSize?: number; failFast?: boolean; attempts?: number } }>('/runs', {
    schema: {
      summary: 'Start a map run over the inputs',
      description: 'The run goes on in this server; follow it with GET /runs/{runId} and GET /runs/{runId}/results.',
      tags: ['runs'],
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['fn', 'inputs'],
        properties: {
          fn: fnField,
          inputs: { type: 'array', items: anyJson },
          chunkSize: { type: 'integer', minimum: 1, description: 'Inputs per BullMQ job; results stay per item.' },
          failFast: { type: 'boolean' },
          attempts: { type: 'integer', minimum: 1 },
        },
      },
      response: { 202: runProgress, ...errorResponses },
    },
    handler: async (request, reply) => {
      const { fn, inputs, ...options } = request.body;
      const run = await client.map(fn, inputs, options);
      // Nobody iterates a run started over HTTP: it consumes its own results, which stay in Redis.
      run.finished().catch((err: unknown) => logger.warn({ err, runId: run.id }, 'map run stopped'));
      return reply.code(202).send(run.progress());
    },
  });

  app.get<{ Params: { runId: string } }>('/runs/:runId', {
    schema: { summary: "A run's progress", tags: ['runs'], params: runIdParams, response: { 200: runProgress, ...errorResponses } },
    handler: (request) => client.runProgress(request.params.runId),
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
      async function* lines(): AsyncGenerator<string> {
        for await (const result of run) yield `${JSON.stringify(result)}\n`;
      }
      const body = Readable.from(lines());
      // A client that hangs up stops the reading; the run itself goes on.
      request.raw.once('close', () => body.destroy());
      body.on('error', (err) => logger.warn({ err, runId: run.id }, 'results stream ended early'));
      return reply.type('application/x-ndjson').send(body);
    },
  });
}
