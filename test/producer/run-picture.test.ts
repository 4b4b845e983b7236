// The picture of a run: bars with failures marked for a small run, a density for thousands of
// jobs, a histogram; served over HTTP (token, 404 and 400 on bad run ids) beside POST /runs with a reduce.
import { strict as assert } from 'node:assert';
import type { FastifyInstance } from 'fastify';
import { ErrorCodes } from '../../errors';
import { buildApi } from '../../producer/api/server';
import { MAX_BARS, timelineSvg } from '../../producer/timeline-svg';
import { assertWellFormedXml } from '../xml';
import { range, startStack, type Stack } from './helpers';

const TOKEN = 'picture-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const count = (svg: string, pattern: RegExp): number => svg.match(new RegExp(pattern.source, 'g'))?.length ?? 0;

describe('the picture of a run', function () {
  this.timeout(120_000);
  let stack: Stack;
  let app: FastifyInstance;
  before(async () => {
    stack = await startStack();
    app = await buildApi({ client: stack.client, token: TOKEN });
  });
  after(async () => {
    await app?.close();
    await stack?.stop();
  });

  it('draws a bar per item of a small run, each failure marked, and a histogram', async () => {
    const run = await stack.client.map(
      'echo',
      range(12).map((n) => (n % 4 === 1 ? { n, fail: true } : { n, ms: n })),
    );
    await run.finished();
    const svg = timelineSvg(await stack.client.runTimeline(run.id));
    assert.equal(assertWellFormedXml(svg), 'svg');
    assert.match(svg, /data-mode="bars"/);
    assert.equal(count(svg, /<rect class="run[ "]/), 12, 'one execution bar per item');
    assert.equal(count(svg, /<rect class="wait"/), 12, 'one wait bar per item');
    assert.equal(count(svg, /<rect class="run failed"/), 3);
    assert.equal(count(svg, /<circle class="failure"/), 3, 'each failed item marked');
    assert.equal(count(svg, /<rect class="bin"/), 30);
    const binned = [...svg.matchAll(/class="bin" data-count="(\d+)"/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    assert.equal(binned, 12, 'the histogram counts every item');
  });

  it('draws a chunk as one bar', async () => {
    const run = await stack.client.map(
      'echo',
      range(1_000).map((n) => ({ n })),
      { chunkSize: 50 },
    );
    await run.finished();
    const svg = timelineSvg(await stack.client.runTimeline(run.id));
    assertWellFormedXml(svg);
    assert.equal(count(svg, /<rect class="run[ "]/), 20);
    assert.match(svg, /20 chunks of 50 items/);
  });

  it(`draws a density past ${MAX_BARS} jobs, failures marked below it`, async () => {
    const N = MAX_BARS + 200;
    const run = await stack.client.map(
      'echo',
      range(N).map((n) => (n % 100 === 3 ? { n, fail: true } : { n })),
    );
    await run.finished();
    const timeline = await stack.client.runTimeline(run.id);
    assert.equal(timeline.bars.length, N);
    const svg = timelineSvg(timeline);
    assertWellFormedXml(svg);
    assert.match(svg, /data-mode="density"/);
    assert.equal(count(svg, /<rect class="run[ "]/), 0, 'no bars');
    assert.equal(count(svg, /<path class="density waiting"/), 1);
    assert.equal(count(svg, /<path class="density running"/), 1);
    const marked = [...svg.matchAll(/<rect class="failure"[^>]*><title>(\d+) failed<\/title>/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    assert.equal(marked, N / 100, 'every failure counted in the marks');
  });

  it('serves GET /runs/{id}/timeline.svg with the token; 404 for an unknown run, 400 for a bad id, 401 without the token', async () => {
    const run = await stack.client.map('echo', [{ n: 1 }, { n: 2 }]);
    await run.finished();
    const ok = await app.inject({ method: 'GET', url: `/runs/${run.id}/timeline.svg`, headers: auth });
    assert.equal(ok.statusCode, 200);
    assert.match(String(ok.headers['content-type']), /^image\/svg\+xml/);
    assert.equal(count(ok.body, /<rect class="run[ "]/), 2);
    assertWellFormedXml(ok.body);
    const unknown = await app.inject({ method: 'GET', url: '/runs/no-such-run/timeline.svg', headers: auth });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, ErrorCodes.RUN_NOT_FOUND);
    const bad = await app.inject({ method: 'GET', url: '/runs/a%20b/timeline.svg', headers: auth });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, ErrorCodes.INVALID_OPTION);
    const anonymous = await app.inject({ method: 'GET', url: `/runs/${run.id}/timeline.svg` });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.json().error.code, ErrorCodes.UNAUTHORIZED);
  });

  it('POST /runs with a reduce answers the reduce job id, whose result is the sum; a bad reduce is a 4xx with a code', async () => {
    const started = await app.inject({
      method: 'POST',
      url: '/runs',
      headers: auth,
      payload: { fn: 'echo', inputs: range(100).map((n) => ({ n })), reduce: 'sum', chunkSize: 10 },
    });
    assert.equal(started.statusCode, 202, started.body);
    const { runId, reduce, reduceJobId } = started.json() as { runId: string; reduce: string; reduceJobId: string };
    assert.deepEqual([reduce, reduceJobId], ['sum', `${runId}.reduce`]);
    let job = await app.inject({ method: 'GET', url: `/jobs/${reduceJobId}?fn=sum`, headers: auth });
    for (let i = 0; i < 200 && job.json().state !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await app.inject({ method: 'GET', url: `/jobs/${reduceJobId}?fn=sum`, headers: auth });
    }
    assert.equal(job.json().value.sum, 4950);
    const progress = await app.inject({ method: 'GET', url: `/runs/${runId}`, headers: auth });
    assert.equal(progress.json().reduceJobId, reduceJobId);
    const bad = async (body: object, status: number, code: string): Promise<void> => {
      const answer = await app.inject({ method: 'POST', url: '/runs', headers: auth, payload: body });
      assert.equal(answer.statusCode, status, answer.body);
      assert.equal(answer.json().error.code, code);
    };
    await bad({ fn: 'echo', inputs: [1], reduce: 12 }, 400, ErrorCodes.BAD_REQUEST);
    await bad({ fn: 'echo', inputs: [1], reduce: '' }, 400, ErrorCodes.BAD_REQUEST);
    await bad({ fn: 'echo', inputs: [1], reduce: 'a/b' }, 400, ErrorCodes.INVALID_FUNCTION_NAME);
    await bad({ fn: 'echo', inputs: [1], reduce: 'nope' }, 404, ErrorCodes.UNKNOWN_FUNCTION);
    const doc = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.ok(doc.json().paths['/runs/{runId}/timeline.svg'], 'the picture is in the OpenAPI document');
    assert.ok(doc.json().paths['/runs'].post.requestBody.content['application/json'].schema.properties.reduce, 'POST /runs documents reduce');
  });
});
