// A small service that enqueues over HTTP: POST /thumbnails {"seed": 1} answers 202 with a job id
// at once, GET /thumbnails/<id> tells whether the work is done. It talks to the Photons HTTP API
// (`photons api`, or `photons start`), so it needs no Redis client of its own.
//   PHOTONS_API_URL=http://127.0.0.1:8321 node build/examples/enqueue-service.js
import { createServer, type IncomingMessage } from 'node:http';

const API = process.env.PHOTONS_API_URL ?? 'http://127.0.0.1:8321';
const TOKEN = process.env.PHOTONS_API_TOKEN;
const PORT = Number(process.env.PORT ?? 8080);

async function photons(method: string, route: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${API}${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...(TOKEN ? { authorization: `Bearer ${TOKEN}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text ? (JSON.parse(text) as unknown) : null;
}

const server = createServer((request, response) => {
  const reply = (status: number, json: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
  };
  void (async () => {
    if (request.method === 'POST' && request.url === '/thumbnails') {
      // The Photons API checks the function and the input and answers 4xx with a code if they are wrong.
      const answer = await photons('POST', '/jobs', { fn: 'hash', input: await readBody(request) });
      return reply(answer.status, answer.json);
    }
    const match = /^\/thumbnails\/([\w.-]+)$/.exec(request.url ?? '');
    if (request.method === 'GET' && match) {
      const answer = await photons('GET', `/jobs/${match[1]}?fn=hash`);
      return reply(answer.status, answer.json);
    }
    reply(404, { error: 'try POST /thumbnails or GET /thumbnails/<id>' });
  })().catch((err: unknown) => reply(502, { error: String(err) }));
});

server.listen(PORT, () => console.log(`enqueue service on http://127.0.0.1:${PORT}, sending jobs to ${API}`));
process.once('SIGTERM', () => server.close());
process.once('SIGINT', () => server.close());
