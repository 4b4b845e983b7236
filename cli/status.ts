// `photons status`: what is queued and what runs where, over every dispatcher, read from Redis.
import { table } from './table';
import { loadConfig } from '../config';
import { readFleet, type FleetStatus } from '../contract/fleet';
import { foldIdle } from '../monitoring/fleet-activity';
import type { MemoryStats } from '../contract/heartbeat';
import { connectFleet } from '../contract/redis';
import { parse, positiveInt, usageError, type Command } from './args';
import { readSections, renderSections } from './status-sections';

export const statusCommand: Command = {
  name: 'status',
  usage: 'photons status [--all] [--watch] [--interval-ms N] [--json] [--config <file.json>]',
  options: {
    all: { type: 'boolean', short: 'a' },
    watch: { type: 'boolean', short: 'w' },
    'interval-ms': { type: 'string' },
    json: { type: 'boolean' },
    config: { type: 'string' },
  },
  async run(argv) {
    const args = parse(this, argv);
    if (args.positionals.length > 0) throw usageError(this, `Unexpected arguments: ${args.positionals.join(' ')}.`);
    const intervalMs = positiveInt(this, args, 'interval-ms') ?? 1_000;
    const config = loadConfig({}, (args.values.config as string | undefined) ?? process.env.PHOTONS_CONFIG);
    const redis = await connectFleet(config.redis);
    const read = async () => ({
      ...(await readFleet(redis, config.redis.prefix, config.dispatcher.heartbeatMs)),
      ...(await readSections(redis, config.redis.prefix)),
    });
    const all = args.values.all === true;
    try {
      if (!args.values.watch) {
        const fleet = await read();
        process.stdout.write(args.values.json ? `${JSON.stringify(fleet)}\n` : `${[...render(fleet, all), ...renderSections(fleet)].join('\n')}\n`);
        return 0;
      }
      const tty = process.stdout.isTTY === true;
      let stop = false;
      process.once('SIGINT', () => (stop = true));
      while (!stop) {
        const fleet = await read();
        if (args.values.json) process.stdout.write(`${JSON.stringify(fleet)}\n`);
        // On a terminal, redraw in place; elsewhere (a log, a pipe), append.
        else process.stdout.write(`${tty ? '\x1b[H\x1b[2J' : '\n'}${[...render(fleet, all), ...renderSections(fleet)].join('\n')}\n`);
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
      return 0;
    } finally {
      redis.disconnect();
    }
  },
};

/** A dispatcher's memory budget; `limited` names the functions whose jobs wait in Redis for it. */
function memoryLine(memory: MemoryStats | undefined): string {
  if (!memory) return '-';
  const line = `${memory.usedMb}M/${memory.budgetMb}M`;
  return memory.limited.length > 0 ? `${line} limited: ${memory.limited.join(' ')}` : line;
}

/** The table a person reads: busiest functions first, idle ones folded into a count unless `all`. */
export function render(fleet: FleetStatus, all = false): string[] {
  const mb = (bytes: number): string => (bytes > 0 ? `${(bytes / 2 ** 20).toFixed(1)}M` : '-');
  const kb = (bytes: number): string => (bytes > 0 ? `${(bytes / 1024).toFixed(1)}K` : '-');
  const lines = [`photons status at ${new Date(fleet.at).toISOString()}`, ''];
  const { shown, folded } = foldIdle(fleet.functions, all);
  if (fleet.functions.length === 0) lines.push('No functions: no dispatcher has registered any yet.');
  else {
    lines.push(
      ...table(
        [
          'function',
          'waiting',
          'active',
          'delayed',
          'completed',
          'failed',
          'jobs/s',
          'runtimes',
          'photons',
          'per runtime',
          'heap/runtime',
          'heap/photon',
          'cold starts',
        ],
        shown.map((f) => [
          f.error ? `${f.fn} (broken)` : f.fn,
          f.waiting,
          f.active,
          f.delayed,
          f.completed,
          f.failed,
          f.jobsPerSec,
          f.runtimes,
          f.photonsInFlight,
          f.photonsPerRuntime.join(' ') || '-',
          f.heapPerRuntime.map(mb).join(' ') || '-',
          kb(f.heapPerPhoton),
          f.coldStarts,
        ]),
      ),
    );
    if (folded.length > 0) {
      lines.push(`… and ${folded.length.toLocaleString('en-US')} idle functions (no jobs queued or running, no runtime): \`photons status --all\` lists them`);
    }
  }
  lines.push('');
  if (fleet.dispatchers.length === 0) lines.push('No dispatcher is running (no heartbeat in Redis).');
  else {
    lines.push(
      ...table(
        ['dispatcher', 'host', 'pid', 'version', 'mode', 'memory used/budget', 'heartbeat'],
        fleet.dispatchers.map((d) => [
          d.id,
          d.host,
          String(d.pid),
          d.version,
          d.mode,
          memoryLine(d.memory),
          `${(d.heartbeatAgeMs / 1000).toFixed(1)}s ago${d.stale ? ' STALE' : ''}`,
        ]),
      ),
    );
  }
  for (const f of fleet.functions.filter((fn) => fn.error)) lines.push(`${f.fn}: ${f.error}`);
  return lines;
}
