// The log lines of `photons start` as a person and a machine read them: one readable line each
// with log.format pretty, one JSON object each (no key twice) with json.
import { strict as assert } from 'node:assert';
import { removeKeys } from '../../contract/redis';
import { formatLine } from '../../cli/logger';
import { FIXTURE_FUNCTIONS, REDIS_URL, newPrefix } from '../producer/helpers';
import { spawnStart, topLevelKeys } from './start-process';

describe('photons start log lines', function () {
  this.timeout(120_000);
  const prefix = newPrefix();
  after(() => removeKeys(REDIS_URL, `${prefix}:*`));

  const env = (format: string): NodeJS.ProcessEnv => ({
    ...process.env,
    PHOTONS_REDIS_URL: REDIS_URL,
    PHOTONS_REDIS_PREFIX: prefix,
    PHOTONS_FUNCTIONS_DIR: FIXTURE_FUNCTIONS,
    PHOTONS_API_PORT: '0',
    PHOTONS_LOG_FORMAT: format,
    PHOTONS_SPARE_THREADS: '0',
  });

  it('pretty: readable lines with time, level and component, no JSON', async () => {
    const started = spawnStart(env('pretty'));
    try {
      await started.waitFor(/HTTP API at http/);
    } finally {
      assert.equal(await started.stop(), 0);
    }
    const lines = started.stdout().trim().split('\n');
    assert.ok(lines.length >= 3, started.stdout());
    for (const line of lines) assert.doesNotMatch(line, /^\{/, `not JSON: ${line}`);
    assert.match(started.stdout(), /^\d\d:\d\d:\d\d\.\d{3} INFO  \[start\] using the Redis at redis:\/\/127\.0\.0\.1:\d+/m);
    assert.match(started.stdout(), /^\d\d:\d\d:\d\d\.\d{3} INFO  \[dispatcher\] dispatcher serving 4 function\(s\) .*functions=\[/m);
    assert.match(started.stdout(), /^\d\d:\d\d:\d\d\.\d{3} INFO  \[start\] signal received: stopping gracefully signal=SIGTERM$/m);
    assert.doesNotMatch(started.stdout(), /\x1b\[/, 'no colours when stdout is not a terminal');
  });

  it('json: every line parses and names each key once; the API logs as component api', async () => {
    const started = spawnStart(env('json'));
    try {
      await started.waitFor(/HTTP API at http/);
    } finally {
      assert.equal(await started.stop(), 0);
    }
    const lines = started.stdout().trim().split('\n');
    const components = new Set<string>();
    for (const line of lines) {
      const entry = JSON.parse(line) as { component?: string };
      const keys = topLevelKeys(line);
      assert.deepEqual(keys, [...new Set(keys)], `a key twice in ${line}`);
      if (entry.component) components.add(entry.component);
    }
    assert.deepEqual([...components].sort(), ['api', 'dispatcher', 'start']);
  });

  it('the formatter shows an error with its message and, from level error, its stack', () => {
    const line = JSON.stringify({
      level: 50,
      time: Date.UTC(2026, 0, 1, 12, 4, 5, 7),
      pid: 1,
      hostname: 'h',
      component: 'api',
      err: { message: 'boom', stack: 'Error: boom\n    at x' },
      fn: 'echo',
      msg: 'failed',
    });
    const text = formatLine(line);
    assert.match(text, /^\d\d:\d\d:\d\d\.007 ERROR \[api\] failed err="boom" fn=echo\n {4}Error: boom\n {8}at x$/);
    assert.equal(formatLine('not json\n'), 'not json');
  });
});
