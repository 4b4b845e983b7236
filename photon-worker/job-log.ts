// Inside a runtime thread: the lines a job logs (ctx.log, and its console, which writes there) at
// the job-log level and above are kept with the job and travel with its answer, so the dispatcher
// can add them to the BullMQ job log (ARCHITECTURE.md, "Job logs"). The runtime's stdout lines are
// unchanged: a pino hook sees which logger each call is made on, before any line is serialised.
import { format } from 'node:util';
import type { Logger, LoggerOptions } from 'pino';
import { JSONStringify, ReflectApply, SafeWeakMap } from './primordials';

/** The levels a job log may start at, and `off`. */
export const JOB_LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'off'] as const;
export type JobLogLevel = (typeof JOB_LOG_LEVELS)[number];
/** Looked up with `in`, not a method: a job may have patched Array.prototype.includes. */
const JOB_LOG_LEVEL_NAMES = Object.create(null) as Record<string, true>;
for (const level of JOB_LOG_LEVELS) JOB_LOG_LEVEL_NAMES[level] = true;

export function isJobLogLevel(value: unknown): value is JobLogLevel {
  return typeof value === 'string' && value in JOB_LOG_LEVEL_NAMES;
}

const LEVEL_VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity, off: Infinity };
const LEVEL_LABELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Most lines one attempt of a job sends; more are counted, not kept (the earliest are kept). */
export const MAX_LINES_PER_ATTEMPT = 1_000;
/** Longest line kept, in characters; a longer one is cut. */
export const MAX_LINE_CHARS = 8_192;

/** The numeric pino level of a name (`off` and `silent`: nothing). */
export function levelValue(level: string): number {
  return LEVEL_VALUES[level] ?? LEVEL_VALUES.info!;
}

/** The lines one attempt of one job logged. */
export class JobLogLines {
  readonly lines: string[] = [];
  private dropped = 0;
  constructor(private readonly attempt: number) {}

  /** A line from the arguments of a pino call: `(msg, ...args)`, `(obj, msg?, ...args)` or `(err, msg?)`. */
  add(level: number, args: unknown[]): void {
    if (this.lines.length >= MAX_LINES_PER_ATTEMPT) {
      this.dropped++;
      return;
    }
    const [first, ...rest] = args;
    const withFields = typeof first === 'object' && first !== null;
    const fields = first instanceof Error ? { err: first } : withFields ? first : undefined;
    const [msg, ...values] = withFields ? rest : args;
    const text =
      typeof msg === 'string' ? (values.length > 0 ? format(msg, ...values) : msg) : first instanceof Error && msg === undefined ? first.message : '';
    let line = `${new Date().toISOString()} ${LEVEL_LABELS[level] ?? level} [attempt ${this.attempt}] ${text}${fields ? fieldsOf(fields) : ''}`;
    if (line.length > MAX_LINE_CHARS) line = `${line.slice(0, MAX_LINE_CHARS)}… (${line.length - MAX_LINE_CHARS} more characters)`;
    this.lines.push(line);
  }

  /** The lines to store: with a last one saying how many did not fit. */
  take(): string[] {
    if (this.dropped > 0) this.lines.push(`… ${this.dropped} more line(s) of attempt ${this.attempt} not kept (at most ${MAX_LINES_PER_ATTEMPT} per attempt)`);
    this.dropped = 0;
    return this.lines;
  }
}

/**
 * pino options of a runtime's root logger, inherited by its children: the `logMethod` hook gives
 * each line of a job's logger (or of a child of it) at or above its job-log level to that job's
 * lines, and lets pino write only what reaches the process log level, so a line meant only for the
 * job log is never serialised as JSON.
 */
export class JobLogCapture {
  private readonly jobs = new SafeWeakMap<object, { lines: JobLogLines; min: number }>();

  constructor(private readonly processMin: number) {}

  /** Sends the lines of `logger` at `min` and above to `lines`. */
  capture(logger: Logger, lines: JobLogLines, min: number): void {
    this.jobs.set(logger, { lines, min });
  }

  options(): Pick<LoggerOptions, 'hooks' | 'onChild'> {
    const { jobs, processMin } = this;
    return {
      hooks: {
        logMethod(this: Logger, args: unknown[], method: (...args: unknown[]) => void, level: number): void {
          const job = jobs.get(this);
          if (job && level >= job.min) job.lines.add(level, args);
          if (level >= processMin) ReflectApply(method, this, args);
        },
      },
      // pino calls it on the parent: `ctx.log.child({ … })` logs into the job's lines too.
      onChild(this: Logger, child: Logger): void {
        const job = jobs.get(this);
        if (job) jobs.set(child, job);
      },
    };
  }
}

/** The fields logged beside the message, as JSON after it (an error as its type and message). */
function fieldsOf(obj: object): string {
  let any = false;
  for (const key in obj) {
    any = key !== 'msg';
    if (any) break;
  }
  if (!any) return '';
  try {
    return ` ${JSONStringify(obj, (key, value: unknown) => (key === 'msg' ? undefined : value instanceof Error ? { type: value.name, message: value.message } : value))}`;
  } catch {
    return ' (fields not JSON)';
  }
}
