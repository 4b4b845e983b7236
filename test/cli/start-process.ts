// `photons start` as a user runs it: a child process of bin/photons.js, its log lines collected,
// ready once the API listens, stopped with a signal.
import { spawn, type ChildProcess } from 'node:child_process';
import { PHOTONS_BIN } from '../producer/helpers';

export interface StartProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once a line matches (or rejects when the process exits first). */
  waitFor(pattern: RegExp): Promise<void>;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

export function spawnStart(env: NodeJS.ProcessEnv, args: string[] = ['start']): StartProcess {
  const child = spawn(process.execPath, [PHOTONS_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const check of [...waiters]) check();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor(pattern) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(stdout)) {
            waiters.splice(waiters.indexOf(check), 1);
            resolve();
          }
        };
        waiters.push(check);
        check();
        void exited.then((code) => reject(new Error(`photons exited (${code}) before printing ${pattern}:\n${stdout}\n${stderr}`)));
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
