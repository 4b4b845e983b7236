// The functions that dispatchers have registered (the hash PhotonsKeys.functions, contract/keys.ts): the
// producer refuses to enqueue for a name no dispatcher serves, instead of leaving jobs waiting.
import { basename, dirname } from 'node:path';
import type { RedisClient } from '../contract/redis';
import { ErrorCodes, PhotonsError, type ErrorCode } from '../errors';
import { assertFunctionName } from './validate';

export interface FunctionInfo {
  name: string;
  /** The source file the dispatcher bundled, when it bundled: its name in the functions folder. */
  file?: string;
  /** sha256 of the bundle: which version of the function runs. */
  hash?: string;
  /** Why the function does not load, when it does not. */
  error?: { code: string; message: string };
}

// A name found once is trusted this long, so a busy producer does not pay a lookup per job.
const KNOWN_FOR_MS = 5_000;

export class FunctionRegistry {
  private readonly known = new Map<string, number>();

  constructor(
    private readonly redis: () => Promise<RedisClient>,
    private readonly key: string,
  ) {}

  async list(): Promise<FunctionInfo[]> {
    const entries = await (await this.redis()).hgetall(this.key);
    return Object.entries(entries)
      .map(([name, raw]) => ({ name, ...parseEntry(raw) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async names(): Promise<string[]> {
    return (await (await this.redis()).hkeys(this.key)).sort();
  }

  /** Throws unless `fn` is a valid name that some dispatcher serves and that loads. */
  async require(fn: unknown): Promise<string> {
    assertFunctionName(fn);
    const checkedAt = this.known.get(fn);
    if (checkedAt !== undefined && Date.now() - checkedAt < KNOWN_FOR_MS) return fn;
    const raw = await (await this.redis()).hget(this.key, fn);
    if (raw === null) {
      const names = await this.names();
      throw new PhotonsError(
        ErrorCodes.UNKNOWN_FUNCTION,
        `No function "${fn}" is deployed (${names.length > 0 ? `deployed: ${names.join(', ')}` : 'no dispatcher has registered any function yet'}). ` +
          `Add ${fn}.ts to the functions folder of a running dispatcher (photons start / photons dispatcher).`,
      );
    }
    const entry = parseEntry(raw);
    if (entry.error) {
      const code = (Object.values(ErrorCodes) as string[]).includes(entry.error.code) ? (entry.error.code as ErrorCode) : ErrorCodes.BUNDLE;
      throw new PhotonsError(code, `Function "${fn}" is deployed but does not load, so its jobs would fail: ${entry.error.message}`);
    }
    this.known.set(fn, Date.now());
    return fn;
  }
}

/**
 * An entry as callers see it: the dispatcher records the absolute path of the file it bundled,
 * which says where and as whom it runs; callers get the file's name in the functions folder, and
 * error messages with that folder left out.
 */
function parseEntry(raw: string): Omit<FunctionInfo, 'name'> {
  try {
    const parsed = JSON.parse(raw) as Omit<FunctionInfo, 'name'>;
    if (typeof parsed !== 'object' || parsed === null) return {};
    if (typeof parsed.file !== 'string') return parsed;
    const folder = `${dirname(parsed.file)}/`;
    const entry: Omit<FunctionInfo, 'name'> = { ...parsed, file: basename(parsed.file) };
    if (entry.error && typeof entry.error.message === 'string') entry.error = { ...entry.error, message: entry.error.message.split(folder).join('') };
    return entry;
  } catch {
    return { error: { code: ErrorCodes.BAD_JOB, message: `unreadable registry entry ${raw.slice(0, 80)}` } };
  }
}
