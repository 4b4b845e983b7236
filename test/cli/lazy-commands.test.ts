// `photons --help` and `photons health` start without loading what only other commands use (the
// HTTP server, BullMQ, the bundler); every command still prints its own usage with --help.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const HEAVY = ['fastify', 'bullmq', 'esbuild', 'prom-client', 'pino', '@bull-board'];
const COMMANDS = ['start', 'dispatcher', 'run', 'status', 'bench', 'invoke', 'map', 'jobs', 'functions', 'api', 'config', 'health', 'deploy', 'init'];

/** Runs the CLI in a child process and answers which heavy packages it loaded, with its exit code. */
function loadedBy(args: string[], env: NodeJS.ProcessEnv = {}): { loaded: string[]; exitCode: number } {
  const script = `require('./dist/cli/main.js').main(${JSON.stringify(args)}).then(() => {
    const loaded = Object.keys(require.cache);
    process.stderr.write('\\nLOADED ' + JSON.stringify(${JSON.stringify(HEAVY)}.filter((n) => loaded.some((k) => k.includes('/node_modules/' + n + '/')))) + '\\n');
  });`;
  const run = spawnSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  const line = /LOADED (.*)/.exec(run.stderr);
  assert.ok(line, run.stderr);
  return { loaded: JSON.parse(line[1]!) as string[], exitCode: run.status ?? -1 };
}

describe('photons loads a command only when it runs', () => {
  it('photons --help lists every command and loads none of their dependencies', () => {
    const help = execFileSync(process.execPath, ['bin/photons.js', '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
    for (const name of COMMANDS) assert.match(help, new RegExp(`^  ${name} +\\S`, 'm'), `${name} is listed`);
    assert.deepEqual(loadedBy(['--help']).loaded, []);
  });

  it('photons health answers healthy without the HTTP server, BullMQ or the bundler', () => {
    const url = process.env.PHOTONS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    const { loaded, exitCode } = loadedBy(['health'], { PHOTONS_REDIS_URL: url, PHOTONS_CONFIG: '' });
    assert.equal(exitCode, 0);
    assert.deepEqual(loaded, []);
  });

  for (const name of COMMANDS) {
    it(`photons ${name} --help prints its summary and usage`, () => {
      const out = execFileSync(process.execPath, ['bin/photons.js', name, '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
      assert.match(out, /\n\nUsage: photons /);
      assert.ok(out.includes(`photons ${name}`), out);
    });
  }
});
