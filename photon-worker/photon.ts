// The photon mechanism: a function's bundle is compiled once per runtime, and each job calls the
// compiled module wrapper afresh, getting its own module, top-level bindings, closures and view of
// `globalThis`, while the bytecode and the node_modules packages (`require`) stay shared.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { format } from 'node:util';
import * as vm from 'node:vm';
import type { Logger } from 'pino';
import { ErrorCodes, PhotonsError } from '../errors';
import { isAsyncModule } from './esm';
import { validateFunctionConfig } from './function-config';
import { bundlePath } from './protocol';
import { PHOTON_TIMERS, TIMER_NAMES } from './photon-timers';
import type { FunctionConfig, PhotonHandler } from './types';

/** The names a CommonJS module sees, plus those we redirect per photon: the global, console, timers. */
/** A function's source text, read with the method captured here (a module may replace toString). */
const functionSource = Function.prototype.call.bind(Function.prototype.toString) as (fn: unknown) => string;

const WRAPPER_PARAMS = ['exports', 'require', 'module', '__filename', '__dirname', 'globalThis', 'global', 'console', ...TIMER_NAMES];

export interface ModuleInstance {
  handler: PhotonHandler;
  config: FunctionConfig;
}

export class FunctionCode {
  private readonly wrapper: (...args: unknown[]) => unknown;
  /** The module uses top-level await: its wrapper returns a promise of its exports (esm.ts). */
  readonly async: boolean;
  private readonly require: NodeJS.Require;
  private readonly dirname: string;
  private readonly globalBase = createGlobalBase();
  /** Whether the handler's kind was checked (on the first load). */
  private handlerChecked = false;

  constructor(
    readonly functionName: string,
    readonly file: string,
    code: string,
  ) {
    this.wrapper = vm.compileFunction(code, WRAPPER_PARAMS, { filename: bundlePath(file) }) as (...args: unknown[]) => unknown;
    this.async = isAsyncModule(code);
    this.require = createRequire(file);
    this.dirname = path.dirname(file);
  }

  /** A fresh `globalThis` for one photon. */
  globalView(): typeof globalThis {
    return Object.create(this.globalBase) as typeof globalThis;
  }

  /** Once builtins are protected: the shared prototype of the photons' views takes no write either. */
  protectGlobalBase(): void {
    protectGlobalBase(this.globalBase);
  }

  /**
   * Runs the module's top level once more: a new module instance. `globalView` and `console` are
   * what the module's code sees under those names. Only for modules without top-level await.
   */
  instantiate(globalView: typeof globalThis, console: Console): ModuleInstance {
    if (this.async) {
      throw new PhotonsError(
        ErrorCodes.FUNCTION_INIT,
        `Function "${this.functionName}" (${this.file}) uses top-level await: its module instances are created with load(), asynchronously.`,
      );
    }
    return this.load(globalView, console) as ModuleInstance;
  }

  /**
   * A new module instance, as instantiate() does; a promise of it when the module uses top-level
   * await (each photon then awaits its own top level). Other modules stay synchronous.
   */
  load(globalView: typeof globalThis, console: Console): ModuleInstance | Promise<ModuleInstance> {
    const timers = PHOTON_TIMERS;
    const module = { exports: {} as Record<string, unknown>, filename: this.file, id: this.file, loaded: false };
    let ran: unknown;
    try {
      ran = this.wrapper.call(
        module.exports,
        module.exports,
        this.require,
        module,
        this.file,
        this.dirname,
        globalView,
        globalView,
        console,
        timers.setTimeout,
        timers.setInterval,
        timers.setImmediate,
        timers.clearTimeout,
        timers.clearInterval,
        timers.clearImmediate,
      );
    } catch (err) {
      throw this.initError(err);
    }
    if (!this.async) return this.instanceOf(module);
    return (ran as Promise<Record<string, unknown>>).then(
      (exports) => {
        module.exports = exports;
        return this.instanceOf(module);
      },
      (err: unknown) => {
        throw this.initError(err);
      },
    );
  }

  private initError(err: unknown): PhotonsError {
    return new PhotonsError(
      ErrorCodes.FUNCTION_INIT,
      `Function "${this.functionName}" (${this.file}) threw while its module loaded${this.async ? ' (its top level, with top-level await, threw or awaited a promise that rejected)' : ''}: ${messageOf(err)}`,
      { cause: err },
    );
  }

  private instanceOf(module: { exports: Record<string, unknown>; loaded: boolean }): ModuleInstance {
    module.loaded = true;
    const exported = module.exports;
    // The default export; else a function exported as `handler`, as AWS Lambda's Node.js runtime
    // names it (`export const handler = async (event) => …`, `exports.handler = …`).
    const handler = typeof exported === 'function' ? exported : typeof exported.default === 'function' ? exported.default : exported.handler;
    if (typeof handler !== 'function') {
      throw new PhotonsError(
        ErrorCodes.NO_HANDLER,
        `Function "${this.functionName}" (${this.file}) exports no handler: no default export function and no function named \`handler\`. Write \`export default async function (input, ctx) { … }\`.`,
      );
    }
    if (!this.handlerChecked) {
      // Once per runtime: every instance of the module exports the same kind of thing.
      this.handlerChecked = true;
      if (/^class\b/.test(functionSource(handler))) {
        throw new PhotonsError(
          ErrorCodes.NO_HANDLER,
          `Function "${this.functionName}" (${this.file}) exports a class as its handler; a handler is a function called with each input. Write \`export default async function (input, ctx) { … }\`, and make the class inside it.`,
        );
      }
    }
    return {
      handler: handler as PhotonHandler,
      config: validateFunctionConfig(exported.config, this.functionName, this.file),
    };
  }
}

/**
 * The prototype of every photon's `globalThis`/`global` in a runtime. Writes land on the photon's
 * own view; reads fall through to the real global. Accessors of the real global (`crypto`,
 * `navigator`, …) are re-exposed here because Node's getters refuse any receiver but the real
 * global, and the self references return the view itself so `globalThis.globalThis.x = 1` stays
 * private. Bare reads of globals created at run time are not redirected (ARCHITECTURE.md, "What is shared and what is per job").
 */
export function createGlobalBase(): object {
  const base = Object.create(globalThis) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(globalThis)) {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
    if (!descriptor?.get) continue;
    Object.defineProperty(base, name, {
      configurable: true,
      enumerable: descriptor.enumerable,
      get: () => Reflect.get(globalThis, name) as unknown,
      set(this: object, value: unknown) {
        Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
      },
    });
  }
  for (const self of ['globalThis', 'global']) {
    Object.defineProperty(base, self, {
      configurable: true,
      enumerable: false,
      get(this: object) {
        return this;
      },
      set(this: object, value: unknown) {
        Object.defineProperty(this, self, { value, writable: true, enumerable: false, configurable: true });
      },
    });
  }
  exposeTimers(base);
  return base;
}

/** `globalThis.setTimeout` and co. through a view are the photon's timers, as the bare names are. */
function exposeTimers(base: object): void {
  for (const name of TIMER_NAMES) {
    const timer = PHOTON_TIMERS[name];
    Object.defineProperty(base, name, {
      configurable: true,
      enumerable: true,
      get: () => timer,
      set(this: object, value: unknown) {
        Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
      },
    });
  }
}

/**
 * Protected builtins make the real global's builtins read-only, so a photon's `globalThis.fetch = …`
 * would now throw (a read-only inherited property cannot be shadowed by assignment). Every builtin
 * name gets an accessor pair on the views' shared prototype instead, whose setter gives the photon's
 * view an own property; a write to the shared prototype itself is refused, as it would reach every
 * photon.
 */
function protectGlobalBase(base: object): void {
  const real = globalThis as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(real)) {
    const own = Object.getOwnPropertyDescriptor(base, name);
    const get = own?.get ?? (() => real[name]);
    const set = own?.set;
    Object.defineProperty(base, name, {
      configurable: false,
      enumerable: own?.enumerable ?? Object.getOwnPropertyDescriptor(real, name)?.enumerable ?? false,
      get,
      set(this: object, value: unknown) {
        if (this === base) throw new TypeError(`Cannot set "${name}" on the prototype every photon's global shares: builtins are protected`);
        if (set) set.call(this, value);
        else Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
      },
    });
  }
  Object.preventExtensions(base);
}

/**
 * A photon's `console`: the printing methods go to the job's logger, the rest (`time`, `count`,
 * `table`, …) to the real console. Methods are bound on first use, so `.catch(console.error)` works
 * and a photon that never logs pays nothing for it.
 */
export class PhotonConsole {
  private bound: Partial<Record<Level, (...args: unknown[]) => void>> | undefined;
  constructor(private readonly logger: () => Logger) {}
  get log() {
    return this.method('info');
  }
  get info() {
    return this.method('info');
  }
  get debug() {
    return this.method('debug');
  }
  get trace() {
    return this.method('trace');
  }
  get warn() {
    return this.method('warn');
  }
  get error() {
    return this.method('error');
  }
  private method(level: Level): (...args: unknown[]) => void {
    this.bound ??= {};
    return (this.bound[level] ??= (...args: unknown[]) => this.logger()[level](format(...args)));
  }
}
Object.setPrototypeOf(PhotonConsole.prototype, console);

type Level = 'info' | 'debug' | 'trace' | 'warn' | 'error';

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
