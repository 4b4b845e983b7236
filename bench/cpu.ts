// CPU time spent by each side of a throughput measurement: this process's main thread, its other
// threads (runtime threads, GC and libuv helpers) and the Redis server, so a benchmark can say
// what one job costs each of them and which one bounds it.
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

export interface CpuReading {
  /** CPU seconds of the whole process (every thread). */
  process: number;
  /** CPU seconds of the main thread; NaN where /proc is not there. */
  main: number;
  /** CPU seconds of the Redis server (its INFO). */
  redis: number;
}

/** CPU microseconds per job of each side between two readings. */
export interface CpuPerJob {
  mainUs: number;
  threadsUs: number;
  redisUs: number;
}

export async function readCpu(redis: Redis): Promise<CpuReading> {
  const usage = process.cpuUsage();
  const info = await redis.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return { process: (usage.user + usage.system) / 1e6, main: mainThreadSeconds(), redis: field('used_cpu_user') + field('used_cpu_sys') };
}

export function cpuPerJob(before: CpuReading, after: CpuReading, jobs: number): CpuPerJob {
  const us = (seconds: number): number => Math.round((seconds * 1e6) / jobs);
  const main = after.main - before.main;
  return { mainUs: us(main), threadsUs: us(after.process - before.process - main), redisUs: us(after.redis - before.redis) };
}

/** utime + stime of the main thread (its task id is the pid), in clock ticks of 10 ms. */
function mainThreadSeconds(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // The fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
