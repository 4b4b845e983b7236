// What producers and dispatchers agree on in Redis, beyond BullMQ itself: a plain job's data is
// the function's input; a chunk job carries several inputs that run as separate photons; the
// messages on the channels of contract/channels.ts. Heartbeats are in contract/heartbeat.ts.
import type { SerializedError } from '../errors';

/** The BullMQ job name that marks a chunk: `data` is a ChunkData, the return value a ChunkResult. */
export const CHUNK_JOB_NAME = 'photons:chunk';

export interface ChunkData {
  items: unknown[];
}

export type ItemOutcome = { ok: true; value: unknown } | { ok: false; error: SerializedError };

export interface ChunkResult {
  items: ItemOutcome[];
}

/** A message on the cancel channel. */
export interface CancelRequest {
  fn: string;
  jobId: string;
}

/** A message on the deploy channel: the function's current version is now the bundle of `hash`. */
export interface DeployNotice {
  fn: string;
  hash: string;
}

/** The message of a failed job starts with its code: `PHOTONS_ERR_HANDLER: boom`. */
export function parseFailedReason(reason: string): { code: string; message: string } {
  const match = /^(PHOTONS_ERR_[A-Z_]+): ([\s\S]*)$/.exec(reason);
  return match ? { code: match[1]!, message: match[2]! } : { code: 'PHOTONS_ERR_HANDLER', message: reason };
}
