// Loads the process configuration once: defaults, then a JSON file (PHOTONS_CONFIG or --config),
// then PHOTONS_* env vars, then flags. Strictly validated, then frozen. Published as the subpath
// 'photons/config', not from the main entry, so that a producer client loads no convict.
import convict from 'convict';
import { ErrorCodes, PhotonsError } from '../errors';
import type { JobLogLevel } from '../photon-worker/job-log';
import type { Mode } from '../photon-worker/types';
import { schema } from './schema';

export interface PhotonsConfig {
  redis: { url: string; cluster: boolean; autostart: boolean; prefix: string };
  functionsDir: string;
  mode: Mode;
  runtime: {
    photonsPerRuntime: number;
    maxRuntimes: number;
    memoryMb: number;
    spareThreads: number;
    shareAmongFunctions: boolean;
    functionsPerSharedRuntime: number;
    keepAliveMs: number;
    idleMemoryMb: number;
    watchdogMs: number;
    startTimeoutMs: number;
    eluHigh: number;
  };
  job: { timeoutMs: number };
  batch: { size: number; lingerMs: number };
  dispatcher: {
    concurrency: number;
    memoryBudgetMb: number;
    checkIntervalMs: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    maxStalledCount: number;
    shutdownGraceMs: number;
    heartbeatMs: number;
    metricsPort: number;
  };
  producer: { resultTtlSec: number; maxInFlight: number; maxInputDepth: number; maxDelayMs: number; maxAttempts: number };
  api: {
    host: string;
    port: number;
    token: string;
    allowUnauthenticated: boolean;
    bodyLimitBytes: number;
    maxWaitMs: number;
    dashboardPublic: boolean;
    maxInputsPerRequest: number;
    rateLimitPerAddress: number;
    rateLimitGlobal: number;
    rateLimitWindowMs: number;
    requestTimeoutMs: number;
    allowedHosts: string;
    maxRuns: number;
    sessionTtlSec: number;
  };
  log: { level: string; format: 'auto' | 'json' | 'pretty'; jobLevel: JobLogLevel; jobKeep: number };
  dataDir: string;
  /** Shared by the deployer and the dispatchers, never stored in Redis (sensitive). */
  deploy: { key: string };
}

/** Config keys by dotted path, e.g. `{ 'runtime.watchdogMs': 1000 }`. */
export type ConfigOverrides = Record<string, unknown>;

/** Env vars arrive as strings; one that is no number stays as it is, so the message can show it. */
function numberOrAsIs(value: string): number | string {
  return value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
}

convict.addFormat({
  name: 'positive-int',
  validate(value: unknown) {
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw new Error(`must be a positive integer, got ${JSON.stringify(value)}`);
    }
  },
  coerce: numberOrAsIs,
});
convict.addFormat({
  name: 'fraction',
  validate(value: unknown) {
    if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
      throw new Error(`must be a number above 0 and at most 1, got ${JSON.stringify(value)}`);
    }
  },
  coerce: numberOrAsIs,
});
convict.addFormat({
  name: 'redis-url',
  validate(value: unknown) {
    // A comma-separated list names the nodes of a cluster; loadConfig checks redis.cluster is on.
    for (const one of String(value).split(',')) {
      let url: URL | undefined;
      try {
        url = new URL(one.trim());
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
        throw new Error('must be a URL like redis://host:6379 or rediss://user:password@host:6380 (for a cluster: several, comma-separated)');
      }
    }
  },
});
convict.addFormat({
  name: 'key-prefix',
  validate(value: unknown) {
    if (typeof value !== 'string' || !/^[A-Za-z0-9_.-]{1,32}$/.test(value)) {
      throw new Error('must be 1 to 32 letters, digits, ".", "_" or "-"');
    }
  },
});

export function loadConfig(overrides: ConfigOverrides = {}, file = process.env.PHOTONS_CONFIG): Readonly<PhotonsConfig> {
  const config = convict<PhotonsConfig>(schema as unknown as convict.Schema<PhotonsConfig>);
  try {
    if (file) config.loadFile(file);
    for (const [key, value] of Object.entries(overrides)) {
      if (value !== undefined) config.set(key as never, value as never);
    }
    config.validate({ allowed: 'strict' });
    checkRedisUrl(config.get('redis.url'), config.get('redis.cluster'));
  } catch (err) {
    throw new PhotonsError(ErrorCodes.CONFIG, describeConfigError(err, file), { cause: err });
  }
  return deepFreeze(config.getProperties());
}

/** What one key's format cannot see: a URL list needs a cluster, and a cluster has only database 0. */
function checkRedisUrl(url: string, cluster: boolean): void {
  const urls = url.split(',').map((one) => new URL(one.trim()));
  if (urls.length > 1 && !cluster) {
    throw new Error('redis.url: lists several Redis URLs, which only a Redis Cluster takes: set redis.cluster (PHOTONS_REDIS_CLUSTER=true) or give one URL');
  }
  const withDb = urls.find((one) => one.pathname.length > 1 && one.pathname !== '/0');
  if (cluster && withDb) {
    throw new Error(`redis.url: names database ${withDb.pathname.slice(1)}, but a Redis Cluster has only database 0: drop the /${withDb.pathname.slice(1)}`);
  }
}

/** Every key with its env var, default and doc, for `photons config` and the README. */
export function describeConfig(): Array<{ key: string; env: string; default: unknown; doc: string }> {
  const rows: Array<{ key: string; env: string; default: unknown; doc: string }> = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(node)) {
      const entry = value as { doc?: string; env?: string; default?: unknown };
      if (typeof entry.doc === 'string') {
        rows.push({ key: prefix + name, env: entry.env ?? '', default: entry.default, doc: entry.doc });
      } else walk(value as Record<string, unknown>, `${prefix}${name}.`);
    }
  };
  walk(schema as unknown as Record<string, unknown>, '');
  return rows;
}

function describeConfigError(err: unknown, file: string | undefined): string {
  const raw = err instanceof Error ? err.message : String(err);
  const envOf = new Map(describeConfig().map((row) => [row.key, row.env]));
  // convict reports "key: what is wrong: value was "x"", one line per bad key.
  const lines = raw
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const match = /^([\w.]+): (.*)$/.exec(line);
      if (!match) return line;
      const [, key, detail] = match;
      // Our formats name the bad value themselves; convict's own suffix would repeat it.
      const rest = detail!.includes(', got ') ? detail!.replace(/: value was .*$/, '') : detail;
      const env = envOf.get(key!);
      return env ? `${key} (${env}): ${rest}` : `${key}: ${rest}`;
    });
  const where = file ? ` (config file ${file})` : '';
  return `Invalid configuration${where}: ${lines.join('; ')}`;
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
