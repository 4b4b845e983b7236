// The fault suite at its --quick size (2,000 jobs a scenario), each scenario on a private Redis
// with dispatcher processes of its own: no job lost, the culprits failed as poison, and the API
// flood answered with 4xx only. The network cut runs in netns.test.ts.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { badRequests } from '../../bench/faults/bad-requests';
import { SCENARIOS, formatFaults, runScenario } from '../../bench/faults';
import type { ScenarioResult } from '../../bench/faults/scenario';
import { PHOTONS_BIN, REPO_ROOT } from '../dispatcher/helpers';
import { ensurePrograms } from '../tools';

const QUICK_JOBS = 2_000;

function scenario(name: string) {
  const found = SCENARIOS.find((s) => s.name === name);
  assert.ok(found, `scenario ${name}`);
  return found;
}

function assertNoneLost(result: ScenarioResult): void {
  const report = formatFaults([result], true).lines.join('\n');
  assert.equal(result.skipped, undefined, report);
  assert.equal(result.jobs, QUICK_JOBS, report);
  assert.equal(result.lost, 0, report);
  assert.equal(result.completed, QUICK_JOBS, report);
  assert.ok(result.holds, report);
}

describe('bench faults --quick', function () {
  this.timeout(120_000);

  before(function () {
    const reason = ensurePrograms('redis-server');
    if (reason) {
      console.log(`      (skipped: the fault scenarios start private redis-servers, and ${reason})`);
      this.skip();
    }
  });

  it('is a suite of `photons bench`', () => {
    const run = spawnSync(process.execPath, [PHOTONS_BIN, 'bench', 'no-such-suite'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^ {2}faults: /m);
  });

  it('floods the API with at least 1,000 distinct kinds of bad request', () => {
    const requests = badRequests('token', 65_536);
    assert.ok(requests.length >= 1_000, `${requests.length} kinds`);
    const kinds = new Set(requests.map((r) => r.kind));
    for (const kind of [
      'bad JSON',
      'wrong fn',
      'unknown function',
      'invalid function name',
      'body over the limit',
      'bad token',
      'wrong method',
      'unknown path',
    ]) {
      assert.ok(kinds.has(kind), kind);
    }
  });

  it('SIGKILL of one dispatcher of three mid-run: every job completes', async () => {
    assertNoneLost(await runScenario(scenario('sigkill'), QUICK_JOBS, true));
  });

  it('Redis restarted mid-run (AOF everysec): every acknowledged enqueue completes', async () => {
    assertNoneLost(await runScenario(scenario('redis-restart'), QUICK_JOBS, true));
  });

  it('a job blocking its event loop among normal jobs: they complete, it fails as poison', async () => {
    const result = await runScenario(scenario('blocked-loop'), QUICK_JOBS, true);
    assertNoneLost(result);
    assert.match(result.notes.join('\n'), /failed as poison/);
  });

  it('a job exhausting its heap among normal jobs: they complete, it fails as poison', async () => {
    const result = await runScenario(scenario('heap-exhaustion'), QUICK_JOBS, true);
    assertNoneLost(result);
    assert.match(result.notes.join('\n'), /failed as poison/);
  });

  it('the API flooded with bad requests: 4xx for every one, still up, every good enqueue completes', async () => {
    const result = await runScenario(scenario('api-flood'), QUICK_JOBS, true);
    const report = formatFaults([result], true).lines.join('\n');
    const detail = result.detail as { badRequests: number; not4xx: number; apiAlive: boolean; goodAccepted: number };
    assert.ok(detail.badRequests >= 1_000, report);
    assert.equal(detail.not4xx, 0, report);
    assert.ok(detail.apiAlive, report);
    assertNoneLost(result);
  });
});
