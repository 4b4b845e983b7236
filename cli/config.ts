// `photons config`: every configuration key with its env var, default and doc; `--check` validates.
import { describeConfig, loadConfig } from '../config';
import { parse, usageError, type Command } from './args';

export const configCommand: Command = {
  name: 'config',
  usage: 'photons config [--check] [--json] [--config <file.json>]',
  options: {
    check: { type: 'boolean' },
    json: { type: 'boolean' },
    config: { type: 'string' },
  },
  async run(argv) {
    const args = parse(this, argv);
    if (args.positionals.length > 0) throw usageError(this, `Unexpected arguments: ${args.positionals.join(' ')}.`);
    const file = (args.values.config as string | undefined) ?? process.env.PHOTONS_CONFIG;
    if (args.values.check) {
      loadConfig({}, file); // throws PHOTONS_ERR_CONFIG with the one line that says what is wrong
      process.stdout.write(`configuration is valid${file ? ` (${file} and the environment)` : ' (environment and defaults)'}\n`);
      return 0;
    }
    const rows = describeConfig();
    if (args.values.json) {
      process.stdout.write(`${JSON.stringify(rows)}\n`);
      return 0;
    }
    for (const row of rows) {
      process.stdout.write(`${row.env}  (${row.key}, default ${JSON.stringify(row.default)})\n    ${row.doc}\n`);
    }
    return 0;
  },
};
