// Where the sample traces are: the copy in the repository (bench/traces), else the shared folder
// beside the repository that CI provides.
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** The repository root, from build/bench/trace where this runs compiled. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export function traceFixturesDir(repoRoot = REPO_ROOT): string {
  const inRepo = path.join(repoRoot, 'bench', 'traces');
  if (existsSync(path.join(inRepo, 'azure2021-sample-200.csv'))) return inRepo;
  return path.resolve(repoRoot, '..', 'shared', 'traces');
}
