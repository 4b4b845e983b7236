// A Redis of our own when none answers. `photons start` starts one at the configured loopback
// address, keeping its data on disk, so every command, client and producer with the same URL
// reaches it and queued jobs outlive a restart; tests and benchmarks that restart Redis start
// throwaway ones on free ports with startRedisServer.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { ErrorCodes, PhotonsError } from '../errors';
import { checkRedis, pingRedis, redacted, type RedisTarget } from '../contract/redis';

export interface LocalRedis {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'Install redis-server (`apt-get install redis-server`, `brew install redis`) or run one (`docker run -p 6379:6379 redis:7`), or point PHOTONS_REDIS_URL at yours.';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Makes sure a Redis answers at the configured URL: the one already there (another `photons
 * start`, a system service), or else, for a loopback URL with autostart on, a redis-server started
 * here on that very host and port, with its data in `<dataDir>/redis-<port>/`.
 */
export async function ensureRedis(
  target: RedisTarget,
  autostart: boolean,
  logger: Logger,
  dataDir = './.photons',
): Promise<{ url: string; local?: LocalRedis }> {
  const { url } = target;
  if (await checkRedis(target)) {
    logger.info({ redis: redacted(url) }, `using the Redis at ${redacted(url)}`);
    return { url };
  }
  if (target.cluster) {
    throw new PhotonsError(
      ErrorCodes.REDIS_UNAVAILABLE,
      `No node of the Redis Cluster at ${redacted(url)} answers: start the cluster, or list nodes that run in PHOTONS_REDIS_URL.`,
    );
  }
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (!LOOPBACK_HOSTS.has(host) || parsed.protocol !== 'redis:') {
    throw new PhotonsError(
      ErrorCodes.REDIS_UNAVAILABLE,
      `No Redis answers at ${redacted(url)}. It is not a plain redis:// URL on this machine (127.0.0.1, localhost, ::1), so \`photons start\` does not start one there: start that Redis, or point PHOTONS_REDIS_URL at one that runs.`,
    );
  }
  if (!autostart) {
    throw new PhotonsError(
      ErrorCodes.REDIS_UNAVAILABLE,
      `No Redis answers at ${redacted(url)} (and PHOTONS_REDIS_AUTOSTART is off). Start one, or turn autostart on.`,
    );
  }
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new PhotonsError(
      ErrorCodes.REDIS_UNAVAILABLE,
      `No Redis answers at ${redacted(url)} and redis-server is not on the PATH to start one. ${INSTALL_HINT}`,
    );
  }
  const port = parsed.port ? Number(parsed.port) : 6379;
  const dir = path.resolve(dataDir, `redis-${port}`);
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  const username = parsed.username ? decodeURIComponent(parsed.username) : undefined;
  let local: LocalRedis;
  try {
    local = await startPersistentRedis({ host, port, username, password, dir, url });
  } catch (err) {
    // Another `photons start` may have started it in the meantime: then use that one.
    if (await checkRedis(target)) {
      logger.info({ redis: redacted(url) }, `using the Redis at ${redacted(url)}`);
      return { url };
    }
    throw err;
  }
  logger.info(
    { redis: redacted(url), redisPid: local.process.pid, dataDir: dir },
    `no Redis answered at ${redacted(url)}: started redis-server there (pid ${local.process.pid}), data in ${dir} (append-only, fsync every second); it stops with this process`,
  );
  return { url, local };
}

interface PersistentRedisOptions {
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  dir: string;
  url: string;
}

/**
 * A redis-server at host:port keeping an append-only file in `dir`. Its config goes in on stdin so
 * that the password does not show in `ps`. It lives in a process group of its own, so a Ctrl-C
 * reaches only us and we stop it after the dispatcher drained; a watcher (a shell waiting on a pipe
 * from us) stops it when we die without doing so (SIGKILL), so no orphan keeps the port.
 */
async function startPersistentRedis(options: PersistentRedisOptions): Promise<LocalRedis> {
  const { host, port, username, password, dir, url } = options;
  mkdirSync(dir, { recursive: true });
  const binds = host === 'localhost' ? '127.0.0.1 -::1' : host;
  const conf = [
    `port ${port}`,
    `bind ${binds}`,
    `dir ${quote(dir)}`,
    'logfile redis.log',
    'daemonize no',
    'appendonly yes',
    'appendfsync everysec',
    'save ""',
    ...(password ? [`requirepass ${quote(password)}`] : []),
    // A named user of the URL gets every right, as the default user has without ACLs.
    ...(username && username !== 'default' ? [`user ${quote(username)} on ${password ? quote(`>${password}`) : 'nopass'} ~* &* +@all`] : []),
  ];
  const child = spawn('redis-server', ['-'], { cwd: dir, stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.stdin!.end(`${conf.join('\n')}\n`);
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  await spawned;
  const watcher = spawn('sh', ['-c', 'read _; kill -TERM "$0" 2>/dev/null', String(child.pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  // Neither keeps this process alive; stop() ends both.
  watcher.unref();
  (watcher.stdin as unknown as { unref(): void }).unref();
  const deadline = Date.now() + 30_000; // a long append-only file takes a while to load
  while (!(await pingRedis(url, 500))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      watcher.kill('SIGKILL');
      throw new PhotonsError(
        ErrorCodes.REDIS_UNAVAILABLE,
        `redis-server did not start at ${redacted(url)}${logTail(dir)}. Free the port or pick another in PHOTONS_REDIS_URL; its log is ${path.join(dir, 'redis.log')}.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    process: child,
    // SIGTERM: redis-server writes what the append-only file still lacks, then exits.
    stop: () => terminate(child).then(() => void watcher.kill('SIGKILL')),
  };
}

/** A value as redis.conf reads it: in double quotes, with quotes and backslashes escaped. */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The last line redis-server logged, to say why it did not start (port in use, bad folder). */
function logTail(dir: string): string {
  try {
    const lines = readFileSync(path.join(dir, 'redis.log'), 'utf8').trim().split('\n');
    const last = lines.filter((line) => / # /.test(line)).pop() ?? lines.pop();
    return last ? ` (it said: ${last.replace(/^\d+:\w \d+ \w+ \d+ [\d:.]+ # /, '').trim()})` : '';
  } catch {
    return '';
  }
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
    stop: () => terminate(child),
  };
}

/** Sends SIGTERM and resolves once the server has exited; at once when it is gone already (a test may kill it). */
function terminate(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
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
