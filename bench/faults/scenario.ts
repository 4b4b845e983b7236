// What every fault scenario reports, and the sizes the suite runs them at.
import { randomBytes } from 'node:crypto';

export interface Counts {
  jobs: number;
  completed: number;
  duplicated: number;
  lost: number;
}

export interface ScenarioResult extends Counts {
  scenario: string;
  /** From the fault to the moment the jobs it interrupted had all finished; undefined: nothing to time. */
  recoveryMs: number | undefined;
  /** The scenario's own must-hold condition (every job completes, the culprit fails as poison, …). */
  holds: boolean;
  /** What happened, in a few words each: the reader's evidence for `holds`. */
  notes: string[];
  /** Figures of the scenario's own, for --json (the API flood's answers by status, …). */
  detail?: Record<string, unknown>;
  /** Why the scenario did not run here (no network namespaces, no redis-server). */
  skipped?: string;
}

export interface ScenarioSize {
  /** Jobs of the workload: at least 10,000 in the full suite. */
  jobs: number;
  quick: boolean;
}

export interface Scenario {
  name: string;
  /** The guarantee the scenario checks, as the table states it. */
  mustHold: string;
  run(size: ScenarioSize): Promise<ScenarioResult>;
}

export function scenarioPrefix(name: string): string {
  return `faults-${name}-${randomBytes(4).toString('hex')}`;
}

export function skipped(name: string, reason: string): ScenarioResult {
  return { scenario: name, jobs: 0, completed: 0, duplicated: 0, lost: 0, recoveryMs: undefined, holds: true, notes: [], skipped: reason };
}
