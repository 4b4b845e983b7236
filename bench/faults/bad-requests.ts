// The malformed and oversized requests of the API flood, generated: bad JSON, wrong types, missing
// and unknown fields, unknown functions, invalid names, bodies past the limit, bad tokens, wrong
// content types, methods and paths; job ids naming BullMQ's queue keys, inputs nested thousands
// deep, option values past BullMQ's limits, too many inputs in one request. Each one is a request
// a correct API must answer with a 4xx.
import { MAX_CUSTOM_JOB_ID_LENGTH, RESERVED_JOB_IDS } from '../../producer/job-id';

export interface BadRequest {
  /** What is wrong with it, for the report. */
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Send the body chunked, without Content-Length, so only counting the bytes can catch it. */
  chunked?: boolean;
}

const BODY_ROUTES = ['/jobs', '/jobs/bulk', '/invoke', '/runs'] as const;
type BodyRoute = (typeof BODY_ROUTES)[number];
const GET_ROUTES = ['/jobs/flood-0', '/jobs/flood-0/cancel', '/functions', '/runs/some-run'] as const;

const WRONG_TYPES: unknown[] = [null, true, false, 0, -1, 1.5, 'text', '', [], [1], {}, { a: 1 }];
const INVALID_NAMES = [
  '',
  ' ',
  '1abc',
  '-abc',
  '_abc',
  'a b',
  'a/b',
  '../etc/passwd',
  'a:b',
  'a.b',
  'a\nb',
  'a\u0000b',
  'é',
  '💥',
  'a;rm -rf /',
  '$(id)',
  'x'.repeat(65),
  'x'.repeat(201),
  '*',
  '?',
  'a*',
  '%',
  'a%2Fb',
  'tally ',
  ' tally',
  'tally\t',
];
const BAD_JSON = [
  '{',
  '}',
  '[',
  '{"fn":',
  '{"fn":"tally",}',
  "{'fn':'tally'}",
  '{"fn":tally}',
  'NaN',
  '{"fn":"tally"} x',
  '[1,2',
  '{"a":1}{"b":2}',
  '{"fn":"\\x"}',
  '{"fn":"tally","input":undefined}',
  '// c\n{}',
  '{"fn":"tally" "input":1}',
  'tru',
  '"unterminated',
  '{"fn":"tally","input":01}',
  '{"fn":"tally","input":.5}',
  '{"fn":"tally","input":+1}',
  '{"fn":"tally","input":0x10}',
  '{"fn":"tally","input":Infinity}',
  '{"fn":"tally","input":[1,]}',
  '{fn:"tally"}',
  '{"fn":"tally","input":"\t"}',
  '\u0000',
  '{"__proto__":{"polluted":1},"fn":"tally"}',
  '{"constructor":{"prototype":{"x":1}},"fn":"tally"}',
];

/** Bodies valid in every way but the named field, per route. */
const BAD_FIELDS: Record<BodyRoute, Record<string, unknown[]>> = {
  '/jobs': {
    fn: WRONG_TYPES.filter((v) => typeof v !== 'string'),
    // POST /jobs alone takes a jobId option: only a wrong type of it is bad there.
    options: [
      ...WRONG_TYPES.filter((v) => !isPlainObject(v)),
      ...badJobOptions().filter((o) => !('jobId' in o)),
      { jobId: 5 },
      { jobId: null },
      { jobId: '' },
      // An id that is a key of the queue itself (its wait list, id counter, event stream...) would break the queue.
      ...[...RESERVED_JOB_IDS].map((jobId) => ({ jobId })),
      { jobId: 'j'.repeat(MAX_CUSTOM_JOB_ID_LENGTH + 1) },
      { jobId: '12345' },
      { jobId: 'a:b' },
      { jobId: 'wait:1' },
    ],
  },
  '/jobs/bulk': {
    fn: WRONG_TYPES.filter((v) => typeof v !== 'string'),
    inputs: WRONG_TYPES.filter((v) => !Array.isArray(v)),
    options: [...WRONG_TYPES.filter((v) => !isPlainObject(v)), ...badJobOptions()],
  },
  '/invoke': {
    fn: WRONG_TYPES.filter((v) => typeof v !== 'string'),
    waitMs: [0, -1, 1.5, '10', null, [], {}, true],
    options: [...WRONG_TYPES.filter((v) => !isPlainObject(v)), ...badJobOptions()],
  },
  '/runs': {
    fn: WRONG_TYPES.filter((v) => typeof v !== 'string'),
    inputs: WRONG_TYPES.filter((v) => !Array.isArray(v)),
    chunkSize: [0, -5, 1.5, 'a', null, [], {}, true],
    failFast: ['yes', 1, 0, null, [], {}],
    attempts: [0, -1, 1.5, 'x', null, [], {}, 1_001],
    reduce: [...WRONG_TYPES.filter((v) => typeof v !== 'string'), '', 'a/b', '../etc', 'no-such-function'],
  },
};

function badJobOptions(): Array<Record<string, unknown>> {
  const fields = ['attempts', 'backoffMs', 'delayMs', 'priority'];
  const values: unknown[] = [-1, 1.5, '3', null, [], {}, true, 2 ** 64];
  return [
    ...fields.flatMap((f) => values.map((v) => ({ [f]: v }))),
    { attempts: 0 },
    { backoffMs: 0 },
    { priority: 0 },
    { unknown: 1 },
    { removeOnComplete: true },
    { jobId: 'x' },
    // Past what BullMQ takes or the quotas allow: refused before BullMQ sees them.
    { priority: 3_000_000 },
    { priority: 2_097_152 },
    { delayMs: 31_536_000_001 },
    { backoffMs: 31_536_000_001 },
    { attempts: 1_001 },
    { attempts: 1_000_000 },
  ];
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A valid body for the route, to spoil one thing of at a time. */
function validBody(route: BodyRoute): Record<string, unknown> {
  return route === '/jobs' || route === '/invoke' ? { fn: 'tally', input: { i: 0 } } : { fn: 'tally', inputs: [{ i: 0 }] };
}

/** At least a thousand distinct bad requests against an API whose token is `token` and whose body limit is `limit`. */
export function badRequests(token: string, limit: number): BadRequest[] {
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const out: BadRequest[] = [];
  const post = (kind: string, path: string, body: unknown) => out.push({ kind, method: 'POST', path, headers: json, body: JSON.stringify(body) });

  for (const route of BODY_ROUTES) {
    for (const text of BAD_JSON) out.push({ kind: 'bad JSON', method: 'POST', path: route, headers: json, body: text });
    // Every truncation of a valid body: a client cut off mid-write.
    const whole = JSON.stringify(validBody(route));
    for (let end = 1; end < whole.length; end++) out.push({ kind: 'truncated JSON', method: 'POST', path: route, headers: json, body: whole.slice(0, end) });
    out.push({ kind: 'invalid UTF-8', method: 'POST', path: route, headers: json, body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) });
    out.push({ kind: 'empty body', method: 'POST', path: route, headers: json, body: '' });
    for (const body of [[], 1, 'text', null, true, [validBody(route)]]) post('body not an object', route, body);
    for (const [field, values] of Object.entries(BAD_FIELDS[route])) {
      for (const value of values) post(`wrong ${field}`, route, { ...validBody(route), [field]: value });
    }
    for (const name of INVALID_NAMES) post('invalid function name', route, { ...validBody(route), fn: name });
    for (let k = 0; k < 20; k++) post('unknown function', route, { ...validBody(route), fn: `nope${k}` });
    for (let k = 0; k < 10; k++) post('unknown field', route, { ...validBody(route), [`extra${k}`]: k });
    post('missing fn', route, { ...validBody(route), fn: undefined });
    if (route === '/jobs/bulk' || route === '/runs') post('missing inputs', route, { fn: 'tally' });
    // Deep nesting where a type is required: the validator must refuse it, not recurse into it.
    const deep = `${'['.repeat(20_000)}1${']'.repeat(20_000)}`;
    out.push({
      kind: 'deeply nested option',
      method: 'POST',
      path: route,
      headers: json,
      body: JSON.stringify(validBody(route)).replace(/}$/, `,"options":{"attempts":${deep}}}`),
    });
    // Inputs nested past producer.maxInputDepth: refused without recursing into them.
    const inputField = route === '/jobs' || route === '/invoke' ? 'input' : 'inputs';
    for (const [shape, deepInput] of [
      ['object 3,500 deep', `${'{"a":'.repeat(3_500)}1${'}'.repeat(3_500)}`],
      ['array 2,000 deep', `${'['.repeat(2_000)}1${']'.repeat(2_000)}`],
      ['object 65 deep', `${'{"a":'.repeat(65)}1${'}'.repeat(65)}`],
    ]) {
      const value = inputField === 'input' ? deepInput : `[${deepInput}]`;
      out.push({ kind: `input nested: ${shape}`, method: 'POST', path: route, headers: json, body: `{"fn":"tally","${inputField}":${value}}` });
    }
    if (inputField === 'inputs') post('too many inputs', route, { fn: 'tally', inputs: new Array(10_001).fill(0) });
    for (const bytes of [limit + 1, limit * 2, limit * 8, 2 * 1024 * 1024]) {
      out.push({ kind: 'body over the limit', method: 'POST', path: route, headers: json, body: oversized(route, bytes) });
      out.push({ kind: 'chunked body over the limit', method: 'POST', path: route, headers: json, body: oversized(route, bytes), chunked: true });
    }
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
      out.push({ kind: 'wrong content type', method: 'POST', path: route, headers: { ...auth, 'content-type': type }, body: JSON.stringify(validBody(route)) });
    }
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH'])
      out.push({ kind: 'wrong method', method, path: route, headers: json, body: method === 'GET' ? undefined : '{}' });
  }

  const tokens: Array<Record<string, string>> = [
    {},
    { authorization: '' },
    { authorization: 'Bearer' },
    { authorization: 'Bearer ' },
    { authorization: 'Bearer wrong' },
    { authorization: `Basic ${Buffer.from(`user:${token}`).toString('base64')}` },
    { authorization: `Bearer ${token}x` },
    { authorization: token },
    { authorization: `Bearer ${token.toUpperCase()}` },
    { authorization: `Bearer ${'t'.repeat(8_000)}` },
    { authorization: `Bearer ${token.slice(1)}` },
    { authorization: `Token ${token}` },
    { 'x-api-key': token },
  ];
  for (const headers of tokens) {
    for (const route of BODY_ROUTES)
      out.push({
        kind: 'bad token',
        method: 'POST',
        path: route,
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(validBody(route)),
      });
    for (const path of GET_ROUTES) out.push({ kind: 'bad token', method: path.endsWith('/cancel') ? 'POST' : 'GET', path, headers });
  }

  for (const id of ['x'.repeat(201), '%00', 'a%2F..%2F..', 'unknown-job', 'flood-999999']) {
    out.push({ kind: 'bad or unknown job id', method: 'GET', path: `/jobs/${id}`, headers: auth });
    out.push({ kind: 'bad or unknown job id', method: 'POST', path: `/jobs/${id}/cancel?fn=tally`, headers: auth });
  }
  for (const name of INVALID_NAMES.filter((n) => n.length > 0))
    out.push({ kind: 'invalid fn query', method: 'GET', path: `/jobs/flood-0?fn=${encodeURIComponent(name)}`, headers: auth });
  for (const query of ['x=1', 'fn=tally&extra=1', 'fn=', 'fn[]=a'])
    out.push({ kind: 'bad query', method: 'GET', path: `/jobs/flood-0?${query}`, headers: auth });
  for (const id of ['r'.repeat(65), 'unknown-run']) {
    out.push({ kind: 'bad or unknown run id', method: 'GET', path: `/runs/${id}`, headers: auth });
    out.push({ kind: 'bad or unknown run id', method: 'GET', path: `/runs/${id}/results`, headers: auth });
  }
  out.push({ kind: 'bad query', method: 'GET', path: '/runs/unknown-run/results?ordered=maybe', headers: auth });
  // Schedules: a bad timing, id, function or input is refused before BullMQ's scheduler sees it.
  const schedule = (kind: string, id: string, body: unknown) =>
    out.push({ kind, method: 'PUT', path: `/schedules/${id}`, headers: json, body: typeof body === 'string' ? body : JSON.stringify(body) });
  for (const every of [0, -1, 1.5, 99, 31_622_400_001, '1000', null, [], {}, true]) schedule('bad schedule every', 'flood', { fn: 'tally', every });
  for (const cron of ['', '* * *', '99 * * * *', '*/0 * * * *', '0 0 31 2 *', '* * * * * * * *', 'x'.repeat(257), 5, null, []])
    schedule('bad schedule cron', 'flood', { fn: 'tally', cron });
  for (const tz of ['Mars/Base', '', 'x'.repeat(65), 5]) schedule('bad schedule tz', 'flood', { fn: 'tally', cron: '* * * * *', tz });
  schedule('schedule with every and cron', 'flood', { fn: 'tally', every: 1_000, cron: '* * * * *' });
  schedule('schedule with no timing', 'flood', { fn: 'tally' });
  schedule('schedule with an unknown field', 'flood', { fn: 'tally', every: 1_000, extra: 1 });
  schedule('schedule input nested', 'flood', `{"fn":"tally","every":1000,"input":${'{"a":'.repeat(3_500)}1${'}'.repeat(3_500)}}`);
  for (const name of INVALID_NAMES) schedule('schedule of an invalid function name', 'flood', { fn: name, every: 1_000 });
  for (const id of ['a:b', '%00', '..%2F..', 'a%20b', 's'.repeat(65), 's'.repeat(1_000), '%E0%A4%A'])
    schedule('bad schedule id', id, { fn: 'tally', every: 1_000 });
  for (const text of BAD_JSON) schedule('bad schedule JSON', 'flood', text);
  for (const action of ['pause', 'resume']) out.push({ kind: 'unknown schedule', method: 'POST', path: `/schedules/no-such/${action}`, headers: auth });
  out.push({ kind: 'unknown schedule', method: 'DELETE', path: '/schedules/no-such', headers: auth });
  out.push({ kind: 'bad token', method: 'GET', path: '/schedules', headers: {} });
  const paths = [
    '/jobz',
    '/job',
    '/api/jobs',
    '/jobs/a/b/c',
    '/invoke/1',
    '/runs',
    '/run',
    '/functions/x',
    '/health/x',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/..%2f..%2fetc',
    '/\u00e9',
    `/${'p'.repeat(4_000)}`,
    '/jobs/x/cancel/y',
    '/openapi.yaml',
    '/.env',
    '/admin',
    '/jobs/bulk/x',
  ];
  for (const path of paths)
    for (const method of ['GET', 'POST', 'PUT', 'DELETE'])
      out.push({ kind: 'unknown path', method, path, headers: json, body: method === 'GET' ? undefined : '{}' });
  for (const method of ['PUT', 'DELETE', 'PATCH', 'POST'])
    for (const path of GET_ROUTES.filter((p) => !p.endsWith('/cancel'))) out.push({ kind: 'wrong method', method, path, headers: json, body: '{}' });
  for (const method of ['POST', 'PUT', 'DELETE']) out.push({ kind: 'wrong method', method, path: '/health', headers: json, body: '{}' });
  return unique(out);
}

function oversized(route: BodyRoute, bytes: number): string {
  const body = validBody(route);
  const pad = 'x'.repeat(bytes);
  return JSON.stringify(route === '/jobs' || route === '/invoke' ? { ...body, input: pad } : { ...body, inputs: [pad] });
}

/** One request per distinct method, path, headers and body. */
function unique(requests: BadRequest[]): BadRequest[] {
  const seen = new Set<string>();
  return requests.filter((r) => {
    const key = JSON.stringify([r.method, r.path, r.headers, r.chunked ?? false, typeof r.body === 'string' ? r.body : r.body?.toString('hex')]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
