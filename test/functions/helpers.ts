// Shared by the example-function tests: where the function sources are, and how to read a
// runLocal outcome with a useful failure message.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { LocalOutcome } from '../../dispatcher/local-run';
import type { SerializedError } from '../../errors';

/** The repository root, from build/test/functions where the compiled tests run. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
/** The paper's workloads, with a package.json and node_modules of their own. */
export const WORKLOADS_DIR = path.join(REPO_ROOT, 'bench', 'workloads');

export function functionFile(name: string): string {
  return path.join(WORKLOADS_DIR, `${name}.ts`);
}

/** A package the workloads depend on (jimp, …): installed in bench/workloads, not at the root. */
export const workloadRequire = createRequire(path.join(WORKLOADS_DIR, 'package.json'));

/** The value of a successful outcome; fails the test with the job's error otherwise. */
export function valueOf<T>(outcome: LocalOutcome | undefined): T {
  if (!outcome) throw new Error('no outcome');
  if (!outcome.ok) {
    throw new Error(`job ${outcome.index} failed: ${outcome.error.code} ${outcome.error.message}`);
  }
  return outcome.value as T;
}

/** The error of a failed outcome; fails the test if the job succeeded. */
export function errorOf(outcome: LocalOutcome | undefined): SerializedError {
  if (!outcome) throw new Error('no outcome');
  if (outcome.ok) {
    throw new Error(`job ${outcome.index} succeeded with ${JSON.stringify(outcome.value)} but should have failed`);
  }
  return outcome.error;
}
