// The `photons` command: one entry, one file per command.
import { PhotonsError } from '../errors';
import type { Command } from './args';
import { apiCommand } from './api';
import { benchCommand } from './bench';
import { configCommand } from './config';
import { deployCommand } from './deploy';
import { functionsCommand } from './functions';
import { healthCommand } from './health';
import { initCommand } from './init';
import { invokeCommand } from './invoke';
import { jobsCommand } from './jobs';
import { mapCommand } from './map';
import { runCommand } from './run';
import { dispatcherCommand, startCommand } from './serve';
import { statusCommand } from './status';

const COMMANDS: Command[] = [startCommand, dispatcherCommand, runCommand, statusCommand, benchCommand, invokeCommand, mapCommand, jobsCommand, functionsCommand, apiCommand, configCommand, healthCommand, deployCommand, initCommand];

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
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`photons: unknown command "${name}".\n\n${help()}\n`);
    process.exitCode = 2;
    return;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.summary}\n\nUsage: ${command.usage}\n`);
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
