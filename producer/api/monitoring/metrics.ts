// GET /metrics for Prometheus: the whole fleet, read from Redis on each scrape (the dispatchers'
// heartbeats and the queue counts), in the names of monitoring/fleet-metrics.ts.
import type { FastifyInstance } from 'fastify';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../../../monitoring/fleet-metrics';
import type { DashboardAccess } from './access';
import type { FleetReader } from './fleet-reader';

export function metricsRoute(app: FastifyInstance, fleet: FleetReader, access: DashboardAccess): void {
  app.get('/metrics', { schema: { hide: true }, onRequest: access.readable }, async (_request, reply) => {
    const { functions, dispatchers } = await fleet.read(0);
    const live = dispatchers.filter((d) => !d.stale);
    const text = await renderMetrics({ functions, dispatchers: live, liveDispatchers: live.length });
    return reply.type(METRICS_CONTENT_TYPE).send(text);
  });
}
