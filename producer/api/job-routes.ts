// Routes for single jobs: enqueue one or many, invoke and wait, status and result, cancel.
import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { PhotonsClient } from '../client';
import type { EnqueueOptions } from '../types';
import { anyJson, errorResponses, fnField, fnQuery, jobIdParams, jobOptions, serializedError } from './schemas';

export interface JobRoutesOptions {
  client: PhotonsClient;
  /** POST /invoke waits at most this long, then answers 202 with the job id. */
  maxWaitMs: number;
}

export function jobRoutes(app: FastifyInstance, { client, maxWaitMs }: JobRoutesOptions): void {
  app.post<{ Body: { fn: string; input?: unknown; options?: EnqueueOptions & { jobId?: string } } }>('/jobs', {
    schema: {
      summary: 'Enqueue one job',
      tags: ['jobs'],
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['fn'],
        properties: { fn: fnField, input: anyJson, options: { ...jobOptions, properties: { ...jobOptions.properties, jobId: { type: 'string' } } } },
      },
      description:
        'options.jobId picks the id. Sent again with the same fn and input: 200 with the existing job and existing true (nothing is added); with another fn or input: 409 PHOTONS_ERR_JOB_EXISTS.',
      response: {
        200: { type: 'object', properties: { jobId: { type: 'string' }, fn: { type: 'string' }, existing: { type: 'boolean', enum: [true] } } },
        202: { type: 'object', properties: { jobId: { type: 'string' }, fn: { type: 'string' }, existing: { type: 'boolean', enum: [false] } } },
        ...errorResponses,
      },
    },
    handler: async (request, reply) => {
      const { fn, input, options } = request.body;
      const { jobId, existing } = await client.submit(fn, input, options);
      return reply.code(existing ? 200 : 202).send({ jobId, fn, existing });
    },
  });

  app.post<{ Body: { fn: string; inputs: unknown[]; options?: EnqueueOptions } }>('/jobs/bulk', {
    schema: {
      summary: 'Enqueue one job per input',
      tags: ['jobs'],
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['fn', 'inputs'],
        properties: { fn: fnField, inputs: { type: 'array', items: anyJson }, options: jobOptions },
      },
      response: { 202: { type: 'object', properties: { fn: { type: 'string' }, jobIds: { type: 'array', items: { type: 'string' } } } }, ...errorResponses },
    },
    handler: async (request, reply) => {
      const { fn, inputs, options } = request.body;
      return reply.code(202).send({ fn, jobIds: await client.enqueueBulk(fn, inputs, options) });
    },
  });

  app.post<{ Body: { fn: string; input?: unknown; waitMs?: number; options?: EnqueueOptions } }>('/invoke', {
    schema: {
      summary: 'Run one job and wait for its result',
      description: `200 with ok true and the value, or ok false and the function's error; 202 with the job id if the wait (waitMs, at most ${maxWaitMs}) ran out: read it later with GET /jobs/{jobId}.`,
      tags: ['jobs'],
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['fn'],
        properties: { fn: fnField, input: anyJson, waitMs: { type: 'integer', minimum: 1 }, options: jobOptions },
      },
      response: {
        200: {
          type: 'object',
          properties: { jobId: { type: 'string' }, fn: { type: 'string' }, ok: { type: 'boolean' }, value: anyJson, error: serializedError },
        },
        202: { type: 'object', properties: { jobId: { type: 'string' }, fn: { type: 'string' }, state: { type: 'string' } } },
        ...errorResponses,
      },
    },
    handler: async (request, reply) => {
      const { fn, input, waitMs, options } = request.body;
      const settled = await client.invokeSettled(fn, input, { ...options, timeoutMs: Math.min(waitMs ?? maxWaitMs, maxWaitMs) });
      if (!settled.outcome) return reply.code(202).send({ jobId: settled.jobId, fn, state: 'pending' });
      return { jobId: settled.jobId, fn, ...settled.outcome };
    },
  });

  app.get<{ Params: { jobId: string }; Querystring: { fn?: string } }>('/jobs/:jobId', {
    schema: {
      summary: "A job's state, and its result or error once finished",
      tags: ['jobs'],
      params: jobIdParams,
      querystring: fnQuery,
      response: {
        200: {
          type: 'object',
          properties: {
            jobId: { type: 'string' },
            fn: { type: 'string' },
            state: { type: 'string' },
            progress: anyJson,
            createdAt: { type: 'number' },
            finishedAt: { type: 'number' },
            value: anyJson,
            error: serializedError,
          },
        },
        ...errorResponses,
      },
    },
    handler: (request) => client.result(request.params.jobId, { fn: request.query.fn }),
  });

  app.post<{ Params: { jobId: string }; Querystring: { fn?: string } }>('/jobs/:jobId/cancel', {
    schema: {
      summary: 'Cancel a job: removed if not started, else its ctx.signal fires',
      tags: ['jobs'],
      params: jobIdParams,
      querystring: fnQuery,
      response: {
        200: {
          type: 'object',
          properties: { jobId: { type: 'string' }, fn: { type: 'string' }, outcome: { type: 'string', enum: ['removed', 'signalled', 'finished'] } },
        },
        ...errorResponses,
      },
    },
    handler: (request) => client.cancel(request.params.jobId, { fn: request.query.fn }),
  });

  app.get('/functions', {
    schema: {
      summary: 'The functions the dispatchers serve',
      tags: ['functions'],
      response: {
        200: {
          type: 'object',
          properties: {
            functions: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  file: { type: 'string' },
                  hash: { type: 'string' },
                  error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
                },
              },
            },
          },
        },
        ...errorResponses,
      },
    },
    handler: async () => ({ functions: await client.functions() }),
  });
}
