// A map run rides out a short Redis outage (a restart, a cluster failover): its enqueuer's and
// reader's commands are tried again, with the same job ids (BullMQ adds an id once), for up to
// RIDE_OUT_MS. Past that the run fails with PHOTONS_ERR_REDIS_UNAVAILABLE; its jobs go on in Redis
// and it can be resumed by id. Single calls (enqueue, invoke) fail fast instead: their caller decides.
import { ErrorCodes, PhotonsError } from '../errors';

export const RIDE_OUT_MS = 60_000;

/** What ioredis and Redis say while a server is away, restarting or failing over. */
const AWAY =
  /Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Stream isn't writeable|enableOfflineQueue|max retries per request|CLUSTERDOWN|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available|Cluster isn't ready|^LOADING|^READONLY|^TRYAGAIN|^MASTERDOWN/;

export function isRedisAway(err: unknown): boolean {
  if (err instanceof PhotonsError) return err.code === ErrorCodes.REDIS_UNAVAILABLE;
  return err instanceof Error && AWAY.test(err.message);
}

/** Runs `attempt` until it succeeds, fails for another reason, `stopped()` says so, or the outage outlasts `budgetMs`. */
export async function rideOut<T>(what: string, attempt: () => Promise<T>, stopped: () => boolean = () => false, budgetMs = RIDE_OUT_MS): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
    try {
      return await attempt();
    } catch (err) {
      if (!isRedisAway(err)) throw err;
      if (Date.now() + pause > deadline || stopped()) {
        throw new PhotonsError(
          ErrorCodes.REDIS_UNAVAILABLE,
          `${what}: Redis did not answer for ${Math.round(budgetMs / 1000)} s (${(err as Error).message}). The run's jobs go on in Redis: resume it by id once Redis is back.`,
          { cause: err },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
