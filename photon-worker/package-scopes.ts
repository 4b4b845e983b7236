// In a shared runtime each function gets node_modules packages of its own (ARCHITECTURE.md, "Shared
// runtimes"): two functions that use the same package must not see each other's package state, as
// they would not in runtimes of their own. Node keeps one module cache per thread (`Module._cache`);
// this swaps in the function's own cache for the length of every require that comes from the
// function's code or from a package loaded for it, so lazy requires inside packages stay in scope too.
import Module from 'node:module';

type ModuleCache = Record<string, NodeModule>;

/** The loader internals every require goes through (what require hooks such as proxyquire patch too). */
interface Loader {
  _load: (this: unknown, request: string, parent: NodeModule | undefined, isMain: boolean) => unknown;
  _cache: ModuleCache;
}

const loader = Module as unknown as Loader;
/** One cache per function, by its file: a function's `require` is made by createRequire(file). */
const caches = new Map<string, ModuleCache>();
/** The cache each requiring module belongs to, found once. */
const owners = new WeakMap<object, ModuleCache>();
let installed = false;

/** Routes requires to the cache of the function they come from. Once per thread, before any function loads. */
export function installPackageScopes(): void {
  if (installed) return;
  installed = true;
  const load = loader._load;
  loader._load = function (this: unknown, request: string, parent: NodeModule | undefined, isMain: boolean): unknown {
    const cache = parent ? ownerOf(parent) : undefined;
    if (!cache) return load.call(this, request, parent, isMain);
    const previous = loader._cache;
    loader._cache = cache;
    try {
      return load.call(this, request, parent, isMain);
    } finally {
      loader._cache = previous;
    }
  };
}

/** Gives the function at `file` a module cache of its own (the same one again for a second version of it). */
export function scopePackages(file: string): void {
  if (!caches.has(file)) caches.set(file, Object.create(null) as ModuleCache);
}

/** Forgets a function's packages when it leaves the thread. */
export function dropPackages(file: string): void {
  caches.delete(file);
}

function ownerOf(parent: NodeModule): ModuleCache | undefined {
  const known = owners.get(parent);
  if (known) return known;
  let cache = caches.get(parent.filename);
  if (!cache) {
    for (const candidate of caches.values()) {
      if (candidate[parent.filename] === parent) {
        cache = candidate;
        break;
      }
    }
  }
  if (cache) owners.set(parent, cache);
  return cache;
}
