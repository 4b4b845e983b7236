// The queues through bull-board: job lists, states, job data, retry and clean. One BullMQ queue per
// function of the fleet, added as new functions appear; a read-only board for anyone who may read,
// and a full board, with actions, for requests carrying the API token.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import type { FastifyInstance, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import type { PhotonsError } from '../../../errors';
import type { DashboardAccess } from './access';
import type { FleetReader } from './fleet-reader';
import { queueName } from '../../../contract/keys';
import type { RedisClient } from '../../../contract/redis';
import { assertCustomJobId, customJobIdProblem } from '../../job-id';

export const READ_ONLY_BOARD = '/dashboard/queues';
export const FULL_BOARD = '/dashboard/admin/queues';
/** How stale the list of functions may be when a board page or its API is asked. */
const QUEUE_LIST_MAX_AGE_MS = 2_000;
/**
 * bull-board's page links Google Fonts; this policy keeps the browser from fetching anything but
 * this server (the machine may have no network, and the board needs nothing from elsewhere).
 */
const BOARD_CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'";

type Board = ReturnType<typeof createBullBoard>;

export interface QueueBoardOptions {
  redis: RedisClient;
  prefix: string;
  fleet: FleetReader;
  access: DashboardAccess;
}

/** Mounts both boards; the answer closes their queues (the caller then closes the connection). */
export async function queueBoards(app: FastifyInstance, options: QueueBoardOptions): Promise<() => Promise<void>> {
  const { redis, prefix, fleet, access } = options;
  const queues = new Map<string, Queue>();
  const boards: Array<{ board: Board; readOnlyMode: boolean }> = [];

  // Asked on each board request rather than on a timer: nothing to stop, and a function deployed
  // a moment ago shows up on the next page load or poll of the board.
  async function addNewFunctions(): Promise<void> {
    const { functions } = await fleet.read(QUEUE_LIST_MAX_AGE_MS);
    for (const { fn } of functions) {
      if (queues.has(fn)) continue;
      const queue = new Queue(queueName(fn, redis.isCluster), { connection: redis, prefix });
      queues.set(fn, queue);
      for (const { board, readOnlyMode } of boards) {
        const description = readOnlyMode ? `Jobs of the function "${fn}" (read-only).` : `Jobs of the function "${fn}".`;
        board.addQueue(new BullMQAdapter(queue, { readOnlyMode, allowRetries: !readOnlyMode, description, displayName: fn }));
      }
    }
  }
  boards.push({ board: await mountBoard(app, READ_ONLY_BOARD, true, [access.readable, addNewFunctions]), readOnlyMode: true });
  // The admin board's actions change state: from this server's pages or a bearer-token script only.
  boards.push({ board: await mountBoard(app, FULL_BOARD, false, [access.actionable, access.sameOrigin, addNewFunctions]), readOnlyMode: false });
  return async () => {
    await Promise.all([...queues.values()].map((q) => q.close()));
  };
}

/**
 * The full board adds jobs (its "Add job" and "Duplicate" buttons) with the BullMQ options the
 * caller sends, a jobId among them: held to the rule every other enqueue path follows.
 */
const refuseReservedJobIds: preHandlerAsyncHookHandler = async (request, reply) => {
  if (request.method !== 'POST' || !request.routeOptions.url?.endsWith('/api/queues/:queueName/add')) return;
  const jobId = (request.body as { options?: { jobId?: unknown } } | undefined)?.options?.jobId;
  if (jobId === undefined || customJobIdProblem(jobId) === undefined) return;
  try {
    assertCustomJobId(jobId, 'options.jobId');
  } catch (err) {
    const { code, message } = err as PhotonsError;
    return reply.code(400).send({ error: { code, message } });
  }
};

async function mountBoard(app: FastifyInstance, base: string, readOnlyMode: boolean, onRequest: onRequestAsyncHookHandler[]): Promise<Board> {
  const adapter = new FastifyAdapter();
  adapter.setBasePath(base);
  const otherBoard = readOnlyMode ? { text: 'Sign in for actions', url: FULL_BOARD } : { text: 'Read-only board', url: READ_ONLY_BOARD };
  const board = createBullBoard({
    queues: [],
    serverAdapter: adapter,
    options: {
      uiConfig: {
        boardTitle: readOnlyMode ? 'Photons queues (read-only)' : 'Photons queues',
        miscLinks: [{ text: 'Photons dashboard', url: '/dashboard' }, otherBoard],
        hideDocsLink: true,
        // The read-only board may be public (api.dashboardPublic): Redis's version, memory and
        // clients (CLIENT LIST) only on the admin board, which needs the token.
        hideRedisDetails: readOnlyMode,
        showWorkers: !readOnlyMode,
      },
    },
  });
  // Its own scope: the hooks and bull-board's error handler stay with this board's routes.
  await app.register(async (scope) => {
    for (const hook of onRequest) scope.addHook('onRequest', hook);
    if (!readOnlyMode) scope.addHook('preHandler', refuseReservedJobIds);
    scope.addHook('onSend', async (_request, reply, payload) => {
      void reply.header('content-security-policy', BOARD_CSP);
      return payload;
    });
    await scope.register(adapter.registerPlugin(), { prefix: base });
  });
  return board;
}
