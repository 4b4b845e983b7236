// docker/Dockerfile and docker/compose.yaml read as text: they must name what the code expects
// (CLI commands and flags, PHOTONS_* variables of the schema, ports, paths read at run time).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { healthCommand } from '../../cli/health';
import { schema } from '../../config/schema';
import { REPO_ROOT, PHOTONS_BIN } from '../dispatcher/helpers';
import { envOf, parseDockerfile, type Stage } from './dockerfile';

const DOCKER_DIR = path.join(REPO_ROOT, 'docker');

/** Every PHOTONS_* variable the config schema reads. */
function schemaEnv(node: unknown = schema, found = new Map<string, unknown>()): Map<string, unknown> {
  if (node && typeof node === 'object') {
    const entry = node as { env?: unknown; default?: unknown };
    if (typeof entry.env === 'string') found.set(entry.env, entry.default);
    else for (const child of Object.values(node)) schemaEnv(child, found);
  }
  return found;
}

/** Whether `photons <name> --help` knows the command (the CLI answers unknown ones with exit 2). */
function cliKnows(name: string): boolean {
  const run = spawnSync(process.execPath, [PHOTONS_BIN, name, '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return run.status === 0 && run.stdout.includes(`Usage: photons ${name}`);
}

function assertKnownEnv(keys: Iterable<string>, where: string): void {
  const known = schemaEnv();
  // NODE_ENV is Node's; every other variable must be one the config reads, or it is silently ignored.
  for (const key of keys) if (key !== 'NODE_ENV') assert.ok(known.has(key), `${where} sets ${key}, which config/schema.ts does not read`);
}

/** The CLI invocation `node bin/photons.js <command> [flags]` from an exec-form array. */
function assertCliCall(words: readonly string[], where: string): void {
  assert.deepEqual(words.slice(0, 2), ['node', 'bin/photons.js'], `${where} runs the CLI`);
  assertCliArgs(words.slice(2), where);
}

function assertCliArgs([command, ...flags]: readonly string[], where: string): void {
  assert.ok(command && cliKnows(command), `${where}: "photons ${command}" is no CLI command`);
  if (command === 'health') {
    for (const flag of flags) assert.ok(flag.replace(/^--/, '') in healthCommand.options, `${where}: photons health has no ${flag}`);
  }
}

describe('docker files', function () {
  this.timeout(30_000);

  describe('Dockerfile', () => {
    const stages: Stage[] = parseDockerfile(readFileSync(path.join(DOCKER_DIR, 'Dockerfile'), 'utf8'));
    const final = stages.at(-1)!;
    const finalOf = (keyword: string) => final.instructions.filter((i) => i.keyword === keyword);

    it('is multi-stage: a named build stage, a runtime stage that copies from it and compiles nothing', () => {
      assert.ok(stages.length >= 2, `${stages.length} stage(s)`);
      const build = stages[0]!;
      assert.ok(build.name, 'the build stage has a name');
      assert.ok(
        build.instructions.some((i) => i.keyword === 'RUN' && /npm ci\b/.test(i.args) && /\btsc\b|npm run build\b/.test(i.args)),
        'the build stage installs and compiles',
      );
      const copies = finalOf('COPY');
      assert.ok(copies.length > 0 && copies.every((c) => c.flags.get('from') === build.name), 'the runtime stage copies only from the build stage');
      assert.ok(!finalOf('RUN').some((r) => /npm (ci|install)|tsc/.test(r.args)), 'no install or compiler in the runtime stage');
      assert.equal(final.image.split(':')[0], build.image.split(':')[0], 'the same Node.js base, so native modules match');
    });

    it('runs as a non-root USER before its entrypoint', () => {
      const user = finalOf('USER').at(-1);
      assert.ok(user, 'the runtime stage sets USER');
      assert.ok(!/^(root|0)(:|$)/.test(user.args), `USER ${user.args}`);
      assert.ok(final.instructions.indexOf(user) < final.instructions.indexOf(finalOf('ENTRYPOINT').at(-1)!), 'USER comes before ENTRYPOINT');
      assert.ok(copiesChownedTo(final, user.args), 'what it copies belongs to that user');
    });

    it('sets only PHOTONS_* variables that config/schema.ts reads, and exposes the API port it sets', () => {
      const env = envOf(final);
      assertKnownEnv(env.keys(), 'the Dockerfile');
      assert.equal(env.get('PHOTONS_API_HOST'), '0.0.0.0', 'the API must listen beyond the container loopback');
      assert.ok(env.get('PHOTONS_API_PORT'), 'the API port is pinned, so the healthcheck and compose agree on it');
      assert.deepEqual(
        finalOf('EXPOSE').flatMap((e) => e.words),
        [env.get('PHOTONS_API_PORT')],
      );
    });

    it('has an entrypoint, a default command and a healthcheck that the CLI knows', () => {
      const entrypoint = finalOf('ENTRYPOINT').at(-1)!.words;
      assert.deepEqual(entrypoint, ['node', 'bin/photons.js']);
      assertCliArgs(finalOf('CMD').at(-1)!.words, 'CMD');
      const health = finalOf('HEALTHCHECK').at(-1);
      assert.ok(health, 'HEALTHCHECK');
      assertCliCall(health.words, 'HEALTHCHECK');
    });

    it('copies what the compiled code reads at run time, from paths that exist', () => {
      const copied = finalOf('COPY').map((c) => c.words[0]!.replace(/^\/app\//, ''));
      for (const needed of ['package.json', 'node_modules', 'dist', 'bin']) {
        assert.ok(copied.includes(needed), `the runtime stage copies ${needed}`);
      }
      // The image serves only the functions the operator mounts: no example, no benchmark workload.
      for (const source of copied) assert.doesNotMatch(source, /^(functions|bench|examples|test)\b/, `the runtime stage copies ${source}`);
      // The dashboard reads these at start (without them `photons api` exits): the build copies them
      // into dist/, which the image copies.
      const buildScript = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.build!;
      assert.match(buildScript, /producer\/api\/monitoring\/public', 'dist\/producer\/api\/monitoring\/public'/);
      for (const file of ['index.html', 'login.html', 'dashboard.js', 'dashboard.css']) {
        assert.ok(existsSync(path.join(REPO_ROOT, 'dist/producer/api/monitoring/public', file)), file);
      }
      for (const copy of stages[0]!.instructions.filter((i) => i.keyword === 'COPY')) {
        for (const source of copy.words.slice(0, -1)) assert.ok(existsSync(path.join(REPO_ROOT, source)), `COPY ${source}`);
      }
      const ignored = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
        .split('\n')
        .map((l) => l.trim());
      for (const kept of ['node_modules', 'dist']) assert.ok(ignored.includes(kept), `.dockerignore keeps the host's ${kept} out of the build`);
    });
  });

  describe('compose.yaml', () => {
    type Service = {
      image?: string;
      build?: { context: string; dockerfile: string };
      command?: string[];
      environment?: Record<string, string>;
      ports?: string[];
      volumes?: string[];
      healthcheck?: { test: string[] };
      stop_grace_period?: string;
    };
    const compose = parseYaml(readFileSync(path.join(DOCKER_DIR, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
    const services = compose.services;
    const photons = Object.entries(services).filter(([, s]) => s.build !== undefined);
    const imageEnv = envOf(parseDockerfile(readFileSync(path.join(DOCKER_DIR, 'Dockerfile'), 'utf8')).at(-1)!);

    it('has Redis, the API and the dispatchers, built from docker/Dockerfile', () => {
      assert.deepEqual(Object.keys(services).sort(), ['api', 'dispatcher', 'redis']);
      assert.deepEqual(photons.map(([name]) => name).sort(), ['api', 'dispatcher']);
      for (const [name, service] of photons) {
        assert.ok(existsSync(path.join(DOCKER_DIR, service.build!.context, service.build!.dockerfile)), `${name}: build.dockerfile`);
      }
    });

    it('runs Redis with AOF fsynced every second, and a healthcheck the photons services wait for', () => {
      const command = services.redis!.command!.join(' ');
      assert.match(command, /--appendonly yes/);
      assert.match(command, /--appendfsync everysec/);
      assert.ok(services.redis!.healthcheck, 'redis healthcheck');
    });

    it('sets only PHOTONS_* variables the schema reads, with Redis at the redis service', () => {
      for (const [name, service] of photons) {
        assertKnownEnv(Object.keys(service.environment ?? {}), `compose service ${name}`);
        const url = new URL(service.environment!.PHOTONS_REDIS_URL!.replace(/^\$\{PHOTONS_REDIS_URL:-(.*)\}$/, '$1'));
        assert.equal(url.hostname, 'redis', `${name} reaches the redis service`);
        assert.equal(url.port || '6379', '6379');
        const functionsDir = service.environment!.PHOTONS_FUNCTIONS_DIR;
        assert.ok(
          service.volumes!.some((v) => v.split(':')[1] === functionsDir),
          `${name} mounts the functions at ${functionsDir}`,
        );
      }
    });

    it('runs CLI commands, with healthchecks the CLI knows', () => {
      for (const [name, service] of photons) assertCliArgs(service.command!, `compose service ${name}`);
      const api = services.api!;
      assert.equal(api.healthcheck!.test[0], 'CMD');
      assertCliCall(api.healthcheck!.test.slice(1), 'compose api healthcheck');
      assert.ok(api.healthcheck!.test.includes('--api'), 'the API healthcheck asks the API, not only Redis');
    });

    it('publishes the port the API listens on, and asks for a token since it binds beyond loopback', () => {
      const env = { ...Object.fromEntries(imageEnv), ...services.api!.environment };
      assert.equal(env.PHOTONS_API_HOST, '0.0.0.0');
      const published = services.api!.ports!.map((p) => p.split(':').at(-1));
      assert.deepEqual(published, [String(env.PHOTONS_API_PORT)]);
      assert.match(String(env.PHOTONS_API_TOKEN), /^\$\{PHOTONS_API_TOKEN:\?/, 'compose refuses to start without a token');
    });

    it('gives a stopping dispatcher longer than its shutdown grace period', () => {
      const grace = Number(services.dispatcher!.environment?.PHOTONS_SHUTDOWN_GRACE_MS ?? schemaEnv().get('PHOTONS_SHUTDOWN_GRACE_MS'));
      const stop = /^(\d+)s$/.exec(services.dispatcher!.stop_grace_period ?? '');
      assert.ok(stop, 'stop_grace_period in seconds');
      assert.ok(Number(stop[1]) * 1000 > grace, `stop_grace_period ${stop[1]} s must exceed the ${grace} ms grace, or Docker SIGKILLs running jobs`);
    });
  });
});

/** Whether every COPY of the stage hands its files to `user` (they are read-only to it otherwise). */
function copiesChownedTo(stage: Stage, user: string): boolean {
  const name = user.split(':')[0];
  return stage.instructions.filter((i) => i.keyword === 'COPY').every((c) => c.flags.get('chown')?.split(':')[0] === name);
}
