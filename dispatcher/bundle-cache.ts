// Bundles made once (ARCHITECTURE.md, "Bundles made once"): a function file's bundle is kept on
// disk, one entry per file, under a key that hashes everything the bundle was made from: the
// content of the file and of each local file it imports (esbuild's metafile inputs), the
// tsconfig.json/package.json around it, the esbuild version, the build options and this package's
// version. A restart reads the entry, recomputes the key from the files as they are now, and
// bundles again only when it differs. An entry that cannot be read or does not check out is
// ignored and made anew: the cache can cost a bundling, never a function.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { PhotonsConfig } from '../config';
import { buildSettings, bundleWithInputs, type FunctionBundle } from '../photon-worker/bundle';

/** Raised when the entry's layout or the code made from a bundle changes, so that older entries are ignored. */
const ENTRY_FORMAT = 2;
const PHOTONS_VERSION: string = (require('../../package.json') as { version: string }).version;
/** Files esbuild reads beside the sources (module format, paths, JSX and decorator settings). */
const SETTINGS_FILES = ['package.json', 'tsconfig.json', 'jsconfig.json'];

interface CacheEntry {
  format: number;
  key: string;
  inputs: string[];
  bundle: FunctionBundle;
}

export interface CachedBundle {
  bundle: FunctionBundle;
  /** False when the bundle came from the cache: esbuild did not run. */
  built: boolean;
}

/** The cache folder of a dispatcher: `bundles/` in the data dir. */
export function bundleCacheDir(config: Readonly<PhotonsConfig>): string {
  return path.resolve(config.dataDir, 'bundles');
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export class BundleCache {
  /** Settings files of a folder and its parents, read once per cache (a folder holds many functions). */
  private readonly settings = new Map<string, Promise<string>>();
  private warned = false;

  /** `dir`: the cache folder (created when first written). */
  constructor(
    readonly dir: string,
    private readonly logger?: Logger,
  ) {}

  /** The function file's bundle: from the cache when nothing it was made from has changed, else made and stored. */
  async bundle(file: string): Promise<CachedBundle> {
    const absolute = path.resolve(file);
    const entryFile = path.join(this.dir, `${sha256(absolute)}.json`);
    const cached = await this.read(entryFile, absolute);
    if (cached) return { bundle: cached, built: false };
    const before = await readFile(absolute).catch(() => undefined);
    const { bundle, inputs } = await bundleWithInputs(absolute);
    const after = await readFile(absolute).catch(() => undefined);
    // Edited while esbuild read it: the bundle may be of neither version, so it is not kept.
    const key = before && after && before.equals(after) ? await this.keyOf(absolute, inputs) : undefined;
    if (key) await this.write(entryFile, { format: ENTRY_FORMAT, key, inputs, bundle });
    return { bundle, built: true };
  }

  /** The key of a bundle of `file` made from `inputs`, from their content now; undefined if one is gone. */
  private async keyOf(file: string, inputs: string[]): Promise<string | undefined> {
    const hash = createHash('sha256').update(`${ENTRY_FORMAT}\0${PHOTONS_VERSION}\0${buildSettings(file)}\0${await this.settingsOf(path.dirname(file))}`);
    for (const input of [...inputs].sort()) {
      const content = await readFile(input).catch(() => undefined);
      if (!content) return undefined;
      hash.update(`\0${input}\0${sha256(content)}`);
    }
    return hash.digest('hex');
  }

  private settingsOf(dir: string): Promise<string> {
    let settings = this.settings.get(dir);
    if (!settings) {
      const parent = path.dirname(dir);
      settings = Promise.all([
        ...SETTINGS_FILES.map((name) => readFile(path.join(dir, name)).then(sha256, () => '-')),
        parent === dir ? Promise.resolve('') : this.settingsOf(parent),
      ]).then((parts) => parts.join(','));
      this.settings.set(dir, settings);
    }
    return settings;
  }

  private async read(entryFile: string, file: string): Promise<FunctionBundle | undefined> {
    let entry: unknown;
    try {
      entry = JSON.parse(await readFile(entryFile, 'utf8'));
    } catch {
      return undefined; // none yet, unreadable or cut short: made anew
    }
    if (!isEntry(entry) || entry.bundle.file !== file || sha256(entry.bundle.code) !== entry.bundle.hash) return undefined;
    return (await this.keyOf(file, entry.inputs)) === entry.key ? entry.bundle : undefined;
  }

  private async write(entryFile: string, entry: CacheEntry): Promise<void> {
    // Written aside and renamed: a reader (another dispatcher on this machine) never sees half an entry.
    const partial = `${entryFile}.${process.pid}.${Date.now()}.partial`;
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(partial, JSON.stringify(entry));
      await rename(partial, entryFile);
    } catch (err) {
      await rm(partial, { force: true }).catch(() => undefined);
      if (this.warned) return;
      this.warned = true;
      this.logger?.warn(
        { err, dir: this.dir },
        `bundles cannot be cached in ${this.dir}: functions are bundled at every start. Check the folder's permissions or set PHOTONS_DATA_DIR.`,
      );
    }
  }
}

function isEntry(value: unknown): value is CacheEntry {
  const entry = value as Partial<CacheEntry> | null;
  const bundle = entry?.bundle as Partial<FunctionBundle> | undefined;
  return (
    entry?.format === ENTRY_FORMAT &&
    typeof entry.key === 'string' &&
    Array.isArray(entry.inputs) &&
    entry.inputs.every((input) => typeof input === 'string') &&
    typeof bundle?.name === 'string' &&
    typeof bundle.file === 'string' &&
    typeof bundle.code === 'string' &&
    typeof bundle.sourceMap === 'string' &&
    typeof bundle.hash === 'string'
  );
}
