// Workload "Hash" (paper, Table 1): gets a 2 MB blob and returns its SHA-256. The paper fetches the
// blob from object storage; here it is generated from input.seed, so each job holds its own 2 MB.
import { createCipheriv, createHash } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import type { FunctionConfig, PhotonContext } from '../../photon-worker/types';

export const config: FunctionConfig = { timeoutMs: 30_000, photonsPerRuntime: 32 };

export interface HashInput {
  /** Picks the blob's content: a string or an integer. Default 0. */
  seed?: string | number;
  /** The blob's size in bytes, a positive integer up to 64 MiB. Default 2 MiB. */
  sizeBytes?: number;
}

export interface HashOutput {
  /** Lower-case hex SHA-256 of the blob. */
  sha256: string;
  sizeBytes: number;
}

const DEFAULT_SIZE = 2 * 1024 * 1024;
// A job's blob lives in the runtime's memory next to its neighbours' blobs: cap it.
const MAX_SIZE = 64 * 1024 * 1024;

/**
 * The blob for a seed: the AES-256-CTR keystream with key SHA-256("photons-hash:" + seed) and an
 * all-zero IV, i.e. zero bytes encrypted. A standard construction, so anyone can rebuild the same
 * bytes (the test does) and it costs ~1 ms per MB rather than a hand-written PRNG loop.
 */
function blobFor(seed: string, sizeBytes: number): Buffer {
  const key = createHash('sha256').update(`photons-hash:${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(sizeBytes)), cipher.final()]);
}

export default async function hash(input: HashInput | null | undefined, ctx: PhotonContext): Promise<HashOutput> {
  if (input !== null && input !== undefined && (typeof input !== 'object' || Array.isArray(input))) {
    throw new UnrecoverableError('hash: input must be an object like { "seed": 1, "sizeBytes": 2097152 } (or empty)');
  }
  const seed = input?.seed ?? 0;
  if (typeof seed !== 'string' && !(typeof seed === 'number' && Number.isSafeInteger(seed))) {
    throw new UnrecoverableError(`hash: input.seed must be a string or an integer, got ${JSON.stringify(seed)}`);
  }
  const sizeBytes = input?.sizeBytes ?? DEFAULT_SIZE;
  if (typeof sizeBytes !== 'number' || !Number.isInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes > MAX_SIZE) {
    throw new UnrecoverableError(`hash: input.sizeBytes must be a positive integer up to ${MAX_SIZE}, got ${JSON.stringify(sizeBytes)}`);
  }
  ctx.signal.throwIfAborted();
  const blob = blobFor(String(seed), sizeBytes);
  return { sha256: createHash('sha256').update(blob).digest('hex'), sizeBytes };
}
