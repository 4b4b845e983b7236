// The configuration: defaults, env vars, and one line naming the key, the value and what is allowed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describeConfig, loadConfig } from '../../config';
import { ErrorCodes, PhotonsError } from '../../errors';

const REPO_ROOT = path.resolve(__dirname, '../../..');

function configError(fn: () => unknown): PhotonsError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PhotonsError, `expected a PhotonsError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the configuration to be refused');
}

describe('config', function () {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (key.startsWith('PHOTONS_') && !(key in saved)) delete process.env[key];
  });

  it('has a doc, a default and a PHOTONS_* env var for every key', function () {
    const rows = describeConfig();
    assert.ok(rows.length >= 15);
    for (const row of rows) {
      assert.match(row.env, /^PHOTONS_[A-Z_]+$/, `${row.key} has no PHOTONS_* env var`);
      assert.ok(row.doc.length > 10, `${row.key} has no doc`);
      assert.notEqual(row.default, undefined, `${row.key} has no default`);
    }
    assert.equal(new Set(rows.map((r) => r.env)).size, rows.length, 'two keys share an env var');
  });

  it('is frozen, typed and takes env vars', function () {
    process.env.PHOTONS_BATCH_SIZE = '7';
    process.env.PHOTONS_MODE = 'lambda';
    const config = loadConfig();
    assert.equal(config.batch.size, 7);
    assert.equal(config.mode, 'lambda');
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.batch));
    assert.throws(() => {
      (config.batch as { size: number }).size = 9;
    }, TypeError);
  });

  it('refuses a bad value in one line naming the key, its env var, the value and what is allowed', function () {
    process.env.PHOTONS_BATCH_SIZE = 'lots';
    const err = configError(() => loadConfig());
    assert.equal(err.code, ErrorCodes.CONFIG);
    assert.equal(err.message.split('\n').length, 1);
    assert.match(err.message, /batch\.size \(PHOTONS_BATCH_SIZE\): must be a positive integer, got "lots"/);
  });

  it('names the allowed values of an enumeration', function () {
    process.env.PHOTONS_MODE = 'fast';
    assert.match(configError(() => loadConfig()).message, /mode \(PHOTONS_MODE\).*photon.*shared.*lambda.*"fast"/);
    delete process.env.PHOTONS_MODE;
    process.env.PHOTONS_JOB_LOG_LEVEL = 'verbose';
    assert.match(configError(() => loadConfig()).message, /log\.jobLevel \(PHOTONS_JOB_LOG_LEVEL\).*info.*off.*"verbose"/);
  });

  it('refuses a Redis URL that is not redis:// without printing it (it may hold a password)', function () {
    process.env.PHOTONS_REDIS_URL = 'http://user:secret@example:6379';
    const err = configError(() => loadConfig());
    assert.match(err.message, /redis\.url \(PHOTONS_REDIS_URL\): must be a URL like redis:\/\//);
    assert.doesNotMatch(err.message, /secret/);
  });

  it('takes several Redis URLs only for a cluster, and no database number for one', function () {
    process.env.PHOTONS_REDIS_URL = 'redis://10.0.0.1:7000,redis://10.0.0.2:7000';
    assert.match(
      configError(() => loadConfig()).message,
      /redis\.url \(PHOTONS_REDIS_URL\): lists several Redis URLs, which only a Redis Cluster takes: set redis\.cluster \(PHOTONS_REDIS_CLUSTER=true\)/,
    );
    process.env.PHOTONS_REDIS_CLUSTER = 'true';
    assert.deepEqual(loadConfig().redis, { url: 'redis://10.0.0.1:7000,redis://10.0.0.2:7000', cluster: true, autostart: true, prefix: 'bull' });
    process.env.PHOTONS_REDIS_URL = 'redis://10.0.0.1:7000/2';
    assert.match(configError(() => loadConfig()).message, /a Redis Cluster has only database 0: drop the \/2/);
    process.env.PHOTONS_REDIS_URL = 'redis://10.0.0.1:7000,http://10.0.0.2:7000';
    assert.match(configError(() => loadConfig()).message, /must be a URL like redis:\/\/host:6379 .*several, comma-separated/);
  });

  it('refuses keys that are not in the schema', function () {
    assert.match(configError(() => loadConfig({ 'runtime.bogus': 1 })).message, /runtime\.bogus/);
  });

  it('stops the CLI with exit code 1 and that one line on stderr', function () {
    const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/photons.js'), 'dispatcher'], {
      env: { ...process.env, PHOTONS_WATCHDOG_MS: '-5' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /runtime\.watchdogMs \(PHOTONS_WATCHDOG_MS\): must be a positive integer, got -5.*PHOTONS_ERR_CONFIG/);
  });
});
