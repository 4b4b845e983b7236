// `photons jobs`: a job's state and result by id (any function queue), or cancel it.
import { parse, usageError, type Command } from './args';
import { CLIENT_OPTIONS, CLIENT_USAGE, withClient } from './client-options';

export const jobsCommand: Command = {
  name: 'jobs',
  usage: `photons jobs <job-id> [--fn <function>] [--cancel] ${CLIENT_USAGE}`,
  options: { ...CLIENT_OPTIONS, fn: { type: 'string' }, cancel: { type: 'boolean' } },
  async run(argv) {
    const args = parse(this, argv);
    const [jobId, ...extra] = args.positionals;
    if (!jobId) throw usageError(this, 'Missing the job id.');
    if (extra.length > 0) throw usageError(this, `Unexpected arguments: ${extra.join(' ')}.`);
    const fn = args.values.fn as string | undefined;
    return withClient(this, args, async (client) => {
      const answer = args.values.cancel ? await client.cancel(jobId, { fn }) : await client.result(jobId, { fn });
      process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
      return 0;
    });
  },
};
