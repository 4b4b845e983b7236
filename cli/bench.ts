// `photons bench <suite>`: benchmarks that set Photons beside its baselines in the same run.
import { clusterBench } from '../bench/cluster';
import { dispatchBench } from '../bench/dispatch';
import { faultsBench } from '../bench/faults';
import { benchMap, formatMapBench } from '../bench/map';
import { paperBench } from '../bench/paper';
import { photonOverhead } from '../bench/photon-overhead';
import type { SuiteOptions, SuiteReport } from '../bench/report';
import { simulateBench } from '../bench/simulate';
import { traceBench } from '../bench/trace';
import { parse, usageError, type Command } from './args';

const SUITES: Record<string, { summary: string; run: (options: SuiteOptions) => Promise<SuiteReport> }> = {
  'photon-overhead': { summary: 'heap and time per photon vs a runtime per job (thread, process)', run: photonOverhead },
  map: {
    summary: 'items/s through map with chunkSize 1 and 100 vs plain BullMQ addBulk + Worker',
    run: async (options) => {
      const result = await benchMap({ items: options.quick ? 2_000 : 10_000 });
      return { lines: formatMapBench(result).split('\n'), result: { suite: 'map', ...result } };
    },
  },
  dispatch: { summary: 'trivial jobs through Redis and the dispatcher vs a plain BullMQ worker', run: dispatchBench },
  paper: { summary: "the paper's five workloads at concurrency 1–64 in photon, shared, lambda modes and BullMQ sandboxed processors", run: paperBench },
  trace: { summary: 'Azure traces replayed on the real dispatcher with time compression, photon vs lambda: cold starts and memory-time', run: traceBench },
  cluster: { summary: "three functions' trivial jobs through one Redis and through a local 3-master Redis Cluster, in the same run", run: clusterBench },
  faults: { summary: 'jobs lost and duplicated when a dispatcher is killed, Redis restarts, a host is cut off, a runtime blocks or runs out of heap, the API is flooded', run: faultsBench },
  simulate: { summary: "the paper's Azure-trace cluster simulation with the dispatcher's placement code, photon vs lambda", run: simulateBench },
};

export const benchCommand: Command = {
  name: 'bench',
  summary: 'run a benchmark suite and print its figures (--json: one JSON object as the last line)',
  usage: `photons bench <${Object.keys(SUITES).join('|')}> [--json] [--quick]`,
  options: {
    json: { type: 'boolean' },
    quick: { type: 'boolean' },
  },
  async run(argv) {
    const args = parse(this, argv);
    const [name, ...extra] = args.positionals;
    const suite = name ? SUITES[name] : undefined;
    if (!suite) {
      throw usageError(
        this,
        `${name ? `Unknown suite "${name}"` : 'Missing the suite'}; the suites are:\n${Object.entries(SUITES)
          .map(([n, s]) => `  ${n}: ${s.summary}`)
          .join('\n')}`,
      );
    }
    if (extra.length > 0) throw usageError(this, `Unexpected arguments: ${extra.join(' ')}.`);
    const report = await suite.run({ json: args.values.json === true, quick: args.values.quick === true });
    process.stdout.write(`${report.lines.join('\n')}\n`);
    if (args.values.json) process.stdout.write(`${JSON.stringify(report.result)}\n`);
    return 0;
  },
};
