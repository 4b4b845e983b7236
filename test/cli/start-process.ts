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

/** The keys of a JSON object's top level, in order, duplicates kept (JSON.parse keeps the last). */
export function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      const after = json.slice(end + 1).trimStart();
      if (depth === 1 && after.startsWith(':')) keys.push(JSON.parse(json.slice(i, end + 1)) as string);
      i = end;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}
