// `photons dispatcher` and `photons start`: long-running processes that stop gracefully on
// SIGTERM/SIGINT (finish or hand back running jobs, then exit 0).
import pino, { type Logger } from 'pino';
import { loadConfig, type ConfigOverrides, type PhotonsConfig } from '../config';
import { Dispatcher } from '../dispatcher/dispatcher';
import { checkRedis, redacted } from '../dispatcher/redis';
import { ensureRedis, type LocalRedis } from '../dispatcher/redis-server';
import { ErrorCodes, PhotonsError } from '../errors';
import { MODES, type Mode } from '../photon-worker/types';
import { startApi } from '../producer/api/server';
import { parse, positiveInt, usageError, type Command, type ParsedArgs } from './args';

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
  summary: 'consume the function queues in Redis and run their jobs as photons',
  usage: `photons dispatcher ${SERVE_USAGE}`,
  options: SERVE_OPTIONS,
  async run(argv) {
    const config = serveConfig(this, parse(this, argv));
    const logger = pino({ level: config.log.level }).child({ component: 'dispatcher' });
    if (!(await checkRedis(config.redis))) {
      throw new PhotonsError(
        ErrorCodes.REDIS_UNAVAILABLE,
        `No Redis answers at ${redacted(config.redis.url)}. Start one or set PHOTONS_REDIS_URL (\`photons start\` starts a private one).`,
      );
    }
    return serveUntilSignal(config, logger);
  },
};

export const startCommand: Command = {
  name: 'start',
  summary: 'start everything on this machine: Redis (if none answers), a dispatcher and the HTTP API',
  usage: `photons start ${SERVE_USAGE}`,
  options: SERVE_OPTIONS,
  async run(argv) {
    const config = serveConfig(this, parse(this, argv));
    const logger = pino({ level: config.log.level }).child({ component: 'start' });
    const redis = await ensureRedis(config.redis, config.redis.autostart, logger);
    const effective = redis.url === config.redis.url ? config : loadConfig({ ...flatten(config), 'redis.url': redis.url });
    return serveUntilSignal(effective, logger, { localRedis: redis.local, withApi: true });
  },
};

/** Runs a dispatcher (and with `withApi` the HTTP API) until SIGTERM/SIGINT, then stops gracefully. */
async function serveUntilSignal(
  config: Readonly<PhotonsConfig>,
  logger: Logger,
  options: { localRedis?: LocalRedis; withApi?: boolean } = {},
): Promise<number> {
  const dispatcher = new Dispatcher(config, logger);
  await dispatcher.start();
  const api = options.withApi ? await startApi(config, logger).catch(async (err: unknown) => {
    await dispatcher.close();
    throw err;
  }) : undefined;
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
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await options.localRedis?.stop();
  // BullMQ may still wait for a Redis that went away; nothing is left to do but leave.
  if (dispatcher.stoppedWithoutRedis) process.exit(1);
  return 0;
}

/** A frozen config as dotted-path overrides, to load it again with one key changed. */
function flatten(value: unknown, prefix = ''): ConfigOverrides {
  const out: ConfigOverrides = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (inner && typeof inner === 'object') Object.assign(out, flatten(inner, `${prefix}${key}.`));
    else out[prefix + key] = inner;
  }
  return out;
}
