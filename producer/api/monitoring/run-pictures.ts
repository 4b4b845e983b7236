// The dashboard's runs: the newest map runs with their counts, each linking its picture. Served
// under /dashboard with the dashboard's access rules (the job API's /runs/{id}/timeline.svg takes
// the bearer token, which a browser page cannot send). See ARCHITECTURE.md, "Map-reduce".
import type { FastifyInstance } from 'fastify';
import { jobKey, photonsKeys } from '../../../contract/keys';
import type { RedisClient } from '../../../contract/redis';
import { MAX_RUN_ID_LENGTH } from '../../../contract/rules';
import { reduceJobId } from '../../../contract/run-results';
import { ErrorCodes } from '../../../errors';
import { RunStore } from '../../run-store';
import { readTimeline } from '../../run-timeline';
import { timelineSvg } from '../../timeline-svg';
import { progressState } from '../../types';
import { sendError, type DashboardAccess } from './access';

/** Runs the page lists. */
const LISTED_RUNS = 20;

export function runPictureRoutes(app: FastifyInstance, redis: RedisClient, prefix: string, cluster: boolean, access: DashboardAccess): void {
  const keys = photonsKeys(prefix);
  const runs = new RunStore(
    async () => redis,
    (runId) => keys.run(runId),
    keys.recentRuns,
  );
  const hide = { hide: true };

  app.get('/dashboard/api/runs', { schema: hide, onRequest: access.readable }, async () => ({
    runs: (await runs.recent(LISTED_RUNS)).map((meta) => ({
      runId: meta.runId,
      fn: meta.fn,
      state: progressState(meta.state, meta.total, meta.done),
      total: meta.total,
      done: meta.done,
      failed: meta.failed,
      createdAt: meta.createdAt,
      ...(meta.reduce ? { reduce: meta.reduce, reduceJobId: reduceJobId(meta.runId) } : {}),
      picture: `/dashboard/runs/${encodeURIComponent(meta.runId)}/timeline.svg`,
    })),
  }));

  app.get<{ Params: { runId: string } }>('/dashboard/runs/:runId/timeline.svg', { schema: hide, onRequest: access.readable }, async (request, reply) => {
    const { runId } = request.params;
    const meta = runId.length <= MAX_RUN_ID_LENGTH ? await runs.load(runId) : undefined;
    if (!meta) return sendError(reply, 404, ErrorCodes.RUN_NOT_FOUND, `No run ${runId}: it was never started with this Redis and prefix, or it expired.`);
    const timeline = await readTimeline(redis, meta, (jobId) => jobKey(prefix, meta.fn, cluster, jobId));
    return reply.type('image/svg+xml; charset=utf-8').header('cache-control', 'no-cache').send(timelineSvg(timeline));
  });
}
