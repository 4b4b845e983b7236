// Module forms that CommonJS output cannot hold: `import.meta` and top-level await.
//
// A function is bundled to CommonJS and each photon calls the compiled module wrapper afresh. A
// module with top-level await cannot be CommonJS, so it is bundled as an ES module and turned into
// the body of an async arrow inside the same wrapper: its package imports become `require` calls
// (as in the CommonJS output), hoisted, and its `export { … }` a returned object. Calling the wrapper then
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
 * Dynamic `import('pkg')` in an ES module bundle, which a compiled function cannot run: each
 * package so imported becomes a tiny CommonJS module `module.exports = require("pkg")`, which
 * esbuild loads with the same interop as in CommonJS output. Static imports stay in the bundle,
 * to be turned into `require` calls by hoistImports (cheaper per photon than that interop).
 */
export const dynamicImportsThroughRequire: Plugin = {
  name: 'photons-dynamic-imports-through-require',
  setup(build) {
    const namespace = 'photons-package';
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.namespace === namespace) return { path: args.path, external: true };
      if (args.kind !== 'dynamic-import') return undefined;
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

/** An import statement as esbuild prints it: `import a, * as b from "x";`, `import { c as d } from "x";`, `import "x";`. */
const IMPORT_STATEMENT =
  /^import\s*(?:([\w$]+)\s*,?\s*)?(?:\*\s*as\s+([\w$]+)\s*|\{([^}]*)\}\s*)?(?:from\s*)?("(?:[^"\\\n]|\\.)*")\s*(?:(?:with|assert)\s*\{[^}]*\}\s*)?;/gm;

/** Interop of a required module, as esbuild's CommonJS output has it (a default import of a CommonJS module is its exports). */
const INTEROP =
  'function __photons_default(m) { return m != null && m.__esModule ? m.default : m; }' +
  'function __photons_namespace(m) { return m == null || m.__esModule || (typeof m !== "object" && typeof m !== "function") ? m : Object.create(m, { default: { value: m, enumerable: true } }); }';

/**
 * Turns the import statements of an ES module bundle (packages only: local files are bundled) into
 * `require` calls, hoisted to the first line as imports are: the code's own lines stay where the
 * source map expects them. Returns the declarations for the first line and the code without imports.
 */
function hoistImports(code: string, name: string, file: string): { declarations: string; code: string } {
  const declarations: string[] = [];
  let n = 0;
  const rest = code.replace(IMPORT_STATEMENT, (statement: string, def?: string, namespace?: string, named?: string, specifier?: string) => {
    const m = `__photons_import_${n++}`;
    declarations.push(`var ${m} = require(${specifier});`);
    if (def) declarations.push(`var ${def} = __photons_default(${m});`);
    if (namespace) declarations.push(`var ${namespace} = __photons_namespace(${m});`);
    for (const item of (named ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const match = /^([\w$]+|"(?:[^"\\]|\\.)*")(?:\s+as\s+([\w$]+))?$/.exec(item);
      if (!match || (match[1]!.startsWith('"') && !match[2])) throw unsupported(name, file, `import { ${item} }`);
      const imported = match[1]!;
      const local = match[2] ?? imported;
      declarations.push(`var ${local} = ${m}[${imported.startsWith('"') ? imported : JSON.stringify(imported)}];`);
    }
    return '\n'.repeat(statement.split('\n').length - 1);
  });
  return { declarations: n > 0 ? INTEROP + declarations.join('') : '', code: rest };
}

function unsupported(name: string, file: string, construct: string): PhotonsError {
  return new PhotonsError(
    ErrorCodes.BUNDLE,
    `Function "${name}" (${file}) uses top-level await and a module statement its bundle could not turn into a function body: \`${construct}\`. Import packages with plain \`import … from 'pkg'\` and export with \`export default\` / \`export const\`.`,
  );
}

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
  if (!async) return exportsInPlace(out);
  const exportBlock = /\nexport\s*\{([^}]*)\};?\s*$/.exec(out);
  const returned = exportBlock ? exportsObject(exportBlock[1]!, name, file) : '{}';
  const hoisted = hoistImports(exportBlock ? out.slice(0, exportBlock.index) : out, name, file);
  const leftover = /^(import|export)[\s{*].*$/m.exec(hoisted.code);
  if (leftover) throw unsupported(name, file, leftover[0]);
  const at = hoisted.code.indexOf(STRICT) + STRICT.length;
  const body = hoisted.code.slice(0, at) + hoisted.declarations + hoisted.code.slice(at);
  return `${body}\nreturn ${returned};${ASYNC_MODULE_FOOTER}`;
}

/**
 * esbuild's CommonJS output hands out an ES module's exports through `__toCommonJS`, which copies
 * them onto a fresh object, a getter defined per export, each time the module body runs: once per
 * photon here. The exports object itself, marked `__esModule`, is what that copy reads through, so
 * it serves as it is: creating a photon took 1.6 µs instead of 4.3-5.0 (`npx photons bench
 * photon-overhead`). A module that exports a binding named `__esModule` keeps the copy, whose own
 * mark wins.
 * Any other text of the helper (another esbuild) is left as it is.
 */
const TO_COMMONJS = 'var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);';
const TO_COMMONJS_IN_PLACE =
  'var __toCommonJS = (mod) => __hasOwnProp.call(mod, "__esModule") ? __copyProps(__defProp({}, "__esModule", { value: true }), mod) : __defProp(mod, "__esModule", { value: true });';

function exportsInPlace(code: string): string {
  return code.replace(TO_COMMONJS, TO_COMMONJS_IN_PLACE);
}

/** `config, a_default as default` → `{ get config() { return config; }, get default() { return a_default; } }`. */
function exportsObject(clause: string, name: string, file: string): string {
  const getters: string[] = [];
  for (const item of clause
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const match = /^([\w$]+)(?:\s+as\s+([\w$]+|"[^"]*"))?$/.exec(item);
    if (!match) throw unsupported(name, file, `export { ${item} }`);
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
