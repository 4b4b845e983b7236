// A runtime thread's logger and its jobs' loggers, made on first use: loading pino takes about
// 40 ms, most of a cold start, so only runtimes that log pay for it.
import type { Logger } from 'pino';
import type { JobContext } from './context';
import { JobLogCapture, JobLogLines, levelValue, type JobLogLevel } from './job-log';
import type { RuntimeStartup } from './protocol';

export class RuntimeLog {
  private logger: Logger | undefined;
  private capture: JobLogCapture | undefined;

  constructor(
    private readonly startup: RuntimeStartup,
    /** The function's own job-log level, once it has loaded. */
    private readonly configuredJobLevel: () => JobLogLevel | undefined,
  ) {}

  get root(): Logger {
    if (this.logger) return this.logger;
    const { pino } = require('pino') as typeof import('pino');
    // Synchronous writes: a runtime can be terminated at any moment (retired, replaced), and
    // pino's asynchronous stream is not flushed in a worker thread, so lines would be lost.
    this.capture = new JobLogCapture(levelValue(this.startup.logLevel));
    this.logger = pino({ level: this.startup.logLevel, ...this.capture.options() }, pino.destination({ fd: this.startup.logFd ?? 1, sync: true })).child({
      component: 'photon',
      fn: this.startup.functionName,
      runtimeId: this.startup.runtimeId,
    });
    return this.logger;
  }

  /**
   * A job's logger. When its lines also go to its BullMQ job log, its level is the lower of the
   * process's and the job log's, and the capture hook sorts the lines (job-log.ts).
   */
  forJob(ctx: JobContext): Logger {
    const root = this.root;
    const bindings = { jobId: ctx.jobId, photonId: ctx.photonId };
    const jobLevel = this.configuredJobLevel() ?? this.startup.jobLogLevel ?? 'off';
    const min = levelValue(jobLevel);
    if (min === Infinity) return root.child(bindings);
    // Options only when the job log reaches lower than the process log: pino's child without
    // options is the quicker one, and at the defaults (info and info) that is every job.
    const child = min < levelValue(this.startup.logLevel) ? root.child(bindings, { level: jobLevel }) : root.child(bindings);
    ctx.logLines = new JobLogLines(ctx.attempt);
    this.capture!.capture(child, ctx.logLines, min);
    return child;
  }
}
