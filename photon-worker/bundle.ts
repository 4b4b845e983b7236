// Turns a function's source (TypeScript or JavaScript, with its local files and JSON) into one
// CommonJS module with node_modules kept external: the code every photon of a runtime shares. A
// module with top-level await becomes an async module body instead (esm.ts).
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { build, version as esbuildVersion, type BuildOptions, type Message } from 'esbuild';
import { FUNCTION_EXTENSIONS, FUNCTION_NAME, FUNCTION_NAME_RULE } from '../contract/rules';
import { ErrorCodes, PhotonsError } from '../errors';
import { ASYNC_MODULE_BANNER, finishModuleCode, importMetaDefines, dynamicImportsThroughRequire, refusedForTopLevelAwait } from './esm';
import { bundlePath } from './protocol';

export interface FunctionBundle {
  /** The function's name: its file name without the extension. */
  name: string;
  /** Absolute path of the source file. */
  file: string;
  code: string;
  sourceMap: string;
  /** sha256 of the code: which version of the function ran a job. */
  hash: string;
}

// A function's name is its queue's: the rule is the contract's, the one producers check too.
export { FUNCTION_NAME };

export function functionNameOf(file: string): string {
  return path.basename(file).replace(/\.[^.]+$/, '');
}

export async function bundleFunction(file: string): Promise<FunctionBundle> {
  return (await bundleWithInputs(file)).bundle;
}

/**
 * The bundle and the local files it was made from (esbuild's metafile inputs, absolute): what a
 * cached bundle depends on (dispatcher/bundle-cache.ts).
 */
export async function bundleWithInputs(file: string): Promise<{ bundle: FunctionBundle; inputs: string[] }> {
  const absolute = path.resolve(file);
  const name = functionNameOf(absolute);
  const info = await stat(absolute).catch(() => null);
  if (!info?.isFile()) {
    throw new PhotonsError(ErrorCodes.FUNCTION_NOT_FOUND, `Function file ${absolute} does not exist. Check the path (a function is one .ts or .js file).`);
  }
  if (!FUNCTION_EXTENSIONS.includes(path.extname(absolute))) {
    throw new PhotonsError(ErrorCodes.BUNDLE, `Function file ${absolute} must end in ${FUNCTION_EXTENSIONS.join(', ')}.`);
  }
  if (!FUNCTION_NAME.test(name)) {
    throw new PhotonsError(ErrorCodes.BUNDLE, `Function file name "${name}" is not a valid function name: use ${FUNCTION_NAME_RULE}.`);
  }
  let result;
  let async = false;
  try {
    try {
      result = await build(buildOptions(absolute, false));
    } catch (err) {
      // Top-level await cannot be CommonJS: such a module is bundled as an ES module instead (esm.ts).
      // Other modules keep the CommonJS bundle, whose photons are created synchronously.
      if (!refusedForTopLevelAwait(err)) throw err;
      async = true;
      result = await build(buildOptions(absolute, true));
    }
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors ?? [];
    const first = errors[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}` : absolute;
    throw new PhotonsError(
      ErrorCodes.BUNDLE,
      `Function "${name}" (${absolute}) does not bundle: ${first?.text ?? String(err)} at ${where}. Fix the source and deploy again.`,
      { cause: err },
    );
  }
  const code = finishModuleCode(result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '', name, absolute, async);
  const sourceMap = result.outputFiles.find((f) => f.path.endsWith('.map'))?.text ?? '{}';
  // Inputs are relative to esbuild's working directory; those of a plugin's namespace are not files.
  const inputs = Object.keys(result.metafile.inputs)
    .filter((input) => !/^[\w-]+:/.test(input) || /^[A-Za-z]:[\\/]/.test(input))
    .map((input) => path.resolve(input));
  return { bundle: { name, file: absolute, code, sourceMap, hash: createHash('sha256').update(code).digest('hex') }, inputs };
}

/**
 * What else decides a bundle besides its files: the bundler's version and every build option
 * (plugins by name). A cached bundle made under other settings is not used.
 */
export function buildSettings(file: string): string {
  const settings = [false, true].map((async) => {
    const { plugins, ...options } = buildOptions(file, async);
    return { ...options, plugins: (plugins ?? []).map((plugin) => plugin.name) };
  });
  return JSON.stringify({ esbuild: esbuildVersion, settings });
}

function buildOptions(file: string, async: boolean): BuildOptions & { write: false; metafile: true } {
  return {
    entryPoints: [file],
    bundle: true,
    platform: 'node',
    format: async ? 'esm' : 'cjs',
    target: 'node20',
    packages: 'external',
    sourcemap: 'external',
    sourcesContent: false,
    // ES modules are strict; esbuild says so for TypeScript only when a tsconfig asks. Without
    // it, `x = 1` in a function would create a real global that every photon shares.
    banner: { js: async ? ASYNC_MODULE_BANNER : '"use strict";' },
    define: importMetaDefines(file),
    plugins: async ? [dynamicImportsThroughRequire] : [],
    // Not written: the name only anchors the source map's relative paths.
    outfile: bundlePath(file),
    write: false,
    metafile: true,
    logLevel: 'silent',
  };
}
