// The HTTP API (`photons api`, a process of its own) flooded with generated malformed and oversized
// requests while good enqueues keep arriving: every bad one must get a 4xx, the process must stay
// up, and every good job must be accepted and complete.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { freePort, startRedisServer } from '../../dispatcher/redis-server';
import { median } from '../report';
import { badRequests, type BadRequest } from './bad-requests';
import { Fleet, until } from './fleet';
import { count, jobIds, readOutcomes, runsKey, settle } from './ledger';
import { scenarioPrefix, type Scenario, type ScenarioResult, type ScenarioSize } from './scenario';

const BODY_LIMIT = 65_536;
const IN_FLIGHT = 16;

interface Answer {
  status: number | undefined;
  /** Transport error when no answer came. */
  error?: string;
  ms: number;
}

export const apiFloodScenario: Scenario = {
  name: 'api-flood',
  mustHold: 'every bad request answered 4xx, the API stays up, good requests served',
  async run({ jobs }: ScenarioSize): Promise<ScenarioResult> {
    const redis = await startRedisServer();
    const prefix = scenarioPrefix('flood');
    const fleet = new Fleet(redis.url, prefix);
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    try {
      const token = randomBytes(16).toString('hex');
      const port = await freePort();
      const api = fleet.spawn('api', { env: { PHOTONS_API_PORT: String(port), PHOTONS_API_TOKEN: token, PHOTONS_API_BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
      await fleet.serving(fleet.spawn('dispatcher'));
      const base = `http://127.0.0.1:${port}`;
      await until(
        'the API to answer /health',
        async () => {
          if (!api.alive()) throw new Error(`photons api exited:\n${api.output().slice(-2_000)}`);
          return (await send(agent, base, { kind: 'health', method: 'GET', path: '/health', headers: {} })).status === 200;
        },
        30_000,
        200,
      );

      const bad = badRequests(token, BODY_LIMIT);
      const ids = jobIds('flood', jobs);
      const good = (k: number): BadRequest => ({
        kind: 'good',
        method: 'POST',
        path: '/jobs',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ fn: 'tally', input: { i: k, ms: 5, url: redis.url, key: runsKey(prefix) }, options: { jobId: ids[k] } }),
      });
      // Bad and good requests interleaved evenly, so the good ones arrive throughout the flood.
      const schedule: Array<{ req: BadRequest; good: boolean }> = [];
      for (let g = 0, b = 0; g < jobs || b < bad.length;) {
        if (b < bad.length && (g >= jobs || b / bad.length <= g / jobs)) schedule.push({ req: bad[b++]!, good: false });
        else schedule.push({ req: good(g++), good: true });
      }
      const answers = new Array<Answer>(schedule.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < schedule.length) {
            const slot = next++;
            answers[slot] = await send(agent, base, schedule[slot]!.req);
          }
        }),
      );

      const badAnswers = schedule.flatMap((s, k) => (s.good ? [] : [{ kind: s.req.kind, req: s.req, answer: answers[k]! }]));
      const goodAnswers = schedule.flatMap((s, k) => (s.good ? [answers[k]!] : []));
      const not4xx = badAnswers.filter(({ answer }) => answer.status === undefined || answer.status < 400 || answer.status >= 500);
      const accepted = ids.filter((_, k) => goodAnswers[k]!.status === 202);
      const alive = api.alive() && (await send(agent, base, { kind: 'health', method: 'GET', path: '/health', headers: {} })).status === 200;

      await settle(fleet.redis, prefix, 'tally', accepted.length);
      const counts = count(await readOutcomes(fleet.redis, prefix, 'tally', ids), ids);
      const statuses = new Map<string, number>();
      for (const { answer } of badAnswers) {
        const key = answer.status === undefined ? `no answer (${answer.error})` : String(answer.status);
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
      const latencies = goodAnswers.map((a) => a.ms);
      return {
        scenario: 'api-flood',
        ...counts,
        recoveryMs: undefined,
        holds: not4xx.length === 0 && alive && accepted.length === jobs && counts.lost === 0,
        notes: [
          `${bad.length} kinds of bad request over ${new Set(bad.map((b) => b.kind)).size} categories, answered ${[...statuses].map(([s, n]) => `${s}×${n}`).join(' ')}`,
          ...not4xx.slice(0, 5).map(({ req, answer }) => `NOT 4xx: ${req.kind} ${req.method} ${req.path.slice(0, 60)} → ${answer.status ?? answer.error}`),
          `API process ${alive ? 'still up' : 'DOWN'}; good enqueues accepted ${accepted.length}/${jobs}, latency median ${median(latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(0)} ms`,
        ],
        detail: { badRequests: bad.length, not4xx: not4xx.length, statuses: Object.fromEntries(statuses), apiAlive: alive, goodAccepted: accepted.length },
      };
    } finally {
      agent.destroy();
      await fleet.stop();
      await redis.stop();
    }
  },
};

/** One request over node:http, so that a refused upload still yields the status the server sent. */
function send(agent: Agent, base: string, req: BadRequest): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: Omit<Answer, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...answer, ms: performance.now() - started });
    };
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined && !req.chunked) headers['content-length'] = Buffer.byteLength(req.body);
    let responded = false;
    const outgoing = request(`${base}${req.path}`, { method: req.method, headers, agent, timeout: 30_000 }, (res) => {
      responded = true;
      res.resume();
      res.on('end', () => done({ status: res.statusCode }));
      res.on('error', () => done({ status: res.statusCode }));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error('timeout')));
    // An upload over the body limit must still be answered 413 (the API lingers), never cut off.
    outgoing.on('error', (err: NodeJS.ErrnoException) => done({ status: undefined, error: err.code ?? err.message }));
    if (req.body === undefined) {
      outgoing.end();
    } else if (!req.chunked) {
      outgoing.end(req.body);
    } else {
      // Chunk by chunk, yielding between chunks, so an early answer is read before more is written.
      const body = req.body;
      void (async () => {
        for (let at = 0; at < body.length && !responded && !outgoing.destroyed; at += 16_384) {
          outgoing.write(body.slice(at, at + 16_384));
          await new Promise((next) => setImmediate(next));
        }
        if (!outgoing.destroyed) outgoing.end();
      })();
    }
  });
}
