// Routes for schedules: set one by id (PUT), read, list, pause, resume, remove. The body is checked
// by its schema here and by the client's own checks (cron with BullMQ's parser) before Redis.
import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { MAX_SCHEDULE_EVERY_MS, MAX_SCHEDULE_ID_LENGTH, MIN_SCHEDULE_EVERY_MS, SCHEDULE_ID_RULE } from '../../contract/rules';
import type { PhotonsClient } from '../client';
import type { ScheduleTiming } from '../schedules';
import { anyJson, errorResponses, fnField } from './schemas';

// No `pattern`: a wrong character is refused by the client's check, whose PHOTONS_ERR_INVALID_SCHEDULE says what an id may hold.
const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: MAX_SCHEDULE_ID_LENGTH, description: `Schedule id: ${SCHEDULE_ID_RULE}.` } },
  required: ['id'],
} as const;

export const scheduleInfo = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    fn: { type: 'string' },
    every: { type: 'integer', description: 'Interval in ms.' },
    cron: { type: 'string' },
    tz: { type: 'string' },
    input: anyJson,
    paused: { type: 'boolean' },
    createdAt: { type: 'integer' },
    nextRunAt: { type: ['integer', 'null'], description: 'When the next firing is due (ms since the epoch); null while paused.' },
    lastRunAt: { type: ['integer', 'null'], description: 'When the last firing started; null before the first.' },
    runs: { type: 'integer', description: 'Firings started so far.' },
  },
} as const;

interface ScheduleBody {
  fn: string;
  every?: number;
  cron?: string;
  tz?: string;
  input?: unknown;
}

export function scheduleRoutes(app: FastifyInstance, { client }: { client: PhotonsClient }): void {
  app.put<{ Params: { id: string }; Body: ScheduleBody }>('/schedules/:id', {
    schema: {
      summary: 'Create or replace a schedule',
      description:
        "Fires a job of fn with input every `every` ms or at the times of `cron` (in `tz`, default UTC); each firing is an ordinary job of the function. Replacing a paused schedule resumes it. Ids are one namespace across functions: the same id for another function moves the schedule there. A firing that is due while an earlier one still runs starts anyway (BullMQ's job schedulers add the next firing when one starts); firings missed while no dispatcher ran become one firing when one is back.",
      tags: ['schedules'],
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['fn'],
        properties: {
          fn: fnField,
          every: { type: 'integer', minimum: MIN_SCHEDULE_EVERY_MS, maximum: MAX_SCHEDULE_EVERY_MS, description: 'Interval in ms; or give cron.' },
          cron: { type: 'string', minLength: 1, maxLength: 256, description: 'Cron expression: five fields, or six with seconds first.' },
          tz: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA time zone of cron, e.g. Europe/Paris (default UTC).' },
          input: anyJson,
        },
      },
      response: { 200: scheduleInfo, ...errorResponses },
    },
    handler: (request) => {
      const { fn, input, ...timing } = request.body;
      return client.schedule(request.params.id, fn, timing as ScheduleTiming, input);
    },
  });

  app.get('/schedules', {
    schema: {
      summary: 'Every schedule, with its next and last run',
      tags: ['schedules'],
      response: { 200: { type: 'array', items: scheduleInfo }, ...errorResponses },
    },
    handler: () => client.schedules(),
  });

  app.get<{ Params: { id: string } }>('/schedules/:id', {
    schema: { summary: 'One schedule', tags: ['schedules'], params: idParams, response: { 200: scheduleInfo, ...errorResponses } },
    handler: (request) => client.getSchedule(request.params.id),
  });

  app.delete<{ Params: { id: string } }>('/schedules/:id', {
    schema: {
      summary: 'Remove a schedule (firings already started run to their end)',
      tags: ['schedules'],
      params: idParams,
      response: { 204: { type: 'null' }, ...errorResponses },
    },
    handler: async (request, reply) => {
      await client.unschedule(request.params.id);
      return reply.code(204).send();
    },
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post<{ Params: { id: string } }>(`/schedules/:id/${action}`, {
      schema: {
        summary: action === 'pause' ? 'Pause a schedule: no firing until resumed' : 'Resume a paused schedule',
        tags: ['schedules'],
        params: idParams,
        response: { 200: scheduleInfo, ...errorResponses },
      },
      handler: (request) => (action === 'pause' ? client.pauseSchedule(request.params.id) : client.resumeSchedule(request.params.id)),
    });
  }
}
