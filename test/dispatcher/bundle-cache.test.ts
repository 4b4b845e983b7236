// Bundles made once: a dispatcher restart serves unchanged function files from the bundle cache in
// the data dir, an edited local import is bundled again, and a damaged cache entry is made anew.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { BundleCache } from '../../dispatcher/bundle-cache';
import { deployBundle } from '../../dispatcher/deployments';
import { bundleFunction } from '../../photon-worker/bundle';
import { loadCatalog } from '../../dispatcher/catalog';
import { TestBed } from './helpers';

const GREETER = `import { greeting } from './lib/greeting';
export default async function greeter(input: { name: string }) {
  return \`\${greeting} \${input.name}\`;
}
`;

function greetingSource(word: string): string {
  return `export const greeting = ${JSON.stringify(word)};\n`;
}

describe('dispatcher: bundles cached by content', function () {
  this.timeout(60_000);
  let root: string;
  let functionsDir: string;
  let dataDir: string;
  let cacheDir: string;

  beforeEach(function () {
    root = mkdtempSync(path.join(tmpdir(), 'photons-bundle-cache-'));
    functionsDir = path.join(root, 'functions');
    dataDir = path.join(root, 'data');
    cacheDir = path.join(dataDir, 'bundles');
    writeFile(path.join(functionsDir, 'greeter.ts'), GREETER);
    writeFile(path.join(functionsDir, 'lib', 'greeting.ts'), greetingSource('hello'));
  });

  afterEach(function () {
    rmSync(root, { recursive: true, force: true });
  });

  function writeFile(file: string, text: string): void {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }

  function cacheEntry(): string {
    const entries = readdirSync(cacheDir);
    assert.equal(entries.length, 1, `one entry for one function file: ${entries.join(', ')}`);
    return path.join(cacheDir, entries[0]!);
  }

  async function greet(bed: TestBed, name: string): Promise<unknown> {
    const dispatcher = await bed.dispatcher({ functionsDir, dataDir });
    try {
      const tracker = await bed.tracker('greeter');
      const job = await bed.queue('greeter').add('greet', { name });
      const { completed, failed } = await tracker.wait([job.id!], 30_000);
      assert.equal(failed.get(job.id!), undefined);
      return completed.get(job.id!);
    } finally {
      await dispatcher.close();
    }
  }

  it('a restarted dispatcher serves an unchanged function from the cache and bundles an edited import again', async function () {
    const bed = new TestBed();
    try {
      assert.equal(await greet(bed, 'Ada'), 'hello Ada');
      const entry = cacheEntry();
      const firstWrite = statSync(entry).mtimeMs;
      assert.equal(await greet(bed, 'Bob'), 'hello Bob');
      assert.equal(statSync(entry).mtimeMs, firstWrite, 'served from the cache: the entry was not written again');

      writeFile(path.join(functionsDir, 'lib', 'greeting.ts'), greetingSource('bonjour'));
      assert.equal(await greet(bed, 'Cy'), 'bonjour Cy');
      assert.ok(readFileSync(entry, 'utf8').includes('bonjour'), 'the entry now holds the bundle of the edited import');
    } finally {
      await bed.cleanup();
    }
  });

  it('a deployed version is read from Redis as stored: the local file it shadows is not bundled', async function () {
    const bed = new TestBed();
    try {
      const elsewhere = path.join(root, 'elsewhere');
      writeFile(
        path.join(elsewhere, 'greeter.ts'),
        'export default async function greeter(input: { name: string }) {\n  return `deployed ${input.name}`;\n}\n',
      );
      await deployBundle(bed.redis, bed.prefix, await bundleFunction(path.join(elsewhere, 'greeter.ts')));
      assert.equal(await greet(bed, 'Di'), 'deployed Di');
      assert.deepEqual(existsSync(cacheDir) ? readdirSync(cacheDir) : [], [], 'nothing bundled at start');
    } finally {
      await bed.cleanup();
    }
  });

  it('says how many files came from the cache, and ignores what the bundle does not import', async function () {
    const cache = new BundleCache(cacheDir);
    assert.deepEqual(
      [...(await loadCatalog(functionsDir, undefined, { cache }))].map(([name]) => name),
      ['greeter'],
    );
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    writeFile(path.join(functionsDir, 'lib', 'unused.ts'), 'export const unused = 1;\n');
    await loadCatalog(functionsDir, logger, { cache: new BundleCache(cacheDir) });
    assert.ok(
      lines.some((line) => line.includes('function files: 0 bundled, 1 from the bundle cache')),
      lines.join(''),
    );
  });

  it('a damaged or foreign cache entry is bundled anew, never fatal', async function () {
    const first = await new BundleCache(cacheDir).bundle(path.join(functionsDir, 'greeter.ts'));
    assert.equal(first.built, true);
    const entry = cacheEntry();
    for (const damage of ['{"format":1,"key":', 'not json at all', JSON.stringify({ format: 1, key: 'x', inputs: [], bundle: { name: 'greeter' } })]) {
      writeFileSync(entry, damage);
      const again = await new BundleCache(cacheDir).bundle(path.join(functionsDir, 'greeter.ts'));
      assert.equal(again.built, true, `bundled anew after: ${damage}`);
      assert.equal(again.bundle.hash, first.bundle.hash);
      assert.equal((await new BundleCache(cacheDir).bundle(path.join(functionsDir, 'greeter.ts'))).built, false, 'and the entry is whole again');
    }
    // An entry whose code was altered does not match its hash: not run, bundled anew.
    const stored = JSON.parse(readFileSync(entry, 'utf8')) as { bundle: { code: string } };
    stored.bundle.code = stored.bundle.code.replace('hello', 'tampered');
    writeFileSync(entry, JSON.stringify(stored));
    const rebuilt = await new BundleCache(cacheDir).bundle(path.join(functionsDir, 'greeter.ts'));
    assert.equal(rebuilt.built, true);
    assert.ok(!rebuilt.bundle.code.includes('tampered'));
  });

  it('a cache folder that cannot be made costs a bundling at each start, not the function', async function () {
    // A file where the folder should be: no one, not even root, can create the folder.
    writeFile(path.join(root, 'in-the-way'), '');
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const catalog = await loadCatalog(functionsDir, logger, { cache: new BundleCache(path.join(root, 'in-the-way', 'bundles'), logger) });
    const bundle = catalog.get('greeter');
    assert.ok(bundle && !(bundle instanceof Error) && bundle.code.includes('hello'));
    assert.ok(
      lines.some((line) => line.includes('bundles cannot be cached')),
      lines.join(''),
    );
  });
});
