// Benchmark fixture: the trivial function, logging one info line per job (which, at default
// settings, also goes to the job's BullMQ log): what a job log line costs per job.
import type { PhotonContext } from '../../photon-worker/types';

export default async function noopLog(input: { i: number }, ctx: PhotonContext): Promise<{ i: number }> {
  ctx.log.info('noop-log: one line');
  return { i: input.i };
}
