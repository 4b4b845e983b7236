// The functions a dispatcher serves: every function file in the functions folder, bundled once.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { FUNCTION_EXTENSIONS } from '../contract/rules';
import { ErrorCodes, PhotonsError } from '../errors';
import type { BundleCache } from './bundle-cache';
import { bundleFunction, FUNCTION_NAME, functionNameOf, type FunctionBundle } from '../photon-worker/bundle';

/**
 * Function files in `dir` (not .d.ts, not tests, not hidden), by function name. A file whose name cannot name a
 * function (and so a queue) is skipped and handed to `onInvalid`: one stray file must not stop the others.
 */
/** Files beside the functions that are not functions: type declarations, tests, hidden files (`.eslintrc.js`). */
const NOT_FUNCTIONS = /\.d\.[cm]?ts$|\.test\.|\.spec\.|^\./;

export async function findFunctionFiles(dir: string, onInvalid?: (error: PhotonsError) => void): Promise<Map<string, string>> {
  const absolute = path.resolve(dir);
  const entries = await readdir(absolute, { withFileTypes: true }).catch((err: unknown) => {
    throw new PhotonsError(
      ErrorCodes.CONFIG,
      `The functions folder ${absolute} cannot be read (${(err as Error).message}). Set PHOTONS_FUNCTIONS_DIR or --functions to a folder of function files.`,
      { cause: err },
    );
  });
  const files = new Map<string, string>();
  for (const entry of entries) {
    if (!entry.isFile() || !FUNCTION_EXTENSIONS.includes(path.extname(entry.name)) || NOT_FUNCTIONS.test(entry.name)) continue;
    const name = functionNameOf(entry.name);
    if (!FUNCTION_NAME.test(name)) {
      onInvalid?.(
        new PhotonsError(
          ErrorCodes.INVALID_FUNCTION_NAME,
          `Function file ${path.join(absolute, entry.name)} is skipped: "${name}" is not a valid function name. Use letters, digits, '-' and '_', starting with a letter (at most 64), and rename the file.`,
        ),
      );
      continue;
    }
    const existing = files.get(name);
    if (existing) {
      throw new PhotonsError(
        ErrorCodes.CONFIG,
        `Two files in ${absolute} define the function "${name}": ${path.basename(existing)} and ${entry.name}. Keep one.`,
      );
    }
    files.set(name, path.join(absolute, entry.name));
  }
  return files;
}

export interface CatalogOptions {
  /** Where bundles are kept between starts (dispatcher/bundle-cache.ts); without it every file is bundled. */
  cache?: BundleCache;
  /** Functions served from elsewhere (deployed versions): their files are not bundled. */
  skip?: ReadonlySet<string>;
}

/**
 * Bundles every function (or takes its bundle from the cache). One that does not bundle keeps its
 * entry as the error, so its jobs fail with that message instead of waiting for ever.
 */
export async function loadCatalog(dir: string, logger?: Logger, options: CatalogOptions = {}): Promise<Map<string, FunctionBundle | PhotonsError>> {
  // A fresh install has no functions folder yet: serve nothing (the dispatcher says so) rather than
  // refuse to start, so deployed functions and later files still work.
  const files = existsSync(dir) ? await findFunctionFiles(dir, (err) => logger?.error({ err, code: err.code }, err.message)) : new Map<string, string>();
  const catalog = new Map<string, FunctionBundle | PhotonsError>();
  let built = 0;
  let cached = 0;
  await Promise.all(
    [...files].map(async ([name, file]) => {
      if (options.skip?.has(name)) return;
      try {
        const made = options.cache ? await options.cache.bundle(file) : { bundle: await bundleFunction(file), built: true };
        catalog.set(name, made.bundle);
        if (made.built) built++;
        else cached++;
      } catch (err) {
        if (!(err instanceof PhotonsError)) throw err;
        catalog.set(name, err);
      }
    }),
  );
  if (built + cached > 0) logger?.info({ built, cached, cacheDir: options.cache?.dir }, `function files: ${built} bundled, ${cached} from the bundle cache`);
  return catalog;
}
