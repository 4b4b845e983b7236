// `photons schedule add|list|remove|pause|resume`: schedules of functions (producer/schedules.ts).
import { describeTiming } from '../contract/schedules';
import { PhotonsError } from '../errors';
import type { ScheduleInfo, ScheduleTiming } from '../producer/schedules';
import { assertScheduleId, checkTiming } from '../producer/schedules';
import { parse, usageError, type Command, type ParsedArgs } from './args';
import { CLIENT_OPTIONS, CLIENT_USAGE, withClient } from './client-options';
import { table } from './table';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const scheduleCommand: Command = {
  name: 'schedule',
  usage: [
    `photons schedule add <function> (--every <duration> | --cron '<expr>' [--tz <zone>]) [--input '<json>'] [--id <name>] ${CLIENT_USAGE}`,
    '       photons schedule list [--json]',
    '       photons schedule remove|pause|resume <id>',
    '',
    '  <duration>: a number and a unit: 500ms, 30s, 5m, 2h, 1d (a bare number is ms).',
    '  <expr>: cron, five fields (minute hour day month weekday) or six with seconds first; --tz an IANA zone (default UTC).',
    "  --id defaults to the function's name. Ids are one namespace across functions: add with an id in use replaces that schedule.",
  ].join('\n'),
  options: {
    ...CLIENT_OPTIONS,
    every: { type: 'string' },
    cron: { type: 'string' },
    tz: { type: 'string' },
    input: { type: 'string' },
    id: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(argv) {
    const args = parse(this, argv);
    const [action, ...rest] = args.positionals;
    if (action === 'add') return add(this, args, rest);
    if (action === 'list') {
      if (rest.length > 0) throw usageError(this, `Unexpected arguments: ${rest.join(' ')}.`);
      return withClient(this, args, async (client) => print(await client.schedules(), args.values.json === true));
    }
    if (action === 'remove' || action === 'pause' || action === 'resume') {
      const [id, ...extra] = rest;
      if (!id) throw usageError(this, `Missing the id of the schedule to ${action}.`);
      if (extra.length > 0) throw usageError(this, `Unexpected arguments: ${extra.join(' ')}.`);
      checked(this, () => assertScheduleId(id));
      return withClient(this, args, async (client) => {
        if (action === 'pause') return print([await client.pauseSchedule(id)], false);
        if (action === 'resume') return print([await client.resumeSchedule(id)], false);
        await client.unschedule(id);
        process.stdout.write(`Removed schedule "${id}".\n`);
        return 0;
      });
    }
    throw usageError(
      this,
      action ? `Unknown action "${action}": use add, list, remove, pause or resume.` : 'Missing the action: add, list, remove, pause or resume.',
    );
  },
};

async function add(command: Command, args: ParsedArgs, rest: string[]): Promise<number> {
  const [fn, ...extra] = rest;
  if (!fn) throw usageError(command, 'Missing the function to schedule.');
  if (extra.length > 0) throw usageError(command, `Unexpected arguments: ${extra.join(' ')}.`);
  const { every, cron, tz, input: rawInput } = args.values as Record<string, string | undefined>;
  if ((every === undefined) === (cron === undefined)) throw usageError(command, 'Give either --every <duration> or --cron <expr>, not both nor neither.');
  if (every !== undefined && tz !== undefined) throw usageError(command, '--tz goes with --cron only.');
  const id = (args.values.id as string | undefined) ?? fn;
  const timing: ScheduleTiming = every !== undefined ? { every: duration(command, every) } : { cron: cron!, ...(tz !== undefined ? { tz } : {}) };
  checked(command, () => {
    assertScheduleId(id);
    checkTiming(timing);
  });
  let input: unknown = null;
  if (rawInput !== undefined) {
    try {
      input = JSON.parse(rawInput);
    } catch (err) {
      throw usageError(command, `--input is not JSON (${(err as Error).message}): quote it for the shell, e.g. --input '{"n": 1}'.`);
    }
  }
  return withClient(command, args, async (client) => print([await client.schedule(id, fn, timing, input)], false));
}

/** `500ms`, `30s`, `5m`, `2h`, `1d`, or a bare number of ms. */
function duration(command: Command, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw usageError(command, `--every must be a duration such as 500ms, 30s, 5m, 2h or 1d, got ${JSON.stringify(text)}.`);
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
}

/** The schedule's own checks, as usage errors: the command line is what the user gets wrong. */
function checked(command: Command, check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof PhotonsError) throw usageError(command, `${err.message} [${err.code}]`);
    throw err;
  }
}

function print(schedules: ScheduleInfo[], json: boolean): number {
  if (json) {
    process.stdout.write(`${JSON.stringify(schedules, null, 2)}\n`);
    return 0;
  }
  if (schedules.length === 0) {
    process.stderr.write('No schedules: add one with `photons schedule add <function> --every 5m`.\n');
    return 0;
  }
  const rows = schedules.map((s) => [s.id, s.fn, describeTiming(s), s.paused ? 'paused' : 'active', when(s.nextRunAt), when(s.lastRunAt), s.runs]);
  process.stdout.write(`${table(['id', 'function', 'when', 'state', 'next run', 'last run', 'runs'], rows).join('\n')}\n`);
  return 0;
}

function when(at: number | null): string {
  return at === null ? '-' : new Date(at).toISOString();
}
