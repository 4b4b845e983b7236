// The system programs some tests drive (redis-server and redis-cli, Chromium, `ip`). A test that
// lacks one installs it when it can (root with apt-get, as on CI) rather than skip: a skipped test
// covers nothing, and with `CI` set mocha fails the run for it (forbidPending in .mocharc.js).
import { spawnSync } from 'node:child_process';

/** The Debian package that brings each program. */
const PACKAGES: Record<string, string> = {
  'redis-server': 'redis-server',
  'redis-cli': 'redis-server',
  chromium: 'chromium',
  ip: 'iproute2',
};

function present(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v "$1" >/dev/null`, 'sh', program], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes sure every program is on the PATH, installing the missing ones with apt-get when running
 * as root. Returns why one is still missing, or undefined when all are there.
 */
export function ensurePrograms(...programs: string[]): string | undefined {
  const missing = programs.filter((program) => !present(program));
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((program) => PACKAGES[program] ?? program))];
  if (process.getuid?.() !== 0 || !present('apt-get')) {
    return `${missing.join(', ')} not on the PATH (as root: apt-get install -y ${packages.join(' ')})`;
  }
  console.log(`      (installing ${packages.join(' ')} with apt-get for this test)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  const installed = spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { encoding: 'utf8', env });
  const still = programs.filter((program) => !present(program));
  if (still.length === 0) return undefined;
  return `${still.join(', ')} not on the PATH after apt-get install ${packages.join(' ')}: ${installed.stderr.trim().split('\n').slice(-3).join(' ')}`;
}
