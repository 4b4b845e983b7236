// A request for a runtime (a job, or a chunk job's items) and who hears its answer, with the two
// things a pool does to one besides sending it: split a chunk's items where a runtime has room for
// only some of them, and answer it whole when no runtime will run it (ARCHITECTURE.md, "Scheduling").
import type { SerializedError } from '../errors';
import type { ItemOutcome, JobRequest } from '../photon-worker/protocol';

/** What one input came to, or that its runtime died under it (not its fault unless it keeps happening). */
export type JobOutcome = ItemOutcome | { kind: 'runtime-died'; error: SerializedError };

export interface Waiting {
  job: JobRequest;
  /** Called once, with one outcome per input, in order. */
  resolve: (outcomes: JobOutcome[]) => void;
}

/** Answers every input of a request with the same outcome. */
export function answerAll(waiting: Waiting, outcome: JobOutcome): void {
  waiting.resolve(new Array<JobOutcome>(waiting.job.inputs.length).fill(outcome));
}

/**
 * Splits a chunk's request after its first `count` inputs. The two parts run wherever they are
 * placed; the request hears one answer once both have theirs.
 */
export function split(waiting: Waiting, count: number): [Waiting, Waiting] {
  const { job } = waiting;
  const first = job.first ?? 0;
  const outcomes = new Array<JobOutcome>(job.inputs.length);
  let left = 2;
  const part = (from: number, to: number): Waiting => ({
    job: { ...job, inputs: job.inputs.slice(from, to), first: first + from },
    resolve: (answers) => {
      for (let i = 0; i < answers.length; i++) outcomes[from + i] = answers[i]!;
      if (--left === 0) waiting.resolve(outcomes);
    },
  });
  return [part(0, count), part(count, job.inputs.length)];
}
