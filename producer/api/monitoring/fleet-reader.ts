// The fleet as the monitoring routes read it: one reading of Redis shared by the requests that
// arrive together, so that many open dashboards polling every second cost one reading, not many.
import type { RedisClient } from '../../../contract/redis';
import { readFleet, type FleetStatus } from '../../../contract/fleet';
import { readLimits, type LimitStatus } from '../../../contract/queue-limits';
import { readSchedules, type ScheduleInfo } from '../../../contract/schedules';

/** What the dashboard shows beside the fleet; /metrics does not read it. */
export interface Sections {
  schedules: ScheduleInfo[];
  limits: LimitStatus[];
}

export class FleetReader {
  private last: { at: number; fleet: Promise<FleetStatus> } | undefined;
  private lastSections: { at: number; sections: Promise<Sections> } | undefined;

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

  /** Schedules and limits, read at most as often as the fleet. */
  sections(maxAgeMs: number): Promise<Sections> {
    const last = this.lastSections;
    if (last && Date.now() - last.at <= maxAgeMs) return last.sections;
    const sections = Promise.all([readSchedules(this.redis, this.prefix), readLimits(this.redis, this.prefix)]).then(([schedules, limits]) => ({
      schedules,
      limits,
    }));
    const reading = { at: Date.now(), sections };
    this.lastSections = reading;
    sections.catch(() => {
      if (this.lastSections === reading) this.lastSections = undefined;
    });
    return sections;
  }
}
