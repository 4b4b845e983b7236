// The REST workload against a JSON server on 127.0.0.1: records are found, reduced to the asked
// fields and summarised, per job; HTTP and JSON failures come back as clear errors.
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runLocal } from '../../dispatcher/local-run';
import { errorOf, functionFile, valueOf } from './helpers';

const REST = functionFile('rest');

interface RestOutput {
  status: number;
  count: number;
  stats: Record<string, { count: number; sum: number; min: number; max: number; mean: number }>;
  items: Array<Record<string, unknown>>;
}

const PRODUCTS = [
  { id: 1, name: 'lamp', price: 20, qty: 3, tags: ['home'] },
  { id: 2, name: 'desk', price: 150.5, qty: 1 },
  { id: 3, name: 'chair', price: 45, qty: 4, discontinued: true },
  { id: 4, name: 'rug', price: 'n/a', qty: 2 },
];

/** The records /users/:n serves: n users whose ages depend on n, so each job's answer differs. */
function users(n: number): Array<{ name: string; age: number }> {
  return Array.from({ length: n }, (_, i) => ({ name: `user${n}-${i}`, age: 20 + n + i }));
}

describe('functions/rest', () => {
  let server: Server;
  let base: string;

  before(async () => {
    // The JSON server is on loopback, which the workload refuses unless the operator allows it;
    // the runtimes copy the environment when they start.
    process.env.PHOTONS_REST_ALLOW_PRIVATE = '1';
    server = createServer((req, res) => {
      const url = req.url ?? '/';
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const user = /^\/users\/(\d+)$/.exec(url);
      if (url === '/products') json(200, PRODUCTS);
      else if (url === '/wrapped') json(200, { meta: { page: 1 }, data: { products: PRODUCTS } });
      else if (url === '/one-array') json(200, { total: 4, results: PRODUCTS });
      else if (user) json(200, users(Number(user[1])));
      else if (url === '/broken') json(503, { error: 'down' });
      else if (url === '/html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>maintenance</html>');
      } else if (url === '/hang') {
        // Never answers: the job's timeout must abort the request.
      } else json(404, { error: 'not found' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    delete process.env.PHOTONS_REST_ALLOW_PRIVATE;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('summarises the numeric fields and returns the records, by default the first 10 in full', async () => {
    const [outcome] = await runLocal(REST, [{ url: `${base}/products` }]);
    assert.deepEqual(valueOf<RestOutput>(outcome), {
      status: 200,
      count: 4,
      stats: {
        id: { count: 4, sum: 10, min: 1, max: 4, mean: 2.5 },
        price: { count: 3, sum: 215.5, min: 20, max: 150.5, mean: 215.5 / 3 },
        qty: { count: 4, sum: 10, min: 1, max: 4, mean: 2.5 },
      },
      items: PRODUCTS,
    });
  });

  it('picks fields, limits items and follows itemsPath or the one array of an object', async () => {
    const outcomes = await runLocal(
      REST,
      [
        { url: `${base}/wrapped`, itemsPath: 'data.products', fields: ['name', 'price', 'colour'], limit: 2 },
        { url: `${base}/one-array`, fields: ['id'], limit: 0 },
      ],
      { concurrency: 2 },
    );
    const wrapped = valueOf<RestOutput>(outcomes[0]);
    assert.equal(wrapped.count, 4);
    assert.deepEqual(wrapped.items, [
      { name: 'lamp', price: 20 },
      { name: 'desk', price: 150.5 },
    ]);
    const oneArray = valueOf<RestOutput>(outcomes[1]);
    assert.equal(oneArray.count, 4);
    assert.deepEqual(oneArray.items, []);
    assert.deepEqual(oneArray.stats.qty, { count: 4, sum: 10, min: 1, max: 4, mean: 2.5 });
  });

  it('gives each of 8 concurrent jobs the summary of its own answer', async () => {
    const inputs = Array.from({ length: 8 }, (_, i) => ({ url: `${base}/users/${i + 1}`, fields: ['name'], limit: 1 }));
    const outcomes = await runLocal(REST, inputs, { concurrency: 8 });
    outcomes.forEach((outcome, i) => {
      const n = i + 1;
      const ages = users(n).map((u) => u.age);
      const sum = ages.reduce((a, b) => a + b, 0);
      assert.deepEqual(valueOf<RestOutput>(outcome), {
        status: 200,
        count: n,
        stats: { age: { count: n, sum, min: Math.min(...ages), max: Math.max(...ages), mean: sum / n } },
        items: [{ name: `user${n}-0` }],
      });
    });
  });

  it('fails on HTTP errors, non-JSON answers, missing arrays and bad input, with clear messages', async () => {
    const inputs: unknown[] = [
      { url: `${base}/missing` },
      { url: `${base}/broken` },
      { url: `${base}/html` },
      { url: `${base}/wrapped`, itemsPath: 'data.nothing' },
      { url: `${base}/wrapped` },
      { url: 'ftp://127.0.0.1/x' },
      { url: 'not a url' },
      {},
      { url: `${base}/products`, limit: -1 },
      { url: `${base}/products`, fields: 'name' },
    ];
    const outcomes = await runLocal(REST, inputs, { concurrency: inputs.length });
    const errors = outcomes.map((o) => errorOf(o));
    assert.deepEqual(
      errors.map((e) => [e.name, e.message]),
      [
        ['UnrecoverableError', `rest: GET ${base}/missing answered 404 Not Found`],
        // A 503 may pass: it stays retryable.
        ['Error', `rest: GET ${base}/broken answered 503 Service Unavailable`],
        ['Error', `rest: GET ${base}/html answered a body that is not JSON (starts with "<html>maintenance</html>")`],
        ['UnrecoverableError', `rest: ${base}/wrapped answered JSON with no array at "data.nothing"`],
        ['UnrecoverableError', `rest: ${base}/wrapped answered JSON that is not an array nor an object with exactly one array; give input.itemsPath`],
        ['UnrecoverableError', 'rest: input.url must use http or https, got "ftp:"'],
        ['UnrecoverableError', 'rest: input.url is not a valid URL: "not a url"'],
        ['UnrecoverableError', 'rest: input.url must be a string (an http or https URL)'],
        ['UnrecoverableError', 'rest: input.limit must be an integer from 0 to 1000, got -1'],
        ['UnrecoverableError', 'rest: input.fields must be an array of field names (strings)'],
      ],
    );
  });

  it('aborts the request when the job times out', async () => {
    const [outcome] = await runLocal(REST, [{ url: `${base}/hang` }], { timeoutMs: 200 });
    assert.equal(errorOf(outcome).code, 'PHOTONS_ERR_TIMEOUT');
  });
});
