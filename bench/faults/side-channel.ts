// The fault fixtures' side channel: each finished run of a job adds 1 to the job's field in one
// Redis hash, so a job run twice (delivery is at least once) shows up as 2 even when BullMQ kept
// only the last outcome. Bundled into the fixtures; the bench reads the hash back.
import { Redis } from 'ioredis';
import type { PhotonContext } from '../../photon-worker/types';

/** What every fixture job carries: where to count its runs, how long to work, its index. */
export interface TallyInput {
  i: number;
  ms: number;
  /** Redis URL as seen from the dispatcher running the job (a namespace sees another address). */
  url: string;
  /** The hash of run counts, one field per job id. */
  key: string;
}

/** Waits `ms` (the job's work), then records the run; the result names the job. */
export async function tally(input: TallyInput, ctx: PhotonContext): Promise<{ i: number }> {
  await new Promise((resolve) => setTimeout(resolve, input.ms));
  // One connection per runtime. maxRetriesPerRequest null: a run finished while the host was cut off
  // is still counted once the link is back, so duplicates cannot hide behind a dropped command.
  const redis = await ctx.shared(`tally:${input.url}`, () => {
    const client = new Redis(input.url, { maxRetriesPerRequest: null });
    client.on('error', () => undefined);
    return client;
  });
  await redis.hincrby(input.key, ctx.jobId, 1);
  return { i: input.i };
}
