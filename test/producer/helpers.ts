// Shared by the producer and CLI tests: a real Redis, a real in-process dispatcher serving the
// test functions under a fresh key prefix, and one cleanup that closes everything and removes the keys.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { removeKeys } from '../../contract/redis';
import pino from 'pino';
import { loadConfig, type ConfigOverrides, type PhotonsConfig } from '../../config';
import { Dispatcher } from '../../dispatcher/dispatcher';
import { PhotonsClient } from '../../producer/client';

export const REDIS_URL = process.env.PHOTONS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The repository root, from build/test/<folder> where the compiled tests run. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const FIXTURE_FUNCTIONS = path.join(REPO_ROOT, 'test', 'fixtures', 'producer', 'functions');
export const PHOTONS_BIN = path.join(REPO_ROOT, 'bin', 'photons.js');

export function newPrefix(): string {
  return `tp-${randomBytes(5).toString('hex')}`;
}

export interface Stack {
  prefix: string;
  config: Readonly<PhotonsConfig>;
  dispatcher: Dispatcher;
  client: PhotonsClient;
  /** Closes the client, the dispatcher and any extra clients, then removes every key of the prefix. */
  stop(): Promise<void>;
  /** Another client on the same prefix, closed by stop(). */
  newClient(): PhotonsClient;
}

/** A dispatcher over the test functions and a client, on a fresh prefix. */
export async function startStack(overrides: ConfigOverrides = {}): Promise<Stack> {
  const prefix = newPrefix();
  const config = loadConfig(
    {
      'redis.url': REDIS_URL,
      'redis.prefix': prefix,
      functionsDir: FIXTURE_FUNCTIONS,
      'log.level': 'warn',
      // Two cores shared with other suites: one runtime per function is plenty.
      'runtime.maxRuntimes': 1,
      'dispatcher.shutdownGraceMs': 2_000,
      ...overrides,
    },
    '',
  );
  const dispatcher = new Dispatcher(config, pino({ level: 'warn' }));
  await dispatcher.start();
  const clients: PhotonsClient[] = [];
  const newClient = (): PhotonsClient => {
    const client = new PhotonsClient({ redisUrl: REDIS_URL, prefix });
    clients.push(client);
    return client;
  };
  const client = newClient();
  return {
    prefix,
    config,
    dispatcher,
    client,
    newClient,
    async stop() {
      await Promise.all(clients.map((c) => c.close()));
      await dispatcher.close();
      await removePrefix(prefix);
    },
  };
}

/** Removes every key under the prefix. */
export async function removePrefix(prefix: string): Promise<void> {
  await removeKeys(REDIS_URL, `${prefix}:*`);
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
