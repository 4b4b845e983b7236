// `photons map`: a function over a JSONL file of inputs through Redis, results as JSONL, with
// progress on stderr. Inputs stream from the file: a million lines are never all in memory. With
// --reduce, one job of the reduce function reads the results and its result is the output; with
// --plot, the run's picture is written at the end (ARCHITECTURE.md, "Map-reduce").
import { createReadStream, createWriteStream } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { ErrorCodes, JobFailedError, PhotonsError } from '../errors';
import type { PhotonsClient } from '../producer/client';
import { timelineSvg } from '../producer/timeline-svg';
import type { RunProgress } from '../producer/types';
import { parse, positiveInt, usageError, type Command } from './args';
import { CLIENT_OPTIONS, CLIENT_USAGE, withClient } from './client-options';
import { ProgressReport } from './progress';

interface MapArgs {
  fn: string;
  inputs: AsyncIterable<unknown>;
  resume: string | undefined;
  chunkSize: number | undefined;
  ordered: boolean;
  failFast: boolean;
  maxInFlight: number | undefined;
  onProgress: (p: RunProgress) => void;
  report: ProgressReport;
  output: NodeJS.WritableStream;
  plot: string | undefined;
}

export const mapCommand: Command = {
  name: 'map',
  usage:
    `photons map <function> <inputs.jsonl | -> [-o <results.jsonl>] [--reduce <function>] [--plot <run.svg>] [--chunk-size N] [--ordered] [--fail-fast] [--max-in-flight N] [--resume <run-id>] ${CLIENT_USAGE}\n` +
    '  Each result line is {"index":i,"ok":true,"value":...} or {"index":i,"ok":false,"error":{...}}; i counts the non-empty input lines from 0.\n' +
    '  Exits 1 if any item failed. --resume takes up a run whose client stopped (give the same inputs).\n' +
    '  --reduce: one job of that function reads every result (ctx.results()) once the map ends; its result is the output (exit 1 if it failed).\n' +
    "  --plot: writes the run's timeline and a histogram of execution times as SVG when the run ends.",
  options: {
    ...CLIENT_OPTIONS,
    output: { type: 'string', short: 'o' },
    'chunk-size': { type: 'string' },
    ordered: { type: 'boolean' },
    'fail-fast': { type: 'boolean' },
    'max-in-flight': { type: 'string' },
    resume: { type: 'string' },
    reduce: { type: 'string' },
    plot: { type: 'string' },
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
    const plot = args.values.plot as string | undefined;
    if (plot !== undefined && !plot.endsWith('.svg'))
      throw usageError(this, `--plot writes an SVG file: give a file name ending in .svg, got ${JSON.stringify(plot)}.`);
    const reduce = args.values.reduce as string | undefined;
    const report = new ProgressReport();
    const common = {
      fn,
      resume: args.values.resume as string | undefined,
      chunkSize: positiveInt(this, args, 'chunk-size'),
      maxInFlight: positiveInt(this, args, 'max-in-flight'),
      ordered: Boolean(args.values.ordered),
      failFast: Boolean(args.values['fail-fast']),
      onProgress: report.update.bind(report),
      report,
      plot,
    };
    return withClient(this, args, async (client) => {
      const output = args.values.output ? createWriteStream(args.values.output as string) : process.stdout;
      const o: MapArgs = { ...common, inputs: readJsonLines(file), output };
      try {
        return reduce ? await mapReduce(this, client, o, reduce) : await map(this, client, o);
      } finally {
        if (output !== process.stdout) {
          output.end();
          await once(output, 'finish');
        }
      }
    });
  },
};

async function map(command: Command, client: PhotonsClient, o: MapArgs): Promise<number> {
  const run = o.resume
    ? await client.resumeRun(o.resume, { inputs: o.inputs, ordered: o.ordered, maxInFlight: o.maxInFlight, onProgress: o.onProgress })
    : await client.map(o.fn, o.inputs, {
        chunkSize: o.chunkSize,
        ordered: o.ordered,
        failFast: o.failFast,
        maxInFlight: o.maxInFlight,
        onProgress: o.onProgress,
      });
  if (o.resume && run.fn !== o.fn) throw usageError(command, `Run ${o.resume} is a run of "${run.fn}", not "${o.fn}".`);
  process.stderr.write(`photons map: run ${run.id} of "${o.fn}" (if this stops, go on with --resume ${run.id})\n`);
  try {
    for await (const result of run) {
      if (!o.output.write(`${JSON.stringify(result)}\n`)) await once(o.output, 'drain');
    }
  } finally {
    await writePlot(client, run.id, o.plot);
  }
  o.report.summary(run.progress());
  return run.progress().failed > 0 ? 1 : 0;
}

/** The map's results go to the reducer; the reducer's result is the output. */
async function mapReduce(command: Command, client: PhotonsClient, o: MapArgs, reduce: string): Promise<number> {
  if (o.ordered) throw usageError(command, '--ordered has no use with --reduce: the reducer reads the results in input order.');
  const run = o.resume
    ? await client.resumeMapReduce(o.resume, { inputs: o.inputs, maxInFlight: o.maxInFlight, onProgress: o.onProgress })
    : await client.mapReduce(o.fn, o.inputs, reduce, { chunkSize: o.chunkSize, failFast: o.failFast, maxInFlight: o.maxInFlight, onProgress: o.onProgress });
  if (o.resume && (run.fn !== o.fn || run.reduceFn !== reduce)) {
    throw usageError(command, `Run ${o.resume} maps "${run.fn}" and reduces with "${run.reduceFn}", not "${o.fn}" and "${reduce}".`);
  }
  process.stderr.write(`photons map: run ${run.id} of "${o.fn}", reduced by "${reduce}" (if this stops, go on with --resume ${run.id})\n`);
  try {
    await run.reduceStarted();
  } finally {
    o.report.summary(run.progress());
    await writePlot(client, run.id, o.plot);
  }
  try {
    o.output.write(`${JSON.stringify(await run.result())}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof JobFailedError)) throw err;
    process.stderr.write(`photons map: the reduce job ${run.reduceJobId} of "${reduce}" failed: ${err.jobError.code}: ${err.jobError.message}\n`);
    return 1;
  }
}

async function writePlot(client: PhotonsClient, runId: string, to: string | undefined): Promise<void> {
  if (!to) return;
  await writeFile(to, timelineSvg(await client.runTimeline(runId)));
  process.stderr.write(`photons map: the run's picture is in ${to}\n`);
}

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
