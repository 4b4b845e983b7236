// Runtimes shared among functions (runtime.shareAmongFunctions; ARCHITECTURE.md, "Shared runtimes"):
// two functions' jobs run in one worker thread, each function with its own module instances and its
// own copy of a package; a function that blocks the thread or exhausts its heap moves to runtimes of
// its own and its neighbour keeps serving, no job lost; protectBuiltins: false never shares.
import { strict as assert } from 'node:assert';
import { cpSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ConfigOverrides } from '../../config';
import type { Dispatcher } from '../../dispatcher/dispatcher';
import { REPO_ROOT, TestBed, jobsById, until } from './helpers';

const SHARED_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'shared');

interface Answer {
  fn: string;
  threadId: number;
  handled?: number;
  packageCalls?: number;
  polyfillSeen?: boolean;
  last?: number;
}

/** The packages the fixtures import, installed as node_modules would be (not tracked by git). */
function installFixturePackages(): void {
  const packages = {
    'photons-fixture-runtime-state': path.join(REPO_ROOT, 'test', 'fixtures', 'isolation', 'runtime-state-package'),
    'photons-fixture-polyfill': path.join(SHARED_DIR, 'polyfill-package'),
  };
  for (const [name, source] of Object.entries(packages)) {
    const target = path.join(SHARED_DIR, 'node_modules', name);
    if (!existsSync(target)) cpSync(source, target, { recursive: true });
  }
}

describe('dispatcher: runtimes shared among functions', function () {
  this.timeout(90_000);
  let bed: TestBed;

  before(installFixturePackages);

  beforeEach(() => {
    bed = new TestBed();
  });

  afterEach(() => bed.cleanup());

  function start(overrides: ConfigOverrides = {}): Promise<Dispatcher> {
    return bed.dispatcher({ functionsDir: SHARED_DIR, 'runtime.shareAmongFunctions': true, ...overrides });
  }

  /** Runs one job of `fn` and returns its answer; fails the test if the job fails. */
  async function run(fn: string, data: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<Answer> {
    const tracker = await bed.tracker(fn);
    const job = await bed.queue(fn).add(fn, data);
    const { completed, failed } = await tracker.wait([job.id!], timeoutMs);
    assert.equal(failed.get(job.id!), undefined, `job ${job.id} of ${fn} failed`);
    return completed.get(job.id!) as Answer;
  }

  it('runs two functions in one thread, each with its own module instances and its own copy of a package', async () => {
    await start();
    const answers: Answer[] = [];
    for (const fn of ['alpha', 'beta', 'alpha', 'beta', 'alpha']) answers.push(await run(fn));

    const threads = new Set(answers.map((a) => a.threadId));
    assert.equal(threads.size, 1, `one thread for both functions, got ${[...threads].join(', ')}`);
    assert.notEqual(answers[0]!.threadId, 0, 'not the main thread');
    // A fresh module instance per job, as in a runtime of its own.
    assert.deepEqual(
      answers.map((a) => a.handled),
      [1, 1, 1, 1, 1],
    );
    // Each function's package counts only its own calls: alpha's 1, 2, 3 and beta's 1, 2.
    assert.deepEqual(
      answers.map((a) => `${a.fn}:${a.packageCalls}`),
      ['alpha:1', 'beta:1', 'alpha:2', 'beta:2', 'alpha:3'],
    );
  });

  it('shares by default, and gives each function a thread of its own when sharing is off', async () => {
    const dispatcher = await bed.dispatcher({ functionsDir: SHARED_DIR });
    assert.ok(dispatcher.shared, 'on by default');
    await dispatcher.close();
    await bed.dispatcher({ functionsDir: SHARED_DIR, 'runtime.shareAmongFunctions': false });
    const alpha = await run('alpha');
    const beta = await run('beta');
    assert.notEqual(alpha.threadId, beta.threadId);
  });

  it('retires idle functions from their shared thread, and the thread once it is empty', async () => {
    const dispatcher = await start({ 'runtime.keepAliveMs': 300 });
    const alpha = await run('alpha');
    assert.equal((await run('beta')).threadId, alpha.threadId);
    assert.equal(dispatcher.shared!.threadCount, 1);
    await until('the idle shared thread to retire', () => dispatcher.shared!.threadCount === 0);
    // A booted, unused thread waits for the next cold start, so that it only loads the function.
    const spare = await until('a spare shared thread', () => dispatcher.shared!.spareThreadId);
    const again = await run('alpha');
    assert.notEqual(again.threadId, alpha.threadId, 'a new shared thread');
    assert.equal(again.threadId, spare, 'the spare serves the cold start');
    assert.equal(again.packageCalls, 1, 'the function loaded afresh, its packages too');
  });

  it('never loads a function with protectBuiltins: false beside others', async () => {
    const dispatcher = await start();
    const alpha = await run('alpha');
    const unprotected = await run('unprotected');
    const beta = await run('beta');
    assert.equal(alpha.threadId, beta.threadId, 'alpha and beta share');
    assert.notEqual(unprotected.threadId, alpha.threadId, 'unprotected runs alone');
    assert.equal(dispatcher.shared!.movedOut.size, 0, 'nothing misbehaved');
  });

  it('moves a function whose package polyfills a builtin at load to a runtime of its own, where it works', async () => {
    const dispatcher = await start();
    const alpha = await run('alpha');
    const polyfilled = await run('polyfilled', { items: [1, 2, 3] });
    assert.equal(polyfilled.last, 3);
    assert.notEqual(polyfilled.threadId, alpha.threadId);
    assert.match(dispatcher.shared!.movedOut.get('polyfilled') ?? 'not moved', /did not load beside other functions/);
    const again = await run('polyfilled', { items: [4, 5] });
    assert.equal(again.last, 5);
    // The neighbours never saw the polyfill.
    const beta = await run('beta');
    assert.equal(beta.threadId, alpha.threadId);
    assert.equal(beta.polyfillSeen, false);
  });

  it('moves a function that blocks the shared thread to runtimes of its own; its neighbour keeps serving', async () => {
    const dispatcher = await start();
    const before = await run('alpha');
    const blockerBefore = await run('blocker');
    assert.equal(blockerBefore.threadId, before.threadId, 'blocker starts in the shared thread');

    const tracker = await bed.tracker('blocker');
    const culprit = await bed.queue('blocker').add('blocker', { block: true });
    const { failed } = await tracker.wait([culprit.id!], 45_000);
    assert.match(failed.get(culprit.id!) ?? 'completed', /^PHOTONS_ERR_POISON: .*event loop was blocked/);
    assert.match(dispatcher.shared!.movedOut.get('blocker') ?? 'not moved', /blocked the event loop/);
    assert.equal(dispatcher.shared!.movedOut.has('alpha'), false, 'alpha had no job in the thread: it still shares');

    const alpha = await run('alpha');
    const beta = await run('beta');
    const blocker = await run('blocker');
    assert.equal(alpha.threadId, beta.threadId, 'alpha and beta share a new thread');
    assert.notEqual(alpha.threadId, before.threadId, 'the blocked thread is gone');
    assert.notEqual(blocker.threadId, alpha.threadId, 'blocker now runs alone');
  });

  it("moves a function that exhausts the shared heap out; its neighbour's job in the thread is handed back and completes", async () => {
    // A watchdog long enough that the heap runs out before the collector's struggle looks like a
    // blocked loop, and locks long enough that the same struggle on a loaded machine cannot stall them.
    const dispatcher = await start({
      'runtime.memoryMb': 64,
      'runtime.watchdogMs': 5_000,
      'dispatcher.lockDurationMs': 15_000,
      'dispatcher.stalledIntervalMs': 5_000,
    });
    const hogBefore = await run('hog');
    const alphaBefore = await run('alpha');
    assert.equal(hogBefore.threadId, alphaBefore.threadId, 'hog starts in the shared thread');

    const alphaTracker = await bed.tracker('alpha');
    const hogTracker = await bed.tracker('hog');
    // alpha's job is still in the thread when hog fills the heap.
    const neighbour = await bed.queue('alpha').add('alpha', { ms: 3_000 });
    const culprit = await bed.queue('hog').add('hog', { grow: true });
    const culpritDone = await hogTracker.wait([culprit.id!], 60_000);
    assert.match(culpritDone.failed.get(culprit.id!) ?? 'completed', /^PHOTONS_ERR_POISON: .*ran out of heap/);
    const neighbourDone = await alphaTracker.wait([neighbour.id!], 60_000);
    assert.equal(neighbourDone.failed.get(neighbour.id!), undefined, "the neighbour's job did not fail");
    const [job] = await jobsById(bed.queue('alpha'), [neighbour.id!]);
    assert.ok(job!.attemptsStarted >= 2, 'it was in the thread when the heap ran out, and came back');
    assert.equal(job!.attemptsMade, 1, 'handed back without spending an attempt');

    assert.match(dispatcher.shared!.movedOut.get('hog') ?? 'not moved', /out of memory|ran out of heap/i);
    const hog = await run('hog');
    const beta = await run('beta');
    assert.notEqual(hog.threadId, beta.threadId, 'hog now runs alone');
    assert.notEqual(beta.threadId, alphaBefore.threadId, 'the thread that ran out of heap is gone');
  });
});
