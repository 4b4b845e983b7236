// The photon mechanism: a function's bundle is compiled once per runtime, and each job calls the
// compiled module wrapper afresh, getting its own module, top-level bindings, closures and view of
// `globalThis`, while the bytecode and the node_modules packages (`require`) stay shared.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { format } from 'node:util';
import * as vm from 'node:vm';
import type { Logger } from 'pino';
import { ErrorCodes, PhotonsError } from '../errors';
import { bundlePath } from './bundle';
import { validateFunctionConfig } from './function-config';
import type { FunctionConfig, PhotonHandler } from './types';

/** The names a CommonJS module sees, plus the two we redirect per photon. */
const WRAPPER_PARAMS = ['exports', 'require', 'module', '__filename', '__dirname', 'globalThis', 'global', 'console'];

export interface ModuleInstance {
  handler: PhotonHandler;
  config: FunctionConfig;
}

export class FunctionCode {
  private readonly wrapper: (...args: unknown[]) => void;
  private readonly require: NodeJS.Require;
  private readonly dirname: string;

  constructor(
    readonly functionName: string,
    readonly file: string,
    code: string,
  ) {
    this.wrapper = vm.compileFunction(code, WRAPPER_PARAMS, { filename: bundlePath(file) }) as (
      ...args: unknown[]
    ) => void;
    this.require = createRequire(file);
    this.dirname = path.dirname(file);
  }

  /**
   * Runs the module's top level once more: a new module instance. `globalView` and `console` are
   * what the module's code sees under those names.
   */
  instantiate(globalView: typeof globalThis, console: Console): ModuleInstance {
    const module = { exports: {} as Record<string, unknown>, filename: this.file, id: this.file, loaded: false };
    try {
      this.wrapper.call(
        module.exports,
        module.exports,
        this.require,
        module,
        this.file,
        this.dirname,
        globalView,
        globalView,
        console,
      );
    } catch (err) {
      throw new PhotonsError(
        ErrorCodes.FUNCTION_INIT,
        `Function "${this.functionName}" (${this.file}) threw while its module loaded: ${messageOf(err)}`,
        { cause: err },
      );
    }
    module.loaded = true;
    const exported = module.exports;
    const handler = typeof exported === 'function' ? exported : exported.default;
    if (typeof handler !== 'function') {
      throw new PhotonsError(
        ErrorCodes.NO_HANDLER,
        `Function "${this.functionName}" (${this.file}) has no default export function. Write \`export default async function (input, ctx) { … }\`.`,
      );
    }
    return {
      handler: handler as PhotonHandler,
      config: validateFunctionConfig(exported.config, this.functionName, this.file),
    };
  }
}

/**
 * A photon's `globalThis`/`global`: writes land on this object, reads fall through to the real
 * global. Bare reads of globals created at run time are not redirected (DESIGN.md, "Contract").
 */
export function createGlobalView(): typeof globalThis {
  return Object.create(globalThis) as typeof globalThis;
}

/** A photon's `console`: the printing methods go to the job's logger, the rest to the real console. */
export class PhotonConsole {
  constructor(private readonly logger: () => Logger) {}
  log(...args: unknown[]): void {
    this.logger().info(format(...args));
  }
  info(...args: unknown[]): void {
    this.logger().info(format(...args));
  }
  debug(...args: unknown[]): void {
    this.logger().debug(format(...args));
  }
  trace(...args: unknown[]): void {
    this.logger().trace(format(...args));
  }
  warn(...args: unknown[]): void {
    this.logger().warn(format(...args));
  }
  error(...args: unknown[]): void {
    this.logger().error(format(...args));
  }
}
Object.setPrototypeOf(PhotonConsole.prototype, console);

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
