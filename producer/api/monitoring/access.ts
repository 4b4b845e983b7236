// Who may do what under /dashboard and /metrics: reading is public unless api.dashboardPublic is
// off; acting on jobs (the full queue board) needs api.token, as a bearer header or a session cookie.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes } from '../../../errors';

/** Browsers cannot add a header to a page load, so a signed-in page carries this cookie instead. */
export const SESSION_COOKIE = 'photons_session';
export const LOGIN_PATH = '/dashboard/login';

export class DashboardAccess {
  private readonly session: Buffer | undefined;
  private readonly bearer: Buffer | undefined;

  /**
   * @param token api.token; empty: no auth at all (the API itself then has none either).
   * @param readPublic api.dashboardPublic: read-only pages and /metrics without the token.
   */
  constructor(
    token: string,
    readonly readPublic: boolean,
  ) {
    if (token) {
      // The cookie holds a value derived from the token, not the token: a copied cookie does not
      // give the bearer token that the job API takes.
      this.session = createHmac('sha256', token).update('photons dashboard session').digest();
      this.bearer = digest(token);
    }
  }

  get tokenRequired(): boolean {
    return this.session !== undefined;
  }

  sessionValue(): string {
    return this.session?.toString('hex') ?? '';
  }

  /** Whether the token matches (for the login form). */
  isToken(candidate: string): boolean {
    return this.bearer === undefined || timingSafeEqual(digest(candidate), this.bearer);
  }

  /** The request carries the token: in an Authorization header or a session cookie. */
  isSignedIn(request: FastifyRequest): boolean {
    if (!this.session || !this.bearer) return true;
    const header = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '');
    if (header) return timingSafeEqual(digest(header[1]!), this.bearer);
    const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (!cookie || !/^[0-9a-f]{64}$/.test(cookie)) return false;
    return timingSafeEqual(Buffer.from(cookie, 'hex'), this.session);
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
   * A page load goes to the login form; anything else gets the API's error body. The answer is
   * sent here rather than thrown: the queue board installs an error handler of its own.
   */
  private async refuse(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const path = request.url.split('?')[0]!;
    if (request.method === 'GET' && (request.headers.accept ?? '').includes('text/html')) {
      await reply.redirect(`${LOGIN_PATH}?next=${encodeURIComponent(path)}`, 303);
      return;
    }
    await reply.code(401).send({
      error: {
        code: ErrorCodes.UNAUTHORIZED,
        message: `${path} needs the API token: send Authorization: Bearer <api.token>, or sign in at ${LOGIN_PATH}.`,
      },
    });
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

function digest(text: string): Buffer {
  return createHmac('sha256', 'photons api token').update(text).digest();
}
