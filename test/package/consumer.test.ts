// The package as a new user meets it: packed, installed from its tarball into an app of its own
// outside the repository, a function typed against it, then run locally, through `photons start`
// from the CLI, the client (ESM and CommonJS) and the HTTP API, and `photons init`.
// Needs npm's cache to hold the dependencies (the repository's own install put them there) and a
// redis-server on the PATH for `photons start`.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../../..');

/** What the user's function answers; `calls` is 1 because every job sees its module freshly initialised. */
const FUNCTION_SOURCE = `import type { FunctionConfig, PhotonContext } from 'photons';

export const config: FunctionConfig = { timeoutMs: 10_000, photonsPerRuntime: 16 };

let calls = 0;

export default async function greet(input: { name: string }, ctx: PhotonContext): Promise<{ greeting: string; calls: number; fn: string }> {
  calls++;
  const prefix = await ctx.shared('prefix', async () => 'hello');
  ctx.log.info({ name: input.name }, 'greeting');
  return { greeting: \`\${prefix} \${input.name}\`, calls, fn: ctx.functionName };
}
`;

/** A function that gets the types wrong: the package's types must refuse it. */
const WRONG_SOURCE = `import type { FunctionConfig } from 'photons';
export const config: FunctionConfig = { timeoutMs: 'soon' };
`;

const TSCONFIG = {
  compilerOptions: { strict: true, target: 'es2022', module: 'node16', moduleResolution: 'node16', noEmit: true, types: ['node'] },
  include: ['functions'],
};

const CLIENT_CALL = `const client = new PhotonsClient({ redisUrl: process.env.PHOTONS_REDIS_URL });
try {
  console.log(JSON.stringify(await client.invoke('greet', { name: process.argv[2] })));
} finally {
  await client.close();
}`;
const ESM_SCRIPT = `import { PhotonsClient } from 'photons';\n${CLIENT_CALL}\n`;
const CJS_SCRIPT = `const { PhotonsClient } = require('photons');\n(async () => {\n${CLIENT_CALL}\n})().catch((err) => { console.error(err); process.exit(1); });\n`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs a command in `cwd` and fails the test with its output when it exits non-zero. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  const result = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(result.status, 0, `${cmd} ${args.join(' ')} exited ${result.status ?? result.signal}\n${result.stdout}\n${result.stderr}`);
  return result;
}

function installedVersion(pkg: string): string {
  return (JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

function sizeOf(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += sizeOf(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}

/** The packages of node_modules (scoped ones by their full name) and their sizes, biggest first. */
function packageSizes(modules: string): Array<{ name: string; bytes: number }> {
  const sizes: Array<{ name: string; bytes: number }> = [];
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const full = path.join(modules, entry.name);
    if (entry.name.startsWith('@')) {
      for (const sub of readdirSync(full)) sizes.push({ name: `${entry.name}/${sub}`, bytes: sizeOf(path.join(full, sub)) });
    } else {
      sizes.push({ name: entry.name, bytes: sizeOf(full) });
    }
  }
  return sizes.sort((a, b) => b.bytes - a.bytes);
}

describe('a new app installing the packed package', function () {
  this.timeout(600_000); // packing and installing from npm's cache take minutes on a loaded machine
  let work: string;
  let app: string;

  before(function () {
    assert.ok(existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'main.js')), 'dist/ is built (npm test builds it first)');
    work = mkdtempSync(path.join(tmpdir(), 'photons-consumer-'));
    app = path.join(work, 'app');
    mkdirSync(app);
    // --ignore-scripts: `npm test` has just built dist/, which `prepare` would compile again.
    const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], REPO_ROOT);
    const tarball = path.join(work, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
    run('npm', ['init', '-y'], app);
    // typescript and @types/node at the repository's versions, which its own install left in the cache.
    run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        tarball,
        `typescript@${installedVersion('typescript')}`,
        `@types/node@${installedVersion('@types/node')}`,
      ],
      app,
    );
    mkdirSync(path.join(app, 'functions'));
    writeFileSync(path.join(app, 'functions', 'greet.ts'), FUNCTION_SOURCE);
    writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  });

  after(function () {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs outside the repository; its node_modules and biggest dependencies are printed', function () {
    const installed = path.join(app, 'node_modules', 'photons');
    assert.ok(existsSync(path.join(installed, 'dist', 'index.d.ts')));
    assert.ok(!path.relative(REPO_ROOT, app).match(/^[^.]/), 'the app is outside the repository');
    const sizes = packageSizes(path.join(app, 'node_modules')).filter((s) => s.name !== 'typescript' && s.name !== '@types/node');
    const total = sizes.reduce((sum, s) => sum + s.bytes, 0);
    const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    console.log(
      `      node_modules without typescript and @types/node: ${mb(total)} in ${sizes.length} packages; biggest: ${sizes
        .slice(0, 6)
        .map((s) => `${s.name} ${mb(s.bytes)}`)
        .join(', ')}`,
    );
  });

  it('type-checks a function written against the package, and refuses one with wrong types', function () {
    run('npx', ['tsc', '--noEmit', '-p', '.'], app);
    // Beside the app's node_modules, as another folder of the same app would be.
    const wrong = path.join(app, 'wrong');
    mkdirSync(path.join(wrong, 'functions'), { recursive: true });
    writeFileSync(path.join(wrong, 'functions', 'bad.ts'), WRONG_SOURCE);
    writeFileSync(path.join(wrong, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    const check = spawnSync('npx', ['tsc', '--noEmit', '-p', 'wrong'], { cwd: app, encoding: 'utf8' });
    assert.notEqual(check.status, 0, 'a config with a string timeoutMs type-checks');
    assert.match(check.stdout, /bad\.ts\(2,\d+\): error TS2322/, check.stdout);
    rmSync(wrong, { recursive: true, force: true });
  });

  it('`npx photons run` prints one JSON result line on stdout', function () {
    const out = run('npx', ['photons', 'run', 'functions/greet.ts', '--input', '{"name":"Ada"}'], app).stdout;
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 1, out);
    assert.deepEqual(JSON.parse(lines[0]!), { index: 0, ok: true, value: { greeting: 'hello Ada', calls: 1, fn: 'greet' } });
  });

  it('`npx photons init` scaffolds a project that type-checks and runs', function () {
    const out = run('npx', ['photons', 'init', 'my-app'], app).stdout;
    assert.match(out, /my-app/);
    const project = path.join(app, 'my-app');
    for (const file of ['functions/hello.ts', 'tsconfig.json', 'package.json', '.gitignore']) {
      assert.ok(existsSync(path.join(project, file)), `init wrote ${file}`);
    }
    // In the app's folder, the scaffold resolves 'photons' and tsc from the app's node_modules.
    run('npx', ['tsc', '--noEmit', '-p', 'my-app'], app);
    const result = run('npx', ['photons', 'run', 'my-app/functions/hello.ts', '--input', '{"name":"Ada"}'], app).stdout;
    assert.match(result, /"ok":true/);
  });

  describe('through `photons start` with a Redis it starts itself', function () {
    let start: ChildProcess | undefined;
    let exited: Promise<number | null>;
    let output = '';
    let env: NodeJS.ProcessEnv;
    let api: string;
    let redisPort: number;

    before(async function () {
      redisPort = await freePort();
      const apiPort = await freePort();
      api = `http://127.0.0.1:${apiPort}`;
      env = {
        ...process.env,
        PHOTONS_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        PHOTONS_DATA_DIR: path.join(work, 'data'),
        PHOTONS_API_PORT: String(apiPort),
        PHOTONS_LOG_FORMAT: 'json',
      };
      // The bin `npx photons start` runs, started directly: npm exec does not pass a SIGTERM on to
      // the command it runs (it exits 143 and leaves the command running), so signalling npx would
      // test npm rather than photons.
      start = spawn(path.join(app, 'node_modules', '.bin', 'photons'), ['start'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
      start.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      start.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      exited = new Promise((resolve) => start!.once('exit', (code) => resolve(code)));
      // Ready when the API answers and lists the app's function.
      for (;;) {
        const listed = await fetch(`${api}/functions`).then(
          (r) => (r.ok ? r.text() : ''),
          () => '',
        );
        if (listed.includes('"greet"')) break;
        if (start.exitCode !== null) assert.fail(`photons start exited ${start.exitCode}\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });

    after(async function () {
      if (start && start.exitCode === null) {
        start.kill('SIGKILL');
        await exited;
      }
    });

    it('`npx photons invoke` prints the result', function () {
      const out = run('npx', ['photons', 'invoke', 'greet', '{"name":"Ada"}'], app, env).stdout;
      assert.deepEqual(JSON.parse(out), { greeting: 'hello Ada', calls: 1, fn: 'greet' });
    });

    it('the client, imported from an ES module', function () {
      writeFileSync(path.join(app, 'invoke.mjs'), ESM_SCRIPT);
      const out = run(process.execPath, ['invoke.mjs', 'Esm'], app, env).stdout;
      assert.deepEqual(JSON.parse(out), { greeting: 'hello Esm', calls: 1, fn: 'greet' });
    });

    it('the client, required from CommonJS', function () {
      writeFileSync(path.join(app, 'invoke.cjs'), CJS_SCRIPT);
      const out = run(process.execPath, ['invoke.cjs', 'Cjs'], app, env).stdout;
      assert.deepEqual(JSON.parse(out), { greeting: 'hello Cjs', calls: 1, fn: 'greet' });
    });

    it('the HTTP API: POST /invoke', async function () {
      const res = await fetch(`${api}/invoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ fn: 'greet', input: { name: 'Http' } }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { fn: string; ok: boolean; value: unknown };
      assert.deepEqual({ fn: body.fn, ok: body.ok, value: body.value }, { fn: 'greet', ok: true, value: { greeting: 'hello Http', calls: 1, fn: 'greet' } });
    });

    it('stops on SIGTERM with exit code 0, and its Redis with it', async function () {
      start!.kill('SIGTERM');
      assert.equal(await exited, 0, output);
      const health = spawnSync('npx', ['photons', 'health'], { cwd: app, env, encoding: 'utf8' });
      assert.notEqual(health.status, 0, 'the Redis photons start started still answers');
      assert.ok(existsSync(path.join(work, 'data', `redis-${redisPort}`)), 'the Redis kept its data in PHOTONS_DATA_DIR');
    });
  });
});
