// `photons health`: the container healthcheck. Exit 0 when Redis answers (and, with --api, when
// the API on this host answers /health); exit 1 with the reason otherwise.
import { loadConfig } from '../config';
import { checkRedis, redacted } from '../contract/redis';
import { parse, usageError, type Command } from './args';

export const healthCommand: Command = {
  name: 'health',
  usage: 'photons health [--api] [--config <file.json>]',
  options: {
    api: { type: 'boolean' },
    config: { type: 'string' },
  },
  async run(argv) {
    const args = parse(this, argv);
    if (args.positionals.length > 0) throw usageError(this, `Unexpected arguments: ${args.positionals.join(' ')}.`);
    const config = loadConfig({}, (args.values.config as string | undefined) ?? process.env.PHOTONS_CONFIG);
    // A Redis that answers but does not fit (a cluster node addressed as one Redis) is unhealthy too.
    const answers = await checkRedis(config.redis).catch((err: Error) => err);
    if (answers !== true) {
      process.stderr.write(`unhealthy: ${answers === false ? `no Redis answers at ${redacted(config.redis.url)}` : answers.message}\n`);
      return 1;
    }
    if (args.values.api) {
      const url = `http://127.0.0.1:${config.api.port}/health`;
      const ok = await fetch(url, { signal: AbortSignal.timeout(3_000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (!ok) {
        process.stderr.write(`unhealthy: the API does not answer at ${url}\n`);
        return 1;
      }
    }
    process.stdout.write('healthy\n');
    return 0;
  },
};
