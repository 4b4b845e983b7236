// The sections of `photons status` beyond queues and dispatchers: schedules (next and last run) and
// the functions whose limits hold jobs back.
import { readLimits, type LimitStatus } from '../contract/queue-limits';
import type { RedisClient } from '../contract/redis';
import { describeTiming, readSchedules, type ScheduleInfo } from '../contract/schedules';
import { table } from './table';

export interface StatusSections {
  schedules: ScheduleInfo[];
  limits: LimitStatus[];
}

export async function readSections(redis: RedisClient, prefix: string): Promise<StatusSections> {
  const [schedules, limits] = await Promise.all([readSchedules(redis, prefix), readLimits(redis, prefix)]);
  return { schedules, limits };
}

export function renderSections({ schedules, limits }: StatusSections): string[] {
  const lines: string[] = [];
  const when = (at: number | null): string => (at === null ? '-' : new Date(at).toISOString());
  if (schedules.length > 0) {
    const rows = schedules.map((s) => [s.id, s.fn, describeTiming(s), s.paused ? 'paused' : when(s.nextRunAt), when(s.lastRunAt), s.runs]);
    lines.push('', ...table(['schedule', 'function', 'when', 'next run', 'last run', 'runs'], rows));
  }
  if (limits.length > 0) {
    const rows = limits.map((l) => [
      l.fn,
      l.rateLimit ? `${l.rateLimit.max} per ${l.rateLimit.durationMs} ms` : '-',
      l.maxConcurrency === null ? '-' : `${l.active} of ${l.maxConcurrency}`,
      limitedBy(l),
    ]);
    lines.push('', ...table(['limits', 'rate limit', 'in flight', 'now'], rows));
  }
  return lines;
}

/** What holds the function's jobs back right now, if anything. */
export function limitedBy(l: LimitStatus): string {
  const reasons = [
    ...(l.rateLimitedForMs > 0 ? [`rate-limited for ${(l.rateLimitedForMs / 1000).toFixed(1)} s`] : []),
    ...(l.atMaxConcurrency ? ['at maxConcurrency'] : []),
  ];
  return reasons.length > 0 ? `LIMITED: ${reasons.join(', ')}` : 'not limited';
}
