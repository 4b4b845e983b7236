// Workload "REST" (paper, Table 1): one call to a JSON API, then a small transformation of the
// answer. Mostly waiting on the network, so many jobs fit in one runtime. It reaches only public
// addresses unless the operator sets PHOTONS_REST_ALLOW_PRIVATE=1 (lib/guarded-get.ts).
import { UnrecoverableError } from 'bullmq';
import type { FunctionConfig, PhotonContext } from '../../photon-worker/types';
import { guardedGet } from './lib/guarded-get';

export const config: FunctionConfig = { timeoutMs: 15_000, photonsPerRuntime: 64, attempts: 3 };

export interface RestInput {
  /** The http(s) URL to GET. It must answer JSON. */
  url: string;
  /**
   * Where the records are in the answer: a dot path such as "data.items". Default: the answer
   * itself must be an array, or an object holding exactly one array property.
   */
  itemsPath?: string;
  /** The record fields to keep in `items`. Default: all fields. */
  fields?: string[];
  /** How many records to return in `items`, 0 to 1000. Default 10. Statistics cover all records. */
  limit?: number;
}

export interface FieldStats {
  count: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
}

/**
 * What the function returns:
 * - `status`: the HTTP status (always 2xx: other answers fail the job);
 * - `count`: how many records (JSON objects) the array held; other elements are ignored;
 * - `stats`: for every field that holds a number in at least one record, the count, sum, min, max
 *   and mean of its numeric values over all records (fields in alphabetical order);
 * - `items`: the first `limit` records, reduced to `fields` when given (missing fields are left out).
 */
export interface RestOutput {
  status: number;
  count: number;
  stats: Record<string, FieldStats>;
  items: Array<Record<string, unknown>>;
}

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 1000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isRecord(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type ParsedInput = Required<Pick<RestInput, 'url' | 'limit'>> & Pick<RestInput, 'itemsPath' | 'fields'>;

function parseInput(input: unknown): ParsedInput {
  if (!isRecord(input)) {
    throw new UnrecoverableError('rest: input must be an object like { "url": "https://api.example.com/items" }');
  }
  const { url, itemsPath, fields, limit = DEFAULT_LIMIT } = input as Partial<RestInput>;
  if (typeof url !== 'string') {
    throw new UnrecoverableError('rest: input.url must be a string (an http or https URL)');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnrecoverableError(`rest: input.url is not a valid URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UnrecoverableError(`rest: input.url must use http or https, got ${JSON.stringify(parsed.protocol)}`);
  }
  if (itemsPath !== undefined && (typeof itemsPath !== 'string' || itemsPath === '')) {
    throw new UnrecoverableError('rest: input.itemsPath must be a non-empty dot path such as "data.items"');
  }
  if (fields !== undefined && (!Array.isArray(fields) || !fields.every((f) => typeof f === 'string'))) {
    throw new UnrecoverableError('rest: input.fields must be an array of field names (strings)');
  }
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT) {
    throw new UnrecoverableError(`rest: input.limit must be an integer from 0 to ${MAX_LIMIT}, got ${JSON.stringify(limit)}`);
  }
  return { url, itemsPath, fields, limit };
}

function findRecords(body: Json, itemsPath: string | undefined, url: string): Json[] {
  let node: Json | undefined = body;
  if (itemsPath !== undefined) {
    for (const key of itemsPath.split('.')) {
      node = isRecord(node) ? node[key] : undefined;
    }
    if (!Array.isArray(node)) {
      throw new UnrecoverableError(`rest: ${url} answered JSON with no array at "${itemsPath}"`);
    }
    return node;
  }
  if (Array.isArray(node)) return node;
  const arrays = isRecord(node) ? Object.values(node).filter((value): value is Json[] => Array.isArray(value)) : [];
  if (arrays.length !== 1) {
    throw new UnrecoverableError(`rest: ${url} answered JSON that is not an array nor an object with exactly one array; give input.itemsPath`);
  }
  return arrays[0]!;
}

export default async function rest(input: RestInput, ctx: PhotonContext): Promise<RestOutput> {
  const { url, itemsPath, fields, limit } = parseInput(input);
  const response = await guardedGet(url, ctx.signal);
  if (response.status < 200 || response.status >= 300) {
    const message = `rest: GET ${url} answered ${response.status} ${response.statusText}`;
    // A 4xx will answer the same on a retry; a 5xx or 429 may not.
    const permanent = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
    throw permanent ? new UnrecoverableError(message) : new Error(message);
  }
  const text = response.text;
  let body: Json;
  try {
    body = JSON.parse(text) as Json;
  } catch {
    throw new Error(`rest: GET ${url} answered a body that is not JSON (starts with ${JSON.stringify(text.slice(0, 40))})`);
  }
  const records = findRecords(body, itemsPath, url).filter(isRecord);

  const accumulators = new Map<string, FieldStats>();
  for (const record of records) {
    for (const [key, value] of Object.entries(record)) {
      if (typeof value !== 'number') continue;
      const s = accumulators.get(key);
      if (s) {
        s.count += 1;
        s.sum += value;
        s.min = Math.min(s.min, value);
        s.max = Math.max(s.max, value);
      } else {
        accumulators.set(key, { count: 1, sum: value, min: value, max: value, mean: 0 });
      }
    }
  }
  const stats: Record<string, FieldStats> = {};
  for (const key of [...accumulators.keys()].sort()) {
    const s = accumulators.get(key)!;
    stats[key] = { ...s, mean: s.sum / s.count };
  }

  const items = records.slice(0, limit).map((record) => {
    if (!fields) return record;
    const picked: Record<string, Json> = {};
    for (const f of fields) if (Object.hasOwn(record, f)) picked[f] = record[f]!;
    return picked;
  });
  return { status: response.status, count: records.length, stats, items };
}
