// `photons map`: a function over a JSONL file of inputs through Redis, results as JSONL, with
// progress on stderr. Inputs stream from the file: a million lines are never all in memory.
import { createReadStream, createWriteStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { ErrorCodes, PhotonsError } from '../errors';
import type { MapRun } from '../producer/map-run';
import { parse, positiveInt, usageError, type Command } from './args';
import { CLIENT_OPTIONS, CLIENT_USAGE, withClient } from './client-options';
import { ProgressReport } from './progress';

export const mapCommand: Command = {
  name: 'map',
  usage:
    `photons map <function> <inputs.jsonl | -> [-o <results.jsonl>] [--chunk-size N] [--ordered] [--fail-fast] [--max-in-flight N] [--resume <run-id>] ${CLIENT_USAGE}\n` +
    '  Each result line is {"index":i,"ok":true,"value":...} or {"index":i,"ok":false,"error":{...}}; i counts the non-empty input lines from 0.\n' +
    '  Exits 1 if any item failed. --resume takes up a run whose client stopped (give the same inputs).',
  options: {
    ...CLIENT_OPTIONS,
    output: { type: 'string', short: 'o' },
    'chunk-size': { type: 'string' },
    ordered: { type: 'boolean' },
    'fail-fast': { type: 'boolean' },
    'max-in-flight': { type: 'string' },
    resume: { type: 'string' },
  },
  async run(argv) {
    const args = parse(this, argv);
    const [fn, file, ...extra] = args.positionals;
    if (!fn || !file) throw usageError(this, `Missing the ${fn ? 'inputs file' : 'function name and the inputs file'}.`);
    if (extra.length > 0) throw usageError(this, `Unexpected arguments: ${extra.join(' ')}.`);
    if (file !== '-') {
      await access(file).catch(() => {
        throw usageError(this, `The inputs file ${file} does not exist.`);
      });
    }
    const chunkSize = positiveInt(this, args, 'chunk-size');
    const maxInFlight = positiveInt(this, args, 'max-in-flight');
    const ordered = Boolean(args.values.ordered);
    const resume = args.values.resume as string | undefined;
    const report = new ProgressReport();
    return withClient(this, args, async (client) => {
      const inputs = readJsonLines(file);
      const onProgress = report.update.bind(report);
      const run: MapRun = resume
        ? await client.resumeRun(resume, { inputs, ordered, maxInFlight, onProgress })
        : await client.map(fn, inputs, { chunkSize, ordered, failFast: Boolean(args.values['fail-fast']), maxInFlight, onProgress });
      if (resume && run.fn !== fn) throw usageError(this, `Run ${resume} is a run of "${run.fn}", not "${fn}".`);
      process.stderr.write(`photons map: run ${run.id} of "${fn}" (if this stops, go on with --resume ${run.id})\n`);
      const output = args.values.output ? createWriteStream(args.values.output as string) : process.stdout;
      try {
        for await (const result of run) {
          if (!output.write(`${JSON.stringify(result)}\n`)) await once(output, 'drain');
        }
      } finally {
        if (output !== process.stdout) {
          output.end();
          await once(output, 'finish');
        }
      }
      report.summary(run.progress());
      return run.progress().failed > 0 ? 1 : 0;
    });
  },
};

/** Parses the lines as they are read; a line that is not JSON stops the run, naming the line. */
async function* readJsonLines(file: string): AsyncGenerator<unknown> {
  const lines = createInterface({ input: file === '-' ? process.stdin : createReadStream(file), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as unknown;
    } catch (err) {
      throw new PhotonsError(
        ErrorCodes.INPUT_NOT_JSON,
        `${file === '-' ? 'stdin' : file}:${lineNo} is not JSON (${(err as Error).message}): ${line.slice(0, 80)}`,
      );
    }
  }
}
