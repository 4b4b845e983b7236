// Each runtime's temporary folder (its photons' ctx.tmpdir live under it) is named after the host
// and process that made it, so that a dispatcher starting on this host can remove the folders of a
// process that was killed before it could (SIGKILL, power loss): nothing else ever would.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';

const PREFIX = 'photons-runtime-';
/** Host names may hold '-': the pid is the last number before the random suffix. */
const NAME = /^photons-runtime-([^-]+)-(\d+)-[A-Za-z0-9_-]+-[A-Za-z0-9]{6}$/;

/** A fresh folder for a runtime of function `fn` of this process. */
export function makeRuntimeFolder(fn: string): string {
  return mkdtempSync(path.join(tmpdir(), `${PREFIX}${safeHost()}-${process.pid}-${fn}-`));
}

/** Removes the runtime folders this host's dead processes left behind; returns how many. */
export function removeOrphanFolders(): number {
  let removed = 0;
  let entries: string[];
  try {
    entries = readdirSync(tmpdir());
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const match = NAME.exec(entry);
    // Only this host's: another host (or container) sharing the folder has pids of its own.
    if (!match || match[1] !== safeHost() || alive(Number(match[2]))) continue;
    rmSync(path.join(tmpdir(), entry), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

function safeHost(): string {
  return hostname().replace(/[^A-Za-z0-9.]/g, '_');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: a process of another user holds that pid, alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
