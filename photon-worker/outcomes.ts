// What one photon came to, as its runtime answers it: a result encoded as JSON once, in the thread,
// or a failure with the function's name and file and a stack mapped to the author's source.
import { ErrorCodes, PhotonsError } from '../errors';
import { JSONStringify } from './primordials';
import type { ItemOutcome } from './protocol';
import type { StackMapper } from './stack';

export class OutcomeEncoder {
  constructor(
    private readonly stack: StackMapper,
    private readonly functionName: string,
    private readonly file: string,
  ) {}

  /** How messages name the function: `"hash" (/srv/functions/hash.ts)`. */
  get where(): string {
    return `"${this.functionName}" (${this.file})`;
  }

  /** A handler's value as its result, or a failure when the value has no JSON form. */
  encode(jobId: string, value: unknown): ItemOutcome {
    let valueJson: string | undefined;
    try {
      // A handler that returns nothing has the result null, as in JSON.
      valueJson = value === undefined ? 'null' : JSONStringify(value);
    } catch (err) {
      return this.failure(this.notJson(`job ${jobId}`, err instanceof Error ? err.message : String(err)));
    }
    if (valueJson === undefined) return this.failure(this.notJson(`job ${jobId}`, `a ${typeof value} has no JSON form`));
    return { kind: 'done', valueJson };
  }

  failure(err: unknown): ItemOutcome {
    const error = this.stack.serialize(err, this.where);
    // BullMQ's own error class for bad input, matched by name so the function may use any copy of BullMQ.
    const unrecoverable = err instanceof Error && err.name === 'UnrecoverableError';
    return { kind: 'failed', error, unrecoverable };
  }

  notJson(which: string, why: string): PhotonsError {
    return new PhotonsError(
      ErrorCodes.RESULT_NOT_JSON,
      `Function ${this.where} returned a value that is not JSON (${which}): ${why}. Return plain objects, arrays, strings, numbers, booleans or null.`,
    );
  }
}

/** What `await` would wait for: an object or function with a `then` method. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}
