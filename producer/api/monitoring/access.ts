// Who may do what under /dashboard and /metrics. With api.token set, everything needs it (a bearer
// header, or a session cookie from the sign-in form) unless api.dashboardPublic reopens the reading;
// acting on jobs (the admin queue board) always needs it. Without a token there is no auth at all
// (the API then only answers loopback Host names, see host-check.ts).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, type ErrorCode } from '../../../errors';
import { SessionStore } from './sessions';

/** Browsers cannot add a header to a page load, so a signed-in page carries this cookie instead. */
export const SESSION_COOKIE = 'photons_session';
export const LOGIN_PATH = '/dashboard/login';

export class DashboardAccess {
  private readonly bearer: Buffer | undefined;
  private readonly sessions: SessionStore;

  /**
   * @param token api.token; empty: no auth at all (the API itself then has none either).
   * @param readPublic api.dashboardPublic: read-only pages and /metrics without the token.
   * @param sessionTtlMs api.sessionTtlSec in ms: how long a sign-in lasts.
   */
  constructor(
    token: string,
    readonly readPublic: boolean,
    sessionTtlMs: number,
  ) {
    if (token) this.bearer = digest(token);
    this.sessions = new SessionStore(sessionTtlMs);
  }

  get tokenRequired(): boolean {
    return this.bearer !== undefined;
  }

  /** Whether the token matches (for the login form). */
  isToken(candidate: string): boolean {
    return this.bearer === undefined || timingSafeEqual(digest(candidate), this.bearer);
  }

  /** A new session: its cookie, random, held here until it expires or its owner signs out. */
  signIn(request: FastifyRequest): string {
    const id = randomBytes(32).toString('hex');
    this.sessions.add(sessionKey(id));
    return `${SESSION_COOKIE}=${id}; ${this.cookieAttributes(request)}; Max-Age=${Math.floor(this.sessions.ttlMs / 1000)}`;
  }

  /** Ends the request's session, if any; answers the cookie that clears it in the browser. */
  signOut(request: FastifyRequest): string {
    const id = sessionId(request);
    if (id) this.sessions.delete(sessionKey(id));
    return `${SESSION_COOKIE}=; ${this.cookieAttributes(request)}; Max-Age=0`;
  }

  /** The request carries the token: in an Authorization header or a live session's cookie. */
  isSignedIn(request: FastifyRequest): boolean {
    if (!this.bearer) return true;
    if (this.hasBearer(request)) return true;
    const id = sessionId(request);
    return id !== undefined && this.sessions.has(sessionKey(id));
  }

  /** onRequest hook of the pages and data anyone may read when api.dashboardPublic is on. */
  readable = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (this.readPublic || this.isSignedIn(request)) return;
    return this.refuse(request, reply);
  };

  /** onRequest hook of everything that acts on jobs. */
  actionable = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (this.isSignedIn(request)) return;
    return this.refuse(request, reply);
  };

  /**
   * onRequest hook of the routes that change state (sign-in, sign-out, the admin board's actions):
   * a browser request must come from a page of this server. SameSite=Strict keeps the cookie off
   * other sites' requests, but the sign-in form needs no cookie, and a site on a sibling subdomain
   * counts as same-site. A bearer header is never added by a browser on its own: such a request
   * is a script's, not a forged one.
   */
  sameOrigin = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    if (this.bearer && this.hasBearer(request)) return;
    const from = request.headers.origin ?? request.headers.referer;
    if (from && from !== 'null' && hostOf(from) === (request.headers.host ?? '').toLowerCase()) return;
    await sendError(
      reply,
      403,
      ErrorCodes.CROSS_SITE,
      `${request.method} ${request.url.split('?')[0]} must come from a page of this server (its Origin or Referer header names ${from ? `"${from}"` : 'no page'}): use the dashboard itself, or send Authorization: Bearer <api.token> from a script.`,
    );
  };

  private hasBearer(request: FastifyRequest): boolean {
    const header = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '');
    return header !== null && this.bearer !== undefined && timingSafeEqual(digest(header[1]!), this.bearer);
  }

  /** Path=/: the boards and the page share it. Secure when the browser came over https. */
  private cookieAttributes(request: FastifyRequest): string {
    return `Path=/; HttpOnly; SameSite=Strict${request.protocol === 'https' ? '; Secure' : ''}`;
  }

  /**
   * A page load goes to the login form; anything else gets the API's error body. The answer is
   * sent here rather than thrown: the queue board installs an error handler of its own.
   */
  private async refuse(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const path = request.url.split('?')[0]!;
    if (request.method === 'GET' && (request.headers.accept ?? '').includes('text/html')) {
      await reply.redirect(`${LOGIN_PATH}?next=${encodeURIComponent(path)}`, 303);
      return;
    }
    await sendError(reply, 401, ErrorCodes.UNAUTHORIZED, `${path} needs the API token: send Authorization: Bearer <api.token>, or sign in at ${LOGIN_PATH}.`);
  }
}

export async function sendError(reply: FastifyReply, status: number, code: ErrorCode, message: string): Promise<void> {
  await reply.code(status).send({ error: { code, message } });
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

function sessionId(request: FastifyRequest): string | undefined {
  const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
  return cookie && /^[0-9a-f]{64}$/.test(cookie) ? cookie : undefined;
}

/** Sessions are kept by a hash of their id: looking one up takes no time that depends on a guess. */
function sessionKey(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
}

function digest(text: string): Buffer {
  return createHmac('sha256', 'photons api token').update(text).digest();
}
