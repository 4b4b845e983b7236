// Module forms that CommonJS output cannot hold: `import.meta` and top-level await.
//
// A function is bundled to CommonJS and each photon calls the compiled module wrapper afresh. A
// module with top-level await cannot be CommonJS, so it is bundled as an ES module and turned into
// the body of an async arrow inside the same wrapper: its package imports become `require` calls
// (as in the CommonJS output) and its `export { … }` a returned object. Calling the wrapper then
// yields a promise of the module's exports, and each photon awaits its own top level.
//
// Only types come from esbuild: runtime threads load this file too and must not load esbuild.
import { pathToFileURL } from 'node:url';
import type { Message, Plugin } from 'esbuild';
import { ErrorCodes, PhotonsError } from '../errors';

/** The first characters of a bundle whose wrapper returns a promise of its exports. */
export const ASYNC_MODULE_MARKER = '/*photons:top-level-await*/';

const STRICT = '"use strict";';
/** The banner of an async bundle: the wrapper's body becomes an async arrow, called at once. */
export const ASYNC_MODULE_BANNER = `${ASYNC_MODULE_MARKER}return (async () => {${STRICT}`;
const ASYNC_MODULE_FOOTER = '\n})();\n';

const IMPORT_META = '__photons_import_meta';
const IMPORT_META_RESOLVE = '__photons_import_meta_resolve';

/** Whether a bundle's wrapper is async (its module uses top-level await). */
export function isAsyncModule(code: string): boolean {
  return code.startsWith(ASYNC_MODULE_MARKER);
}

/** Whether esbuild refused a CommonJS bundle because the module uses top-level await. */
export function refusedForTopLevelAwait(err: unknown): boolean {
  const errors = (err as { errors?: Message[] }).errors ?? [];
  return errors.some((e) => e.text.startsWith('Top-level await is currently not supported'));
}

/**
 * `import.meta` as esbuild's `define`: in CommonJS output esbuild leaves it empty, so its members
 * are mapped onto the source file. `__filename` and `__dirname` are the wrapper's parameters, which
 * name the real source file (not the bundle); the URL is a constant of that same path.
 */
export function importMetaDefines(file: string): Record<string, string> {
  return {
    'import.meta.url': JSON.stringify(pathToFileURL(file).href),
    'import.meta.filename': '__filename',
    'import.meta.dirname': '__dirname',
    'import.meta.resolve': IMPORT_META_RESOLVE,
    'import.meta': IMPORT_META,
  };
}

/**
 * Package imports of an ES module bundle, loaded with the wrapper's `require` as the CommonJS
 * output does: each becomes a tiny CommonJS module `module.exports = require("pkg")`, so esbuild
 * writes the same interop it writes for CommonJS output and no `import` statement is left.
 * `require` loads ES-only packages too (Node.js 20.19+).
 */
export const packagesThroughRequire: Plugin = {
  name: 'photons-packages-through-require',
  setup(build) {
    const namespace = 'photons-package';
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.namespace === namespace) return { path: args.path, external: true };
      if (args.kind !== 'import-statement' && args.kind !== 'dynamic-import') return undefined;
      // An absolute Windows path is not a package.
      if (/^[A-Za-z]:[\\/]/.test(args.path)) return undefined;
      return { path: args.path, namespace };
    });
    build.onLoad({ filter: /.*/, namespace }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/**
 * The last touches of a bundle's code, CommonJS or async: declares `import.meta` where the module
 * reads it whole, and refuses what cannot work. For an async bundle, also turns esbuild's closing
 * `export { … }` into the returned exports (getters: exported `let`s stay live, as in ESM).
 */
export function finishModuleCode(code: string, name: string, file: string, async: boolean): string {
  if (new RegExp(`\\b${IMPORT_META_RESOLVE}\\b`).test(code)) {
    throw new PhotonsError(
      ErrorCodes.BUNDLE,
      `Function "${name}" (${file}) uses import.meta.resolve, which a bundled function cannot use. Write require.resolve('pkg') for a package, or new URL('./file', import.meta.url) for a file beside the function.`,
    );
  }
  let out = code;
  if (new RegExp(`\\b${IMPORT_META}\\b`).test(out)) {
    // On the banner's line, which the source map does not map: the lines of the code stay put.
    const declaration = `var ${IMPORT_META} = { url: ${JSON.stringify(pathToFileURL(file).href)}, filename: __filename, dirname: __dirname };`;
    const at = out.indexOf(STRICT);
    out = out.slice(0, at + STRICT.length) + declaration + out.slice(at + STRICT.length);
  }
  if (!async) return out;
  const exportBlock = /\nexport\s*\{([^}]*)\};?\s*$/.exec(out);
  const returned = exportBlock ? exportsObject(exportBlock[1]!, name, file) : '{}';
  const body = exportBlock ? out.slice(0, exportBlock.index) : out;
  if (/^(import|export)[\s{*]/m.test(body)) {
    const line = /^(import|export)[\s{*].*$/m.exec(body)![0];
    throw new PhotonsError(
      ErrorCodes.BUNDLE,
      `Function "${name}" (${file}) uses top-level await and a module statement its bundle could not turn into a function body: \`${line}\`. Import packages with plain \`import … from 'pkg'\` and export with \`export default\` / \`export const\`.`,
    );
  }
  return `${body}\nreturn ${returned};${ASYNC_MODULE_FOOTER}`;
}

/** `config, a_default as default` → `{ get config() { return config; }, get default() { return a_default; } }`. */
function exportsObject(clause: string, name: string, file: string): string {
  const getters: string[] = [];
  for (const item of clause.split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^([\w$]+)(?:\s+as\s+([\w$]+|"[^"]*"))?$/.exec(item);
    if (!match) {
      throw new PhotonsError(
        ErrorCodes.BUNDLE,
        `Function "${name}" (${file}) uses top-level await and an export its bundle could not turn into a function body: \`${item}\`. Export with \`export default\` / \`export const\`.`,
      );
    }
    const local = match[1]!;
    const exported = match[2] ?? local;
    getters.push(`get ${exported}() { return ${local}; }`);
  }
  return `{ ${getters.join(', ')} }`;
}

/**
 * A promise that settles as `promise` does, or rejects with `onLate()` after `ms`: a top level
 * awaiting something that never settles must not keep a runtime starting for ever.
 */
export function settleWithin<T>(promise: Promise<T>, ms: number, onLate: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onLate()), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
