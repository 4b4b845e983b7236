// DNS rebinding: a page of attacker.example whose name is made to resolve to 127.0.0.1 reaches a
// loopback API as if it were its own site, and can read what it answers. Browsers keep the name
// they used in the Host header, so an API without a token answers only the names it is known by.
// With a token this is not needed: such a page cannot know the token, and the browser does not
// send it the dashboard's cookie (set for this server's name, not the attacker's) - except the
// pages api.dashboardPublic opens, which the check keeps covering.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCodes } from '../../errors';
import { isMonitoringPath } from './monitoring';

/** Loopback names: the rebinding attack always carries another name, so any port is fine. */
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

export interface HostCheckOptions {
  /** api.token: with one, only the public dashboard paths are checked. */
  token?: string;
  /** api.dashboardPublic. */
  dashboardPublic?: boolean;
  /** api.allowedHosts: comma list of `name` (any port) or `name:port`; empty: the loopback names. */
  allowedHosts?: string;
}

export function hostCheck(app: FastifyInstance, options: HostCheckOptions): void {
  const { token, dashboardPublic = false } = options;
  if (token && !dashboardPublic) return;
  const allowed = parseAllowedHosts(options.allowedHosts ?? '');
  app.addHook('onRequest', async (request, reply) => {
    if (token && !isMonitoringPath(request.url)) return;
    if (hostAllowed(request, allowed)) return;
    await reply.code(403).send({
      error: {
        code: ErrorCodes.HOST_NOT_ALLOWED,
        message: `This API does not answer the host name "${request.headers.host ?? ''}": reach it as ${allowed.map((h) => (h.port ? `${h.name}:${h.port}` : h.name)).join(', ')}, add the name to api.allowedHosts (PHOTONS_API_ALLOWED_HOSTS), or set api.token.`,
      },
    });
  });
}

interface AllowedHost {
  name: string;
  port?: string;
}

export function parseAllowedHosts(list: string): AllowedHost[] {
  const entries = list
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  return (entries.length > 0 ? entries : LOOPBACK_HOSTS).map((entry) => {
    const { name, port } = splitHost(entry);
    return port ? { name, port } : { name };
  });
}

function hostAllowed(request: FastifyRequest, allowed: AllowedHost[]): boolean {
  const { name, port } = splitHost((request.headers.host ?? '').toLowerCase());
  return allowed.some((h) => h.name === name && (h.port === undefined || h.port === port));
}

/** `name[:port]`, where name may be a bracketed IPv6 address. */
function splitHost(host: string): { name: string; port?: string } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  return match ? { name: match[1]!, port: match[2] } : { name: host };
}
