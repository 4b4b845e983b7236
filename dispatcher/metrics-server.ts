// A dispatcher's own GET /metrics (dispatcher.metricsPort), for a Prometheus that scrapes each
// dispatcher rather than the API: this process's runtimes only, from the stats of its heartbeat.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { ErrorCodes, PhotonsError } from '../errors';
import type { DispatcherStats } from '../contract/heartbeat';
import { dispatcherSnapshot, METRICS_CONTENT_TYPE, renderMetrics } from '../monitoring/fleet-metrics';

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one picked for port 0 in tests). */
  port: number;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics on every interface of `port`: Prometheus usually scrapes from another host,
 * and the numbers reveal no job data. `stats` is called on each scrape.
 */
export async function serveMetrics(port: number, stats: () => DispatcherStats, logger: Logger): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Only GET /metrics is served here.\n');
      return;
    }
    renderMetrics(dispatcherSnapshot(stats())).then(
      (text) => response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
      (err: unknown) => {
        logger.error({ err }, 'metrics not rendered');
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('The metrics could not be rendered; see the dispatcher log.\n');
      },
    );
  });
  server.listen(port);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
  } catch (err) {
    throw new PhotonsError(
      ErrorCodes.CONFIG,
      `The dispatcher cannot serve metrics on port ${port} (${(err as Error).message}). Pick another dispatcher.metricsPort (PHOTONS_DISPATCHER_METRICS_PORT), or 0 to turn it off.`,
      { cause: err },
    );
  }
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  logger.info({ port: bound }, `dispatcher metrics on http://0.0.0.0:${bound}/metrics`);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
