// `photons dispatcher` and `photons start`: long-running processes that stop gracefully on
// SIGTERM/SIGINT (finish or hand back running jobs, then exit 0).
import type { Logger } from 'pino';
import { loadConfig, type ConfigOverrides, type PhotonsConfig } from '../config';
import { Dispatcher } from '../dispatcher/dispatcher';
import { checkRedis, redacted } from '../contract/redis';
import { ensureRedis, type LocalRedis } from '../dispatcher/redis-server';
import { ErrorCodes, PhotonsError } from '../errors';
import { MODES, type Mode } from '../photon-worker/types';
import { startApi } from '../producer/api/server';
import { parse, positiveInt, usageError, type Command, type ParsedArgs } from './args';
import { createLogger } from './logger';

const SERVE_OPTIONS = {
  functions: { type: 'string' },
  mode: { type: 'string' },
  concurrency: { type: 'string' },
  config: { type: 'string' },
} as const;

const SERVE_USAGE = '[--functions <dir>] [--mode photon|shared|lambda] [--concurrency N] [--config <file.json>]';

function serveConfig(command: Command, args: ParsedArgs): Readonly<PhotonsConfig> {
  const mode = args.values.mode as string | undefined;
  if (mode !== undefined && !MODES.includes(mode as Mode)) {
    throw usageError(command, `--mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}.`);
  }
  if (args.positionals.length > 0) throw usageError(command, `Unexpected arguments: ${args.positionals.join(' ')}.`);
  const overrides: ConfigOverrides = {
    functionsDir: args.values.functions,
    mode,
    'dispatcher.concurrency': positiveInt(command, args, 'concurrency'),
  };
  return loadConfig(overrides, (args.values.config as string | undefined) ?? process.env.PHOTONS_CONFIG);
}

export const dispatcherCommand: Command = {
  name: 'dispatcher',
  usage: `photons dispatcher ${SERVE_USAGE}`,
  options: SERVE_OPTIONS,
  async run(argv) {
    const config = serveConfig(this, parse(this, argv));
    const root = createLogger(config);
    if (!(await checkRedis(config.redis))) {
      throw new PhotonsError(
        ErrorCodes.REDIS_UNAVAILABLE,
        `No Redis answers at ${redacted(config.redis.url)}. Start one or set PHOTONS_REDIS_URL (\`photons start\` starts one at a loopback URL).`,
      );
    }
    return serveUntilSignal(config, root, root.child({ component: 'dispatcher' }));
  },
};

export const startCommand: Command = {
  name: 'start',
  usage: `photons start ${SERVE_USAGE}`,
  options: SERVE_OPTIONS,
  async run(argv) {
    const config = serveConfig(this, parse(this, argv));
    const root = createLogger(config);
    const logger = root.child({ component: 'start' });
    const redis = await ensureRedis(config.redis, config.redis.autostart, logger, config.dataDir);
    return serveUntilSignal(config, root, logger, { localRedis: redis.local, withApi: true });
  },
};

/**
 * Runs a dispatcher (and with `withApi` the HTTP API) until SIGTERM/SIGINT, then stops gracefully.
 * Each part logs through a child of `root` binding its own component; `logger` is the command's.
 */
async function serveUntilSignal(
  config: Readonly<PhotonsConfig>,
  root: Logger,
  logger: Logger,
  options: { localRedis?: LocalRedis; withApi?: boolean } = {},
): Promise<number> {
  // Listening from the start: a signal while starting (after the first heartbeat or log line,
  // which is when a process manager or a script may already send one) would otherwise end the
  // process by Node's default, without stopping gracefully. It is acted on once started.
  let early: NodeJS.Signals | undefined;
  let onSignal = (signal: NodeJS.Signals): void => {
    if (early) {
      logger.warn({ signal }, 'second signal while starting: exiting now');
      process.exit(1);
    }
    early = signal;
  };
  const listener = (signal: NodeJS.Signals): void => onSignal(signal);
  process.on('SIGTERM', listener);
  process.on('SIGINT', listener);
  const dispatcher = new Dispatcher(config, root.child({ component: 'dispatcher' }));
  const stopRedis = async (): Promise<void> => {
    await options.localRedis?.stop();
  };
  try {
    await dispatcher.start();
  } catch (err) {
    await stopRedis();
    throw err;
  }
  const api = options.withApi
    ? await startApi(config, root).catch(async (err: unknown) => {
        await dispatcher.close();
        await stopRedis();
        throw err;
      })
    : undefined;
  if (api) logger.info({ url: api.url }, `HTTP API at ${api.url} (OpenAPI at ${api.url}/openapi.json)`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now; jobs still held return to their queues when their locks expire');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'signal received: stopping gracefully');
      // The API first, so no new work arrives while the dispatcher drains.
      void (api ? api.close() : Promise.resolve()).then(() => dispatcher.close()).then(resolve);
    };
    onSignal = stop;
    stopWhenNpxLeaves(() => stop('SIGTERM'));
    if (early) stop(early);
  });
  // The Redis we started goes last: the dispatcher needed it to hand its jobs back.
  await stopRedis();
  // BullMQ may still wait for a Redis that went away; nothing is left to do but leave.
  if (dispatcher.stoppedWithoutRedis) process.exit(1);
  return 0;
}

/**
 * `npx photons start &` then `kill %1` from a script signals npm, which exits without passing the
 * signal on: we would serve on, orphaned, holding the port and the Redis we started. Started by
 * npx (npm_command=exec), a parent that goes away counts as SIGTERM. A process manager, or a shell
 * that started us directly, stays our parent as long as it wants us, so nothing changes there.
 */
function stopWhenNpxLeaves(stop: () => void): void {
  if (process.env.npm_command !== 'exec') return;
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    stop();
  }, 500);
  watch.unref();
}
