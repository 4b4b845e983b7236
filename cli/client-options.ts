// Flags shared by the commands that talk to Redis as a producer: where Redis is, which prefix,
// which config file; the rest comes from PHOTONS_* env vars and the file.
import { loadConfig, type PhotonsConfig } from '../config';
import { PhotonsClient } from '../producer/client';
import type { Command, Options, ParsedArgs } from './args';

export const CLIENT_OPTIONS: Options = {
  'redis-url': { type: 'string' },
  prefix: { type: 'string' },
  config: { type: 'string' },
};

export const CLIENT_USAGE = '[--redis-url <url>] [--prefix <prefix>] [--config <file.json>]';

export function clientConfig(args: ParsedArgs, overrides: Record<string, unknown> = {}): Readonly<PhotonsConfig> {
  return loadConfig(
    { 'redis.url': args.values['redis-url'], 'redis.prefix': args.values.prefix, ...overrides },
    (args.values.config as string | undefined) ?? process.env.PHOTONS_CONFIG,
  );
}

/** Runs `work` with a client from the flags, closing it whatever happens. */
export async function withClient<T>(_command: Command, args: ParsedArgs, work: (client: PhotonsClient) => Promise<T>): Promise<T> {
  const client = PhotonsClient.fromConfig(clientConfig(args));
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}
