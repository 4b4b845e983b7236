// The REST workload takes its URL from job input: it must not reach the cloud metadata service,
// the host's loopback or private networks, by address, by name or through a redirect, unless the
// operator allows them (PHOTONS_REST_ALLOW_PRIVATE, read from the dispatcher's environment).
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runLocal } from '../../dispatcher/local-run';
import { errorOf, functionFile, valueOf } from './helpers';

const REST = functionFile('rest');

describe('functions/rest: private addresses', () => {
  let server: Server;
  let port: number;
  let hits: string[];

  before(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      const to = /^\/redirect\?to=(.*)$/.exec(req.url ?? '');
      if (to) {
        res.writeHead(302, { location: decodeURIComponent(to[1]!) });
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify([{ n: 1 }, { n: 2 }]));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  beforeEach(() => {
    hits = [];
    delete process.env.PHOTONS_REST_ALLOW_PRIVATE;
  });

  after(async () => {
    delete process.env.PHOTONS_REST_ALLOW_PRIVATE;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('refuses the metadata address, loopback by address and by name (localhost), without retrying', async () => {
    const inputs = [
      { url: 'http://169.254.169.254/latest/meta-data/' },
      { url: `http://127.0.0.1:${port}/items` },
      { url: `http://localhost:${port}/items` },
      { url: `http://[::ffff:127.0.0.1]:${port}/items` },
      { url: `http://[::1]:${port}/items` },
    ];
    const outcomes = await runLocal(REST, inputs, { concurrency: inputs.length });
    for (const outcome of outcomes) {
      const error = errorOf(outcome);
      assert.equal(error.name, 'UnrecoverableError', error.message);
      assert.match(error.message, /private, loopback or link-local address, which is refused; the operator may allow them with PHOTONS_REST_ALLOW_PRIVATE=1/);
    }
    assert.match(errorOf(outcomes[0]).message, /leads to 169\.254\.169\.254/);
    assert.match(errorOf(outcomes[2]).message, /\(localhost\)/);
    assert.deepEqual(hits, [], 'no request reached the loopback server');
  });

  it('serves loopback when the operator allows private addresses', async () => {
    process.env.PHOTONS_REST_ALLOW_PRIVATE = '1';
    const [outcome] = await runLocal(REST, [{ url: `http://localhost:${port}/items` }]);
    assert.equal(valueOf<{ count: number }>(outcome).count, 2);
  });

  it('follows a redirect only to an allowed address', async () => {
    // Only 127.0.0.1 is allowed: the server itself, not the metadata service nor 127.0.0.2.
    process.env.PHOTONS_REST_ALLOW_PRIVATE = '127.0.0.1';
    const redirect = (to: string) => ({ url: `http://127.0.0.1:${port}/redirect?to=${encodeURIComponent(to)}` });
    const outcomes = await runLocal(
      REST,
      [redirect(`http://127.0.0.1:${port}/items`), redirect('http://169.254.169.254/latest/meta-data/'), redirect(`http://127.0.0.2:${port}/items`)],
      { concurrency: 1 },
    );
    assert.equal(valueOf<{ count: number }>(outcomes[0]).count, 2);
    assert.match(errorOf(outcomes[1]).message, /leads to 169\.254\.169\.254, a private/);
    assert.match(errorOf(outcomes[2]).message, /leads to 127\.0\.0\.2, a private/);
    assert.deepEqual(
      hits.filter((h) => h === '/items'),
      ['/items'],
      'only the allowed hop was fetched',
    );
  });
});
