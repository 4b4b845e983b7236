// `photons run`: a function over JSONL inputs on this machine, no Redis. For function authors.
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { runLocal, type LocalOutcome } from '../dispatcher/local-run';
import { MODES, type Mode } from '../photon-worker/types';
import { parse, positiveInt, usageError, type Command } from './args';

export const runCommand: Command = {
  name: 'run',
  usage: "photons run <function-file> (--inputs <file.jsonl> | --input '<json>') [--concurrency N] [--mode photon|shared|lambda] [--timeout-ms N]",
  options: {
    inputs: { type: 'string' },
    input: { type: 'string' },
    concurrency: { type: 'string', short: 'c' },
    mode: { type: 'string' },
    'timeout-ms': { type: 'string' },
  },
  async run(argv) {
    const args = parse(this, argv);
    const [file, ...extra] = args.positionals;
    if (!file) throw usageError(this, 'Missing the function file.');
    if (extra.length > 0) throw usageError(this, `Unexpected arguments: ${extra.join(' ')}.`);
    const mode = args.values.mode as string | undefined;
    if (mode !== undefined && !MODES.includes(mode as Mode)) {
      throw usageError(this, `--mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}.`);
    }
    const inputs = await readInputs(this, args.values.inputs as string | undefined, args.values.input as string | undefined);
    // Lines go out in input order as soon as every earlier job has finished.
    const done = new Map<number, LocalOutcome>();
    let printed = 0;
    const outcomes = await runLocal(file, inputs, {
      concurrency: positiveInt(this, args, 'concurrency') ?? 1,
      mode: mode as Mode | undefined,
      timeoutMs: positiveInt(this, args, 'timeout-ms'),
      onOutcome(outcome) {
        done.set(outcome.index, outcome);
        while (done.has(printed)) {
          process.stdout.write(`${JSON.stringify(done.get(printed))}\n`);
          done.delete(printed++);
        }
      },
    });
    return outcomes.every((o) => o.ok) ? 0 : 1;
  },
};

async function readInputs(command: Command, file: string | undefined, single: string | undefined): Promise<unknown[]> {
  if ((file === undefined) === (single === undefined)) {
    throw usageError(command, 'Give exactly one of --inputs <file.jsonl> and --input <json>.');
  }
  if (single !== undefined) return [parseJson(command, single, '--input')];
  await access(file!).catch(() => {
    throw usageError(command, `--inputs file ${file} does not exist.`);
  });
  const inputs: unknown[] = [];
  let lineNo = 0;
  for await (const line of createInterface({ input: createReadStream(file!), crlfDelay: Infinity })) {
    lineNo++;
    if (line.trim() === '') continue;
    inputs.push(parseJson(command, line, `${file}:${lineNo}`));
  }
  return inputs;
}

function parseJson(command: Command, text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw usageError(command, `${where} is not JSON (${(err as Error).message}): ${text.slice(0, 80)}`);
  }
}
