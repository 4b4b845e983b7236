// `photons bench bundles`: what the bundle cache saves at start-up. N function files, each importing
// a local helper, loaded as a dispatcher loads them (dispatcher/catalog.ts): first with an empty
// cache (every file bundled), then again with the cache the first load left (none bundled).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BundleCache } from '../dispatcher/bundle-cache';
import { loadCatalog } from '../dispatcher/catalog';
import { machine, table, type SuiteOptions, type SuiteReport } from './report';

function writeFunctions(dir: string, count: number): void {
  mkdirSync(path.join(dir, 'lib'), { recursive: true });
  writeFileSync(path.join(dir, 'lib', 'shape.ts'), 'export function shape(n: number): { n: number; at: number } {\n  return { n, at: Date.now() };\n}\n');
  for (let i = 0; i < count; i++) {
    writeFileSync(
      path.join(dir, `fn-${i}.ts`),
      `import { shape } from './lib/shape';\nexport default async function (input: { n: number }) {\n  return shape(input.n + ${i});\n}\n`,
    );
  }
}

async function timedLoad(dir: string, cacheDir: string): Promise<number> {
  const started = performance.now();
  const catalog = await loadCatalog(dir, undefined, { cache: new BundleCache(cacheDir) });
  const seconds = (performance.now() - started) / 1000;
  for (const [name, entry] of catalog) if (entry instanceof Error) throw new Error(`bench bundles: ${name} did not bundle: ${entry.message}`);
  return Number(seconds.toFixed(2));
}

export async function bundlesBench(options: SuiteOptions): Promise<SuiteReport> {
  const functions = options.quick ? 50 : 300;
  const root = mkdtempSync(path.join(tmpdir(), 'photons-bench-bundles-'));
  try {
    const dir = path.join(root, 'functions');
    writeFunctions(dir, functions);
    const cacheDir = path.join(root, 'bundles');
    const coldSeconds = await timedLoad(dir, cacheDir);
    const warmSeconds = await timedLoad(dir, cacheDir);
    const ratio = Number((coldSeconds / warmSeconds).toFixed(1));
    const lines = [
      `Loading ${functions} function files (each importing a local helper) as a dispatcher starts`,
      '',
      ...table(
        ['bundle cache', 'start-up'],
        [
          ['empty (every file bundled)', `${coldSeconds} s`],
          ['warm (nothing changed)', `${warmSeconds} s`],
        ],
      ),
      '',
      `warm start-up ${ratio}× faster`,
    ];
    return { lines, result: { suite: 'bundles', functions, coldSeconds, warmSeconds, ratio, machine: machine() } };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
