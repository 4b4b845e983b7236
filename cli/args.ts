// Flag parsing shared by every command: node:util parseArgs, with errors that say what to do.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ErrorCodes, PhotonsError } from '../errors';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  name: string;
  /** The summary is in cli/main.ts, which lists the commands without loading them. */
  usage: string;
  options: Options;
  /** Returns the exit code. */
  run(argv: string[]): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parse(command: Command, argv: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (err) {
    throw usageError(command, err instanceof Error ? err.message : String(err));
  }
}

export function usageError(command: Command, problem: string): PhotonsError {
  return new PhotonsError(ErrorCodes.USAGE, `${problem}\nUsage: ${command.usage}\nRun \`photons ${command.name} --help\` for details.`);
}

/** A flag that must be a positive integer, or undefined when absent. */
export function positiveInt(command: Command, args: ParsedArgs, flag: string): number | undefined {
  const raw = args.values[flag];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isInteger(value) || value < 1) {
    throw usageError(command, `--${flag} must be a positive integer, got ${JSON.stringify(raw)}.`);
  }
  return value;
}
