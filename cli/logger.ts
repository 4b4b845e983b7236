// The logger of the long-running commands (`photons start`, `dispatcher`, `api`): pino's JSON lines
// for machines (not a terminal, or log.format json), one readable line each for a person reading
// a terminal (or log.format pretty). The readable form is our own small formatter behind a pino
// destination stream, so the package carries no pretty-printer.
import pino, { type DestinationStream, type Logger } from 'pino';
import type { PhotonsConfig } from '../config';

const LEVELS: Record<number, { name: string; colour: string }> = {
  10: { name: 'TRACE', colour: '\x1b[90m' },
  20: { name: 'DEBUG', colour: '\x1b[36m' },
  30: { name: 'INFO', colour: '\x1b[32m' },
  40: { name: 'WARN', colour: '\x1b[33m' },
  50: { name: 'ERROR', colour: '\x1b[31m' },
  60: { name: 'FATAL', colour: '\x1b[35m' },
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/** Keys every line has, shown in fixed places rather than as key=value. */
const FRAMED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'component']);

export type LogFormat = PhotonsConfig['log']['format'];

/** Whether lines come out readable: pretty, or auto on a terminal. */
export function isPretty(format: LogFormat, stream: { isTTY?: boolean } = process.stdout): boolean {
  return format === 'pretty' || (format === 'auto' && stream.isTTY === true);
}

/**
 * The root logger of a command. Components bind themselves on children of it (component: 'start',
 * 'dispatcher', 'api'), never on children of each other, so no line carries a key twice.
 */
export function createLogger(config: Readonly<PhotonsConfig>): Logger {
  const options = { level: config.log.level };
  if (!isPretty(config.log.format)) return pino(options);
  return pino(options, prettyStream(process.stdout.isTTY === true));
}

/** A destination that writes each JSON line pino hands it as one readable line on stdout. */
export function prettyStream(colour: boolean): DestinationStream {
  return {
    write(line: string): void {
      process.stdout.write(`${formatLine(line, colour)}\n`);
    },
  };
}

/** `12:04:05.123 INFO  [start] message key=value …`; a line that is no JSON passes through. */
export function formatLine(line: string, colour = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.trimEnd();
  }
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a foreign line's fields are printed as they come
  const level = LEVELS[entry.level as number] ?? { name: String(entry.level ?? ''), colour: '' };
  const time = typeof entry.time === 'number' ? new Date(entry.time).toTimeString().slice(0, 8) + `.${String(entry.time % 1000).padStart(3, '0')}` : '';
  const component = typeof entry.component === 'string' ? `[${entry.component}] ` : '';
  const levelText = level.name.padEnd(5);
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a foreign line's fields are printed as they come
  const parts = [colour ? `${DIM}${time}${RESET}` : time, colour ? `${level.colour}${levelText}${RESET}` : levelText, `${component}${String(entry.msg ?? '')}`];
  const fields: string[] = [];
  let stack = '';
  for (const [key, value] of Object.entries(entry)) {
    if (FRAMED.has(key) || value === undefined) continue;
    if (key === 'err' && value && typeof value === 'object') {
      const err = value as { message?: string; stack?: string };
      fields.push(`err=${JSON.stringify(err.message ?? '')}`);
      if (err.stack && (entry.level as number) >= 50) stack = `\n${indent(err.stack)}`;
      continue;
    }
    fields.push(`${key}=${typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)}`);
  }
  const text = parts.join(' ') + (fields.length > 0 ? ` ${colour ? DIM : ''}${fields.join(' ')}${colour ? RESET : ''}` : '');
  return text + stack;
}

function indent(stack: string): string {
  return stack
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
