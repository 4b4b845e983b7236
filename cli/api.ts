// `photons api`: serve the HTTP API (enqueue, invoke, runs, functions) until SIGTERM/SIGINT.
import { checkRedis } from '../contract/redis';
import { startApi } from '../producer/api/server';
import { parse, usageError, type Command } from './args';
import { CLIENT_OPTIONS, CLIENT_USAGE, clientConfig } from './client-options';
import { createLogger } from './logger';

export const apiCommand: Command = {
  name: 'api',
  usage: `photons api [--host <address>] [--port N] ${CLIENT_USAGE}\n  Token: PHOTONS_API_TOKEN (needed unless the host is loopback or PHOTONS_API_ALLOW_UNAUTHENTICATED=true).`,
  options: { ...CLIENT_OPTIONS, host: { type: 'string' }, port: { type: 'string' } },
  async run(argv) {
    const args = parse(this, argv);
    if (args.positionals.length > 0) throw usageError(this, `Unexpected arguments: ${args.positionals.join(' ')}.`);
    const rawPort = args.values.port as string | undefined;
    if (rawPort !== undefined && !/^\d{1,5}$/.test(rawPort)) throw usageError(this, `--port must be a port number, got ${JSON.stringify(rawPort)}.`);
    const config = clientConfig(args, { 'api.host': args.values.host, 'api.port': rawPort === undefined ? undefined : Number(rawPort) });
    const logger = createLogger(config);
    // A Redis that does not answer yet is no reason to refuse (the API says so per request); one
    // of the wrong kind (a cluster node without PHOTONS_REDIS_CLUSTER, or the reverse) is.
    await checkRedis(config.redis);
    const api = await startApi(config, logger);
    // Tests and scripts read the address from here (port 0 picks a free one).
    process.stderr.write(`photons api: listening on ${api.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals): void => {
        logger.info({ signal }, 'signal received: stopping the API');
        resolve();
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await api.close();
    return 0;
  },
};
