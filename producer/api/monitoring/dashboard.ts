// The Photons page: a static page and its script (public/, no build step, nothing fetched from
// elsewhere) that polls GET /dashboard/api/fleet and draws runtimes, photons, heap and history;
// plus the sign-in form that sets the session cookie the full queue board takes.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ErrorCodes } from '../../../errors';
import { foldIdle } from '../../../monitoring/fleet-activity';
import { LOGIN_PATH, sendError, type DashboardAccess } from './access';
import { FULL_BOARD, READ_ONLY_BOARD } from './bull-board';
import type { FleetReader } from './fleet-reader';
import { AttemptLimiter, SIGN_IN_ATTEMPTS } from './sessions';

/** Polls of one second from every open page share a reading this old at most. */
const FLEET_MAX_AGE_MS = 500;
const ASSETS: Record<string, string> = {
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

export function dashboardRoutes(app: FastifyInstance, fleet: FleetReader, access: DashboardAccess): void {
  const files = new Map([...Object.keys(ASSETS), 'index.html', 'login.html'].map((name) => [name, readFileSync(path.join(publicDir(), name), 'utf8')]));
  const hide = { hide: true };

  app.get('/dashboard', { schema: hide, onRequest: access.readable }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(files.get('index.html')),
  );
  app.get<{ Params: { file: string } }>('/dashboard/assets/:file', { schema: hide }, async (request, reply) => {
    const type = ASSETS[request.params.file];
    if (!type) return reply.callNotFound();
    return reply.type(type).header('cache-control', 'no-cache').send(files.get(request.params.file));
  });
  // Idle functions come folded into their names unless ?all=1: a page polling every second and a half
  // needs the busy few of a thousand functions, not every one of them (ARCHITECTURE.md, "Monitoring at scale").
  const fleetSchema = { ...hide, querystring: { type: 'object', properties: { all: { type: 'string', enum: ['0', '1', 'false', 'true'] } } } };
  app.get<{ Querystring: { all?: string } }>('/dashboard/api/fleet', { schema: fleetSchema, onRequest: access.readable }, async (request) => {
    const reading = await fleet.read(FLEET_MAX_AGE_MS);
    const { shown, folded } = foldIdle(reading.functions, request.query.all === '1' || request.query.all === 'true');
    return {
      ...reading,
      ...(await fleet.sections(FLEET_MAX_AGE_MS)),
      functions: shown,
      folded,
      access: { tokenRequired: access.tokenRequired, signedIn: access.isSignedIn(request) },
      boards: { readOnly: READ_ONLY_BOARD, full: FULL_BOARD },
    };
  });

  app.get(LOGIN_PATH, { schema: hide }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(files.get('login.html')));
  const attempts = new AttemptLimiter();
  // The form posts urlencoded; only here, so the JSON API keeps refusing other bodies.
  app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });
    scope.addHook('onRequest', access.sameOrigin);
    scope.post<{ Body: { token?: string; next?: string }; Querystring: { next?: string } }>(LOGIN_PATH, { schema: hide }, async (request, reply) => {
      const waitMs = attempts.take(request.ip);
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        void reply.header('retry-after', String(seconds));
        return sendError(
          reply,
          429,
          ErrorCodes.TOO_MANY_SIGN_INS,
          `Too many sign-in attempts from ${request.ip} (${SIGN_IN_ATTEMPTS} a minute): try again in ${seconds} s.`,
        );
      }
      const token = typeof request.body?.token === 'string' ? request.body.token : '';
      const next = safeNext(request.body?.next ?? request.query.next);
      if (!access.isToken(token)) return reply.redirect(`${LOGIN_PATH}?failed=1&next=${encodeURIComponent(next)}`, 303);
      return reply.header('set-cookie', access.signIn(request)).redirect(next, 303);
    });
    scope.post('/dashboard/logout', { schema: hide }, async (request, reply) =>
      reply.header('set-cookie', access.signOut(request)).redirect('/dashboard', 303),
    );
  });
}

/** Only a path of ours: a login link must not send the browser to another site afterwards. */
function safeNext(next: string | undefined): string {
  return next && /^\/dashboard(\/[\w\-./]*)?$/.test(next) && !next.includes('//') ? next : FULL_BOARD;
}

/**
 * public/ beside the compiled module: `npm run build` copies it into dist/ (tsc copies no HTML), so
 * it ships in the package; the test build (build/) reads it beside the source.
 */
function publicDir(): string {
  const beside = path.join(__dirname, 'public');
  try {
    readFileSync(path.join(beside, 'index.html'));
    return beside;
  } catch {
    return path.resolve(__dirname, '../../../../producer/api/monitoring/public');
  }
}
