// `photons schedule` as a user runs it: add (default id: the function's name), list, pause,
// resume, remove, --help, and usage errors (exit 2) for bad durations, expressions, ids and inputs.
import { strict as assert } from 'node:assert';
import { ErrorCodes } from '../../errors';
import { REDIS_URL, runPhotons, startStack, type Ran, type Stack } from '../producer/helpers';

describe('photons schedule', function () {
  this.timeout(60_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  function photons(...args: string[]): Promise<Ran> {
    return runPhotons(args, { ...process.env, PHOTONS_REDIS_URL: REDIS_URL, PHOTONS_REDIS_PREFIX: stack.prefix, PHOTONS_LOG_LEVEL: 'warn' });
  }

  it('adds, lists, pauses, resumes and removes schedules', async () => {
    const added = await photons('schedule', 'add', 'echo', '--cron', '*/10 * * * *', '--input', '{"n":5}');
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^echo +echo +cron \*\/10 \* \* \* \* +active +\d{4}-/m);
    const second = await photons('schedule', 'add', 'double', '--every', '1h', '--id', 'hourly');
    assert.equal(second.code, 0, second.stderr);
    const listed = await photons('schedule', 'list', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const schedules = JSON.parse(listed.stdout) as Array<{ id: string; fn: string; every?: number; cron?: string; input: unknown }>;
    assert.deepEqual(
      schedules.map(({ id, fn, every, cron, input }) => ({ id, fn, every, cron, input })),
      [
        { id: 'echo', fn: 'echo', every: undefined, cron: '*/10 * * * *', input: { n: 5 } },
        { id: 'hourly', fn: 'double', every: 3_600_000, cron: undefined, input: null },
      ],
    );
    const status = await photons('status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^schedule +function +when +next run +last run +runs *$/m);
    assert.match(status.stdout, /^hourly +double +every 3600000 ms +\d{4}-\S+ +\d{4}-\S+ +1 *$/m);
    assert.match((await photons('schedule', 'pause', 'hourly')).stdout, /hourly +double +every 3600000 ms +paused +- /);
    assert.match((await photons('schedule', 'resume', 'hourly')).stdout, /hourly +double +every 3600000 ms +active +\d{4}-/);
    assert.deepEqual(await photons('schedule', 'remove', 'hourly'), { code: 0, stdout: 'Removed schedule "hourly".\n', stderr: '' });
    const missing = await photons('schedule', 'remove', 'hourly');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, new RegExp(`No schedule "hourly".*\\[${ErrorCodes.SCHEDULE_NOT_FOUND}\\]`));
    assert.equal((await photons('schedule', 'remove', 'echo')).code, 0);
  });

  it('prints its usage with --help, and refuses bad flags with usage errors', async () => {
    const help = await photons('schedule', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /photons schedule add <function> \(--every <duration> \| --cron '<expr>'/);
    const usage = async (pattern: RegExp, ...args: string[]): Promise<void> => {
      const ran = await photons('schedule', ...args);
      assert.equal(ran.code, 2, `${args.join(' ')}: ${ran.stderr}`);
      assert.match(ran.stderr, pattern);
      assert.match(ran.stderr, /PHOTONS_ERR_USAGE/);
    };
    await usage(/--every must be a duration such as 500ms/, 'add', 'echo', '--every', 'soon');
    await usage(/every must be an integer number of ms from 100/, 'add', 'echo', '--every', '10ms');
    await usage(/cron expression "bad cron" is invalid.*PHOTONS_ERR_INVALID_SCHEDULE/, 'add', 'echo', '--cron', 'bad cron');
    await usage(/IANA time zone/, 'add', 'echo', '--cron', '* * * * *', '--tz', 'Atlantis/Deep');
    await usage(/either --every <duration> or --cron <expr>/, 'add', 'echo');
    await usage(/either --every <duration> or --cron <expr>/, 'add', 'echo', '--every', '1s', '--cron', '* * * * *');
    await usage(/not a valid schedule id/, 'add', 'echo', '--every', '1s', '--id', 'a:b');
    await usage(/--input is not JSON/, 'add', 'echo', '--every', '1s', '--input', '{oops');
    await usage(/Unknown action "start"/, 'start');
    await usage(/Missing the id of the schedule to pause/, 'pause');
    const list = await photons('schedule', 'list');
    assert.deepEqual([list.code, list.stdout], [0, '']);
    assert.match(list.stderr, /No schedules/);
  });
});
