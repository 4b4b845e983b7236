// The `photons` command: one entry, one file per command. This file holds only each command's
// name, summary and loader: `photons --help` and a light command such as `photons health` must
// not pay for loading fastify, BullMQ or esbuild, which only some commands use.
import { PhotonsError } from '../errors';
import type { Command } from './args';

interface Entry {
  name: string;
  summary: string;
  /** Requires the command's module only when the command runs (or prints its own usage). */
  load(): Command;
}

// A require per command, each run only when its command is asked for.
const COMMANDS: Entry[] = [
  {
    name: 'start',
    summary: 'start everything on this machine: Redis (if none answers), a dispatcher and the HTTP API',
    load: () => (require('./serve') as typeof import('./serve')).startCommand,
  },
  {
    name: 'dispatcher',
    summary: 'consume the function queues in Redis and run their jobs as photons',
    load: () => (require('./serve') as typeof import('./serve')).dispatcherCommand,
  },
  {
    name: 'run',
    summary: 'run a function over inputs locally (no Redis), one JSON line per job',
    load: () => (require('./run') as typeof import('./run')).runCommand,
  },
  {
    name: 'status',
    summary: 'queues, runtimes, photons and dispatchers of the whole fleet (--watch to follow)',
    load: () => (require('./status') as typeof import('./status')).statusCommand,
  },
  {
    name: 'bench',
    summary: 'run a benchmark suite and print its figures (--json: one JSON object as the last line); from a checkout only',
    load: () => (require('./bench') as typeof import('./bench')).benchCommand,
  },
  {
    name: 'invoke',
    summary: 'run one job of a function through Redis and print its result as JSON',
    load: () => (require('./invoke') as typeof import('./invoke')).invokeCommand,
  },
  {
    name: 'map',
    summary: 'run a function over a JSONL file of inputs through Redis; one JSON result line per input',
    load: () => (require('./map') as typeof import('./map')).mapCommand,
  },
  {
    name: 'jobs',
    summary: "show a job's state and result (or error) by id, or cancel it",
    load: () => (require('./jobs') as typeof import('./jobs')).jobsCommand,
  },
  {
    name: 'schedule',
    summary: 'run a function every interval or on a cron expression: schedule add|list|remove|pause|resume',
    load: () => (require('./schedule') as typeof import('./schedule')).scheduleCommand,
  },
  {
    name: 'functions',
    summary: 'list the functions the dispatchers serve (name, state, source file)',
    load: () => (require('./functions') as typeof import('./functions')).functionsCommand,
  },
  {
    name: 'api',
    summary: 'serve the HTTP API (enqueue, invoke, map runs, functions; OpenAPI at /openapi.json)',
    load: () => (require('./api') as typeof import('./api')).apiCommand,
  },
  {
    name: 'config',
    summary: 'list every configuration key (env var, default, doc); --check validates the current one',
    load: () => (require('./config') as typeof import('./config')).configCommand,
  },
  {
    name: 'health',
    summary: 'exit 0 when Redis answers (and with --api, the local API); for container healthchecks',
    load: () => (require('./health') as typeof import('./health')).healthCommand,
  },
  {
    name: 'deploy',
    summary: 'bundle a function file (or every one in a folder) and make it the version every dispatcher runs',
    load: () => (require('./deploy') as typeof import('./deploy')).deployCommand,
  },
  {
    name: 'init',
    summary: 'scaffold a project: functions/hello.ts, tsconfig.json, package.json and .gitignore (if none)',
    load: () => (require('./init') as typeof import('./init')).initCommand,
  },
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'photons: run massively parallel jobs on Node.js, many isolated jobs of one function per runtime.',
    '',
    'Usage: photons <command> [options]   (photons <command> --help for its options)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Configuration: PHOTONS_* env vars or a JSON file in PHOTONS_CONFIG; `photons config` lists every key.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${help()}\n`);
    return;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`photons: unknown command "${name}".\n\n${help()}\n`);
    process.exitCode = 2;
    return;
  }
  const command = entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${entry.summary}\n\nUsage: ${command.usage}\n`);
    return;
  }
  try {
    process.exitCode = await command.run(rest);
  } catch (err) {
    if (err instanceof PhotonsError) {
      process.stderr.write(`photons ${name}: ${err.message} [${err.code}]\n`);
      process.exitCode = err.code === 'PHOTONS_ERR_USAGE' ? 2 : 1;
      return;
    }
    throw err;
  }
}
