// `photons bench <suite>`: benchmarks that set Photons beside its baselines in the same run. They
// are not part of the published package: they run from a checkout of the repository, where
// `npm test` (or `npm run build:test`) compiles them into build/.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, PhotonsError } from '../errors';
import { parse, usageError, type Command } from './args';

// This file runs as dist/cli/bench.js (the product) or build/cli/bench.js (the test build): the
// package root is two folders up either way.
const ROOT = path.resolve(__dirname, '..', '..');
const SUITES_JS = path.join(ROOT, 'build', 'bench', 'suites.js');

interface SuiteModule {
  SUITES: Record<string, { summary: string; run: (options: { json: boolean; quick: boolean }) => Promise<{ lines: string[]; result: unknown }> }>;
}

function loadSuites(): SuiteModule['SUITES'] {
  if (!existsSync(path.join(ROOT, 'bench'))) {
    throw new PhotonsError(
      ErrorCodes.USAGE,
      'The benchmarks run from a checkout of the repository, not from the installed package: git clone the Photons repository, run `npm ci` and `npm ci --prefix bench/workloads` there, then `npx photons bench <suite>`.',
    );
  }
  if (!existsSync(SUITES_JS)) {
    throw new PhotonsError(ErrorCodes.USAGE, `The benchmarks are not compiled (no ${SUITES_JS}): run \`npm run build:test\` first.`);
  }
  return (require(SUITES_JS) as SuiteModule).SUITES;
}

export const benchCommand: Command = {
  name: 'bench',
  usage: 'photons bench <photon-overhead|map|dispatch|paper|trace|cluster|faults|simulate|pool|bundles|shared|functions|io> [--json] [--quick]',
  options: {
    json: { type: 'boolean' },
    quick: { type: 'boolean' },
  },
  async run(argv) {
    const args = parse(this, argv);
    const suites = loadSuites();
    const [name, ...extra] = args.positionals;
    const suite = name ? suites[name] : undefined;
    if (!suite) {
      throw usageError(
        this,
        `${name ? `Unknown suite "${name}"` : 'Missing the suite'}; the suites are:\n${Object.entries(suites)
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
