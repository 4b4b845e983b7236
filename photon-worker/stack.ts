// Errors leave a runtime as JSON. Their stack frames are mapped from the bundle back to the
// author's own files and lines, so a trace points at `functions/hash.ts:12:7`, not at the bundle.
import { SourceMap, type SourceMapPayload } from 'node:module';
import * as path from 'node:path';
import { ErrorCodes, type SerializedError } from '../errors';

export class StackMapper {
  private readonly map: SourceMap | null;
  private readonly frame: RegExp;

  constructor(
    private readonly bundleFile: string,
    sourceMapJson: string,
  ) {
    let map: SourceMap | null = null;
    try {
      map = new SourceMap(JSON.parse(sourceMapJson) as SourceMapPayload);
    } catch {
      map = null; // a stack trace with bundle positions is still better than none
    }
    this.map = map;
    this.frame = new RegExp(`${escapeRegExp(bundleFile)}:(\\d+):(\\d+)`, 'g');
    this.root = path.dirname(bundleFile);
  }

  /** The functions folder: what callers see of paths is relative to it. */
  private readonly root: string;

  mapStack(stack: string): string {
    const map = this.map;
    if (!map) return stack;
    return stack.replace(this.frame, (whole, line: string, column: string) => {
      const entry = map.findEntry(Number(line) - 1, Number(column) - 1) as Partial<{
        originalSource: string;
        originalLine: number;
        originalColumn: number;
      }>;
      if (entry.originalSource === undefined || entry.originalLine === undefined) return whole;
      const source = entry.originalSource.startsWith('file://')
        ? new URL(entry.originalSource).pathname
        : path.resolve(path.dirname(this.bundleFile), entry.originalSource);
      return `${source}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`;
    });
  }

  /** The JSON form of anything a handler threw; `where` names the function and its file. */
  serialize(thrown: unknown, where: string, fallbackCode: string = ErrorCodes.HANDLER): SerializedError {
    if (thrown instanceof Error) {
      const code = (thrown as { code?: unknown }).code;
      // Our own wrapper errors (e.g. a throw at module top level) point at the author's line.
      const origin = thrown.cause instanceof Error && thrown.name === 'PhotonsError' ? thrown.cause : thrown;
      // A thrown object may carry anything as its name or message; only strings travel.
      return {
        code: typeof code === 'string' && code.startsWith('PHOTONS_ERR_') ? code : fallbackCode,
        name: String(thrown.name),
        message: displayPaths(String(thrown.message), this.root),
        stack: typeof origin.stack === 'string' ? displayPaths(this.mapStack(origin.stack), this.root) : undefined,
      };
    }
    return {
      code: ErrorCodes.NON_ERROR_THROWN,
      name: 'Error',
      message: displayPaths(
        `Function ${where} threw a non-Error value (${describe(thrown)}). Throw an Error so the failure carries a message and a stack trace.`,
        this.root,
      ),
    };
  }
}

/** Photons' own compiled code: its frames in a function's stack say nothing to the function's author. */
const OWN_CODE = path.resolve(__dirname, '..');
const OWN_FRAME = new RegExp(`^\\s*at .*${escapeRegExp(OWN_CODE + path.sep)}.*$\\n?`, 'gm');
/** An absolute path (or file:// URL) standing alone in a message or a stack frame. */
const ABSOLUTE = /(?<=^|[\s("'`])(?:file:\/\/)?\/[^\s()"'`,]+/gm;
/** A path relative to the working directory that climbs out of it. */
const RELATIVE = /(?<=^|[\s("'`])(?:\.\.\/)+[^\s()"'`,]+/gm;

/**
 * Text shown to callers, with no absolute path of the server: paths in the functions folder
 * become relative to it, packages start at `node_modules/`, frames of Photons itself go.
 */
export function displayPaths(text: string, root: string): string {
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  const inRoot = new RegExp(`(?<=^|[\\s("'\`]|file://)${escapeRegExp(prefix)}`, 'gm');
  return text
    .replace(OWN_FRAME, '')
    .replace(RELATIVE, (found) => {
      // The bundler names files relative to the working directory: `../../srv/functions/x.ts`.
      const resolved = path.resolve(found);
      return resolved.startsWith(prefix) ? resolved.slice(prefix.length) : found;
    })
    .replace(inRoot, '')
    .replace(ABSOLUTE, (found) => {
      const file = found.startsWith('file://') ? found.slice('file://'.length) : found;
      const modules = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
      if (modules >= 0) return file.slice(modules + 1);
      return path.relative(root, file) || path.basename(file);
    });
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 200))}`;
  if (typeof value === 'object') {
    try {
      return `${value.constructor?.name ?? 'object'} ${JSON.stringify(value)?.slice(0, 200)}`;
    } catch {
      return 'an object';
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects were described above
  return `${typeof value} ${String(value)}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
