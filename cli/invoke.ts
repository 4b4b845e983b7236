// `photons invoke`: run one job through Redis and print its result (or enqueue it and print its id).
import { readFileSync } from 'node:fs';
import { JobFailedError } from '../errors';
import { parse, positiveInt, usageError, type Command } from './args';
import { CLIENT_OPTIONS, CLIENT_USAGE, withClient } from './client-options';

export const invokeCommand: Command = {
  name: 'invoke',
  usage: `photons invoke <function> [<input-json> | -] [--timeout-ms N] [--async] ${CLIENT_USAGE}\n  (input from the argument, from stdin with -, or null; --async prints the job id without waiting)`,
  options: { ...CLIENT_OPTIONS, 'timeout-ms': { type: 'string' }, async: { type: 'boolean' } },
  async run(argv) {
    const args = parse(this, argv);
    const [fn, raw, ...extra] = args.positionals;
    if (!fn) throw usageError(this, 'Missing the function name.');
    if (extra.length > 0) throw usageError(this, `Unexpected arguments: ${extra.join(' ')} (quote the JSON input as one argument).`);
    const text = raw === '-' ? readFileSync(0, 'utf8') : raw;
    let input: unknown = null;
    if (text !== undefined) {
      try {
        input = JSON.parse(text) as unknown;
      } catch (err) {
        throw usageError(this, `The input is not JSON (${(err as Error).message}): ${text.slice(0, 80)}`);
      }
    }
    const timeoutMs = positiveInt(this, args, 'timeout-ms');
    return withClient(this, args, async (client) => {
      if (args.values.async) {
        process.stdout.write(`${await client.enqueue(fn, input)}\n`);
        return 0;
      }
      try {
        const value = await client.invoke(fn, input, { timeoutMs });
        process.stdout.write(`${JSON.stringify(value)}\n`);
        return 0;
      } catch (err) {
        if (!(err instanceof JobFailedError)) throw err;
        const { code, message, stack } = err.jobError;
        process.stderr.write(`photons invoke: job ${err.jobId} of "${fn}" failed: ${code}: ${message}\n${stack ? `${stack}\n` : ''}`);
        return 1;
      }
    });
  },
};
