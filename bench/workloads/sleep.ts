// Workload "Sleep" (paper, Table 1): waits and returns, holding almost no state of its own, so it
// measures the floor of what a job costs in a runtime (49 MB per runtime vs 1 MB per photon in the paper).
import { setTimeout as delay } from 'node:timers/promises';
import { UnrecoverableError } from 'bullmq';
import type { FunctionConfig, PhotonContext } from '../../photon-worker/types';

export const config: FunctionConfig = { timeoutMs: 10_000, photonsPerRuntime: 64 };

export interface SleepInput {
  /** How long to wait, in milliseconds: an integer from 0 to 600000. Default 1000 (the paper's 1 s). */
  ms?: number;
}

export interface SleepOutput {
  /** The wait that was asked for and completed, in milliseconds. */
  sleptMs: number;
}

const DEFAULT_MS = 1000;
// Ten minutes: longer waits are almost surely a unit mistake (seconds given as ms × 1000).
const MAX_MS = 600_000;

export default async function sleep(input: SleepInput | null | undefined, ctx: PhotonContext): Promise<SleepOutput> {
  if (input !== null && input !== undefined && (typeof input !== 'object' || Array.isArray(input))) {
    throw new UnrecoverableError('sleep: input must be an object like { "ms": 1000 } (or empty)');
  }
  const ms = input?.ms ?? DEFAULT_MS;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > MAX_MS) {
    throw new UnrecoverableError(`sleep: input.ms must be an integer from 0 to ${MAX_MS}, got ${JSON.stringify(ms)}`);
  }
  // The signal clears the timer on timeout or cancel, so an aborted job leaves nothing pending
  // in the shared event loop.
  await delay(ms, undefined, { signal: ctx.signal });
  return { sleptMs: ms };
}
