// Shared by the producer and CLI tests: a real Redis, a real in-process dispatcher serving the
// test functions under a fresh key prefix, and one cleanup that closes everything and removes the keys.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { removeKeys } from '../../contract/redis';
import pino from 'pino';
import { loadConfig, type ConfigOverrides, type PhotonsConfig } from '../../config';
import { Dispatcher } from '../../dispatcher/dispatcher';
import { PhotonsError } from '../../errors';
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

/** Asserts that `promise` rejects with a PhotonsError of `code` whose message matches. */
export async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof PhotonsError, `expected a PhotonsError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/photons.js <args>` with `env`, as a user runs it: its exit code and what it wrote. */
export function runPhotons(args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PHOTONS_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
