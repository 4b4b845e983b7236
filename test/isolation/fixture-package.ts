// The isolation fixtures import a tiny package by its bare name, as functions import node_modules
// packages; it is kept in test/fixtures/isolation/runtime-state-package and installed here before
// the tests run, so that no node_modules folder is tracked by git.
import { cpSync, existsSync } from 'node:fs';
import * as path from 'node:path';

const ISOLATION = path.resolve(__dirname, '../../..', 'test', 'fixtures', 'isolation');

export function installFixturePackage(): void {
  const target = path.join(ISOLATION, 'node_modules', 'photons-fixture-runtime-state');
  if (!existsSync(target)) cpSync(path.join(ISOLATION, 'runtime-state-package'), target, { recursive: true });
}
