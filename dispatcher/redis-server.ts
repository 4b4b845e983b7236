// A Redis of our own when none answers: `photons start` on a fresh machine, and the tests and
// benchmarks that restart Redis. It listens on loopback only and keeps nothing on disk.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { Logger } from 'pino';
import { ErrorCodes, PhotonsError } from '../errors';
import { checkRedis, pingRedis, redacted, type RedisTarget } from './redis';

export interface LocalRedis {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Makes sure a Redis answers: the configured one, or else (when allowed and redis-server is on the
 * PATH) a private one on a free port that keeps nothing on disk.
 */
export async function ensureRedis(target: RedisTarget, autostart: boolean, logger: Logger): Promise<{ url: string; local?: LocalRedis }> {
  const { url } = target;
  if (await checkRedis(target)) return { url };
  if (target.cluster) {
    throw new PhotonsError(ErrorCodes.REDIS_UNAVAILABLE, `No node of the Redis Cluster at ${redacted(url)} answers: start the cluster, or list nodes that run in PHOTONS_REDIS_URL.`);
  }
  const hasServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!autostart || !hasServer) {
    throw new PhotonsError(
      ErrorCodes.REDIS_UNAVAILABLE,
      `No Redis answers at ${redacted(url)}` +
        (autostart ? ' and redis-server is not on the PATH' : ' (and PHOTONS_REDIS_AUTOSTART is off)') +
        '. Start one (e.g. `apt-get install redis-server`, or `docker run -p 6379:6379 redis:7`) or point PHOTONS_REDIS_URL at yours.',
    );
  }
  const local = await startRedisServer();
  logger.info({ url: local.url, pid: local.process.pid }, `no Redis at ${redacted(url)}: started a private redis-server at ${local.url} (nothing persisted)`);
  return { url: local.url, local };
}

/** Starts a redis-server on a free loopback port; tests that restart Redis use it too. */
export async function startRedisServer(extraArgs: string[] = [], port?: number): Promise<LocalRedis> {
  port ??= await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await pingRedis(url, 500))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new PhotonsError(ErrorCodes.REDIS_UNAVAILABLE, `redis-server did not start on port ${port}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(); // gone already (a test may kill it)
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
