// `photons init` as a user runs it: a project in a fresh folder whose function runs, and a second
// init into the same folder that writes nothing.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ErrorCodes } from '../../errors';
import { PHOTONS_BIN } from '../producer/helpers';

function photons(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const ran = spawnSync(process.execPath, [PHOTONS_BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, PHOTONS_LOG_LEVEL: 'warn' } });
  return { status: ran.status, stdout: ran.stdout, stderr: ran.stderr };
}

describe('photons init', function () {
  this.timeout(60_000);
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'photons-init-'));
  });
  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('scaffolds a project whose hello function runs, and prints the next steps', async () => {
    const dir = path.join(root, 'my-app');
    const ran = photons(root, 'init', 'my-app');
    assert.equal(ran.status, 0, ran.stderr);
    const hello = await readFile(path.join(dir, 'functions', 'hello.ts'), 'utf8');
    assert.match(hello, /import type \{ FunctionConfig, PhotonContext \} from 'photons';/);
    const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { name: string; scripts: Record<string, string> };
    assert.equal(pkg.name, 'my-app');
    assert.equal(pkg.scripts.start, 'photons start');
    const tsconfig = JSON.parse(await readFile(path.join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: { strict: boolean }; include: string[] };
    assert.equal(tsconfig.compilerOptions.strict, true);
    assert.deepEqual(tsconfig.include, ['functions/**/*.ts']);
    const ignored = (await readFile(path.join(dir, '.gitignore'), 'utf8')).split('\n');
    assert.ok(ignored.includes('.photons/') && ignored.includes('node_modules/'), ignored.join('\n'));
    assert.match(ran.stdout, /cd my-app\n\s+npm install <photons-x\.y\.z\.tgz>.*\n\s+npx photons start.*\n\s+npx photons invoke hello '\{"name":"world"\}'/);

    const hi = photons(root, 'run', path.join(dir, 'functions', 'hello.ts'), '--input', '{"name":"x"}');
    assert.equal(hi.status, 0, hi.stderr);
    const line = JSON.parse(hi.stdout.trim()) as { ok: boolean; value: { greeting: string } };
    assert.equal(line.ok, true, hi.stdout);
    assert.equal(line.value.greeting, 'hello x');
  });

  it('refuses to overwrite a file, names it and writes nothing', async () => {
    const dir = path.join(root, 'half');
    await rm(dir, { recursive: true, force: true });
    const first = photons(root, 'init', 'half');
    assert.equal(first.status, 0, first.stderr);
    const before = await stat(path.join(dir, 'functions', 'hello.ts'));
    const again = photons(root, 'init', 'half');
    assert.equal(again.status, 1);
    assert.match(
      again.stderr,
      new RegExp(`${path.join(dir, 'functions', 'hello.ts').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*never overwrites.*\\[${ErrorCodes.FILE_EXISTS}\\]`),
    );
    assert.equal((await stat(path.join(dir, 'functions', 'hello.ts'))).mtimeMs, before.mtimeMs);

    // Only tsconfig.json in the way: neither the function nor anything else is written.
    const other = path.join(root, 'other');
    await rm(other, { recursive: true, force: true });
    await mkdir(other);
    await writeFile(path.join(other, 'tsconfig.json'), '{}\n');
    const refused = photons(root, 'init', 'other');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /other\/tsconfig\.json already exists/);
    assert.equal(existsSync(path.join(other, 'functions')), false);
    assert.equal(existsSync(path.join(other, 'package.json')), false);
    assert.equal(await readFile(path.join(other, 'tsconfig.json'), 'utf8'), '{}\n');
  });

  it('keeps an existing package.json and does not ask to install photons when it is a dependency', async () => {
    const dir = path.join(root, 'existing');
    await mkdir(dir, { recursive: true });
    const pkg = '{"name":"existing","dependencies":{"photons":"^0.1.0"}}\n';
    await writeFile(path.join(dir, 'package.json'), pkg);
    const ran = photons(dir, 'init');
    assert.equal(ran.status, 0, ran.stderr);
    assert.equal(await readFile(path.join(dir, 'package.json'), 'utf8'), pkg);
    assert.doesNotMatch(ran.stdout, /npm install/);
    assert.match(ran.stdout, /npx photons start/);
  });
});
