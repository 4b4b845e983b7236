// GET for the REST workload that reaches only public addresses. Job input chooses the URL, so
// without this a job could read the cloud metadata service (169.254.169.254) or anything on the
// host's loopback and private networks. The check runs on the address the socket connects to
// (after DNS, in the socket's own lookup), so a name that resolves to a private address, or
// re-resolves to one between a check and the connection, is refused too; every redirect hop goes
// through the same check. The operator (never job input) may allow private addresses with
// PHOTONS_REST_ALLOW_PRIVATE=1 (or name the ones allowed), as the benchmarks do for their local
// JSON service.
import { lookup as dnsLookup, type LookupAddress, type LookupOneOptions } from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { UnrecoverableError } from 'bullmq';

const MAX_REDIRECTS = 5;
const MAX_BODY = 32 * 1024 * 1024;

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv6');
}

/**
 * What the operator allows: PHOTONS_REST_ALLOW_PRIVATE=1 every private address, or a comma-separated
 * list of the private addresses allowed (127.0.0.1,10.0.0.5); unset, none.
 */
function allowance(): 'all' | Set<string> {
  const raw = process.env.PHOTONS_REST_ALLOW_PRIVATE?.trim() ?? '';
  if (raw === '1') return 'all';
  return new Set(
    raw
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== '' && a !== '0'),
  );
}

/** True for loopback, private, link-local, shared, multicast and reserved addresses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family !== 6) return true;
  // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is the IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  // The same in hex, as URL writes it: [::ffff:7f00:1].
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
    return PRIVATE.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
  }
  return PRIVATE.check(address, 'ipv6');
}

function refusal(url: string, address: string): UnrecoverableError {
  return new UnrecoverableError(
    `rest: ${url} leads to ${address}, a private, loopback or link-local address, which is refused; the operator may allow them with PHOTONS_REST_ALLOW_PRIVATE=1`,
  );
}

/** The socket's DNS lookup, refusing private answers (every answer must be public). */
function guardedLookup(url: string, allowed: Set<string>): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...(options as LookupOneOptions), all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.find((a) => isPrivateAddress(a.address) && !allowed.has(a.address));
      if (bad) return callback(refusal(url, `${bad.address} (${hostname})`) as unknown as NodeJS.ErrnoException, '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export interface GetResult {
  status: number;
  statusText: string;
  /** The URL that answered, after redirects. */
  url: string;
  text: string;
}

function getOnce(
  url: URL,
  signal: AbortSignal,
  allowed: 'all' | Set<string>,
): Promise<{ status: number; statusText: string; location?: string; text: string }> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const guard = allowed !== 'all';
  if (guard && isIP(host) && isPrivateAddress(host) && !allowed.has(host)) return Promise.reject(refusal(url.href, host));
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const request = get(url, { signal, headers: { accept: 'application/json' }, lookup: guard ? guardedLookup(url.href, allowed) : undefined }, (response) => {
      const status = response.statusCode ?? 0;
      const location = status >= 300 && status < 400 ? response.headers.location : undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) request.destroy(new UnrecoverableError(`rest: GET ${url.href} answered more than ${MAX_BODY} bytes`));
        else chunks.push(chunk);
      });
      response.on('end', () => resolve({ status, statusText: response.statusMessage ?? '', location, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', (err: Error) => reject(signal.aborted ? (signal.reason as Error) : err));
  });
}

/** GET `url`, following up to 5 redirects, each hop to a public address unless allowed. */
export async function guardedGet(url: string, signal: AbortSignal): Promise<GetResult> {
  const allowed = allowance();
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const answer = await getOnce(current, signal, allowed);
    if (answer.location === undefined) return { status: answer.status, statusText: answer.statusText, url: current.href, text: answer.text };
    if (hop >= MAX_REDIRECTS) throw new UnrecoverableError(`rest: GET ${url} redirected more than ${MAX_REDIRECTS} times`);
    const next = new URL(answer.location, current);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new UnrecoverableError(`rest: GET ${current.href} redirected to ${JSON.stringify(next.protocol)}; only http and https are followed`);
    }
    current = next;
  }
}
