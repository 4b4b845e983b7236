// `photons functions`: the functions dispatchers have registered in Redis, and whether they load.
import { parse, usageError, type Command } from './args';
import { CLIENT_OPTIONS, CLIENT_USAGE, withClient } from './client-options';

export const functionsCommand: Command = {
  name: 'functions',
  usage: `photons functions [--json] ${CLIENT_USAGE}`,
  options: { ...CLIENT_OPTIONS, json: { type: 'boolean' } },
  async run(argv) {
    const args = parse(this, argv);
    if (args.positionals.length > 0) throw usageError(this, `Unexpected arguments: ${args.positionals.join(' ')}.`);
    return withClient(this, args, async (client) => {
      const functions = await client.functions();
      if (args.values.json) {
        process.stdout.write(`${JSON.stringify(functions, null, 2)}\n`);
        return 0;
      }
      if (functions.length === 0) {
        process.stderr.write('No functions registered: start a dispatcher (photons start) over a folder of function files.\n');
        return 0;
      }
      const width = Math.max(...functions.map((f) => f.name.length));
      for (const f of functions) {
        const state = f.error ? `error  ${f.error.code}: ${f.error.message.split('\n')[0]}` : `ok     ${f.file ?? ''}`;
        process.stdout.write(`${f.name.padEnd(width)}  ${state}\n`);
      }
      return functions.some((f) => f.error) ? 1 : 0;
    });
  },
};
