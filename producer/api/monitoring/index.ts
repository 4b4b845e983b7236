// Monitoring next to the HTTP API, as one fastify plugin: the Photons page (/dashboard), the queue
// boards (/dashboard/queues, /dashboard/admin/queues) and Prometheus /metrics, all read from Redis.
import type { FastifyPluginAsync } from 'fastify';
import type { PhotonsConfig } from '../../../config';
import { connectRedis } from '../../../contract/redis';
import { DashboardAccess } from './access';
import { queueBoards } from './bull-board';
import { dashboardRoutes } from './dashboard';
import { FleetReader } from './fleet-reader';
import { metricsRoute } from './metrics';
import { runPictureRoutes } from './run-pictures';

export interface MonitoringOptions {
  redisUrl: string;
  /** redis.cluster. */
  cluster: boolean;
  /** redis.prefix. Not `prefix`: fastify takes that plugin option as a route prefix. */
  keyPrefix: string;
  /** The dispatchers' heartbeat period: one missing for two periods marks its dispatcher stale. */
  heartbeatMs: number;
  /** api.token; empty: no auth. */
  token: string;
  /** api.dashboardPublic: reading without the token. */
  dashboardPublic: boolean;
  /** api.sessionTtlSec: how long a dashboard sign-in lasts. */
  sessionTtlSec: number;
}

export function monitoringOptions(config: Readonly<PhotonsConfig>): MonitoringOptions {
  return {
    redisUrl: config.redis.url,
    cluster: config.redis.cluster,
    keyPrefix: config.redis.prefix,
    heartbeatMs: config.dispatcher.heartbeatMs,
    token: config.api.token,
    dashboardPublic: config.api.dashboardPublic,
    sessionTtlSec: config.api.sessionTtlSec,
  };
}

/**
 * The paths whose access the monitoring plugin decides itself (public reading, token for actions):
 * the API's own token check leaves them alone.
 */
export function isMonitoringPath(url: string): boolean {
  const path = url.split('?')[0]!;
  return path === '/metrics' || path === '/dashboard' || path.startsWith('/dashboard/');
}

export const monitoring: FastifyPluginAsync<MonitoringOptions> = async (app, options) => {
  const redis = connectRedis({ url: options.redisUrl, cluster: options.cluster }, 'producer', { lazyConnect: true });
  redis.on('error', (err) => app.log.warn({ err, component: 'monitoring' }, 'redis connection error'));
  // Redis away at start is no reason to refuse the API: ioredis keeps trying, the pages say so.
  await redis.connect().catch((err: unknown) => app.log.warn({ err, component: 'monitoring' }, 'redis not reachable yet'));
  const fleet = new FleetReader(redis, options.keyPrefix, options.heartbeatMs);
  const access = new DashboardAccess(options.token, options.dashboardPublic, options.sessionTtlSec * 1000);
  metricsRoute(app, fleet, access);
  dashboardRoutes(app, fleet, access);
  runPictureRoutes(app, redis, options.keyPrefix, options.cluster, access);
  const closeBoards = await queueBoards(app, { redis, prefix: options.keyPrefix, fleet, access });
  app.addHook('onClose', async () => {
    // The boards' queues share this connection: they close first.
    await closeBoards();
    await redis.quit().catch(() => redis.disconnect());
  });
};
