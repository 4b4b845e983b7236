// `photons bench faults`: real workloads under faults (a dispatcher SIGKILLed, Redis restarted, a
// host cut off its network, runtimes blocked or out of heap, the API flooded with bad requests),
// counting per job how often it completed: lost must be 0 everywhere; duplicates are reported.
import { machine, table, type SuiteOptions, type SuiteReport } from '../report';
import { apiFloodScenario } from './api-flood';
import { networkCutScenario } from './network-cut';
import { blockedLoopScenario, heapExhaustionScenario } from './poison';
import { redisRestartScenario } from './redis-restart';
import type { Scenario, ScenarioResult } from './scenario';
import { sigkillScenario } from './sigkill';

export const SCENARIOS: readonly Scenario[] = [
  sigkillScenario,
  redisRestartScenario,
  networkCutScenario,
  blockedLoopScenario,
  heapExhaustionScenario,
  apiFloodScenario,
];

export async function faultsBench(options: SuiteOptions): Promise<SuiteReport> {
  const jobs = options.quick ? 2_000 : 10_000;
  const results: ScenarioResult[] = [];
  for (const scenario of SCENARIOS) {
    if (!options.json) process.stderr.write(`faults: ${scenario.name} (${scenario.mustHold})…\n`);
    results.push(await runScenario(scenario, jobs, options.quick));
  }
  return formatFaults(results, options.quick);
}

/** Runs one scenario; a scenario that throws is reported as not holding, with the error. */
export async function runScenario(scenario: Scenario, jobs: number, quick: boolean): Promise<ScenarioResult> {
  try {
    return await scenario.run({ jobs, quick });
  } catch (err) {
    return {
      scenario: scenario.name,
      jobs,
      completed: 0,
      duplicated: 0,
      lost: jobs,
      recoveryMs: undefined,
      holds: false,
      notes: [`the scenario failed: ${err instanceof Error ? err.message : String(err)}`],
    };
  }
}

export function formatFaults(results: readonly ScenarioResult[], quick: boolean): SuiteReport {
  const ran = results.filter((r) => !r.skipped);
  const lost = ran.reduce((sum, r) => sum + r.lost, 0);
  const duplicated = ran.reduce((sum, r) => sum + r.duplicated, 0);
  const holds = ran.every((r) => r.holds);
  const mustHold = new Map(SCENARIOS.map((s) => [s.name, s.mustHold]));
  const lines = [
    `Fault scenarios${quick ? ' (--quick)' : ''}: delivery is at least once, so duplicates are counted, not hidden; lost must be 0.`,
    '',
    ...table(
      ['scenario', 'jobs', 'completed', 'duplicated', 'lost', 'recovery', 'holds'],
      results.map((r) =>
        r.skipped
          ? [r.scenario, '-', '-', '-', '-', '-', 'skipped']
          : [
              r.scenario,
              r.jobs,
              r.completed,
              r.duplicated,
              r.lost,
              r.recoveryMs === undefined ? '-' : `${(r.recoveryMs / 1000).toFixed(1)} s`,
              r.holds ? 'yes' : 'NO',
            ],
      ),
    ),
    '',
    ...results.map((r) => `${r.scenario} (${mustHold.get(r.scenario) ?? ''}): ${r.skipped ? `skipped: ${r.skipped}` : r.notes.join('; ')}`),
    '',
    `lost in total: ${lost} (target 0: ${lost === 0 ? 'met' : 'MISSED'}); duplicated: ${duplicated}; every scenario holds: ${holds ? 'yes' : 'NO'}`,
  ];
  return {
    lines,
    result: {
      suite: 'faults',
      quick,
      lost,
      duplicated,
      holds,
      scenarios: results.map((r) => ({ ...r, recoveryMs: r.recoveryMs ?? null })),
      targets: { lost: 0 },
      machine: machine(),
    },
  };
}
