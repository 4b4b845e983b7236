// The fleet as the monitoring routes read it: one reading of Redis shared by the requests that
// arrive together, so that many open dashboards polling every second cost one reading, not many.
import type { RedisClient } from '../../../contract/redis';
import { readFleet, type FleetStatus } from '../../../contract/fleet';

export class FleetReader {
  private last: { at: number; fleet: Promise<FleetStatus> } | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly heartbeatMs: number,
  ) {}

  /** A reading started at most `maxAgeMs` ago (0: a new one). */
  read(maxAgeMs: number): Promise<FleetStatus> {
    const last = this.last;
    if (last && Date.now() - last.at <= maxAgeMs) return last.fleet;
    const fleet = readFleet(this.redis, this.prefix, this.heartbeatMs);
    const reading = { at: Date.now(), fleet };
    this.last = reading;
    // A failed reading is not kept: the next request tries Redis again.
    fleet.catch(() => {
      if (this.last === reading) this.last = undefined;
    });
    return fleet;
  }
}
