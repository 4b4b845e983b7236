// Runs a function with runLocal in a child process and returns its outcomes with the runtime's log
// records: a runtime's logger writes to file descriptor 2 directly (runLocal keeps stdout for results),
// so only a child's stderr shows them.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { LocalOutcome } from '../../dispatcher/local-run';

const REPO_ROOT = path.resolve(__dirname, '../../..');

export interface LogRecord {
  level: number;
  msg: string;
  jobId?: string;
  cleared?: number;
  origin?: string;
  err?: { message: string };
}

export async function runLogged(file: string, inputs: unknown[], concurrency = 1): Promise<{ outcomes: LocalOutcome[]; records: LogRecord[] }> {
  const script = `
    const { runLocal } = require(${JSON.stringify(path.join(REPO_ROOT, 'dist/dispatcher/local-run.js'))});
    const { loadConfig } = require(${JSON.stringify(path.join(REPO_ROOT, 'dist/config/index.js'))});
    runLocal(${JSON.stringify(file)}, ${JSON.stringify(inputs)}, { concurrency: ${concurrency}, config: loadConfig({ 'log.level': 'info' }) })
      .then((outcomes) => process.stdout.write(JSON.stringify(outcomes)));
  `;
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  const records = stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogRecord);
  return { outcomes: JSON.parse(stdout) as LocalOutcome[], records };
}
