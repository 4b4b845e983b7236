// A Redis Cluster of our own on this machine: N masters (redis-server --cluster-enabled yes on free
// loopback ports), joined by `redis-cli --cluster create`. The cluster test and benchmark run on
// it; it keeps nothing once stopped.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ErrorCodes, PhotonsError } from '../errors';
import { Redis } from 'ioredis';
import { checkRedis } from '../contract/redis';
import { freePort, startRedisServer, type LocalRedis } from '../dispatcher/redis-server';

export interface LocalCluster {
  /** The nodes' URLs, comma-separated: what PHOTONS_REDIS_URL takes with PHOTONS_REDIS_CLUSTER=true. */
  url: string;
  nodes: LocalRedis[];
  stop(): Promise<void>;
}

/** Why no local cluster can be made here, or undefined when it can. */
export function clusterUnavailable(): string | undefined {
  for (const tool of ['redis-server', 'redis-cli']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) return `${tool} is not on the PATH`;
  }
  return undefined;
}

/**
 * `masters` masters, each with `replicas` replicas (a replica takes over when its master stops
 * answering for `nodeTimeoutMs`).
 */
export async function startRedisCluster(masters = 3, replicas = 0, nodeTimeoutMs = 5_000): Promise<LocalCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'photons-cluster-'));
  const nodes: LocalRedis[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const count = masters * (1 + replicas);
    const ports = await distinctFreePorts(count * 2);
    for (let i = 0; i < count; i++) {
      const [port, busPort] = [ports[2 * i]!, ports[2 * i + 1]!];
      nodes.push(
        await startRedisServer(
          [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            path.join(dir, `nodes-${port}.conf`),
            // The bus port is chosen too, not port + 10000, which may be taken.
            '--cluster-port',
            String(busPort),
            '--cluster-node-timeout',
            String(nodeTimeoutMs),
            '--dir',
            dir,
            // A replica syncs at once rather than waiting for others: it can take over only once synced.
            '--repl-diskless-sync-delay',
            '0',
          ],
          port,
        ),
      );
    }
    const addresses = nodes.map((node) => new URL(node.url).host);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes']);
    const url = nodes.map((node) => node.url).join(',');
    // Every node must agree that every slot is served before the first job goes in.
    const deadline = Date.now() + 20_000;
    for (const node of nodes) {
      while (!(await checkRedis({ url: node.url, cluster: true }).catch(() => false))) {
        if (Date.now() > deadline) throw new PhotonsError(ErrorCodes.REDIS_UNAVAILABLE, `the local Redis Cluster at ${url} did not reach cluster_state:ok`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    if (replicas > 0) await replicasInSync(nodes, masters * replicas, deadline);
    return { url, nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Waits until `expected` replicas have their master link up: until then, none could take over. */
async function replicasInSync(nodes: LocalRedis[], expected: number, deadline: number): Promise<void> {
  const clients = nodes.map((node) => new Redis(node.url, { lazyConnect: true, maxRetriesPerRequest: 1 }));
  try {
    for (;;) {
      const infos = await Promise.all(clients.map((client) => client.info('replication')));
      if (infos.filter((info) => /role:slave/.test(info) && /master_link_status:up/.test(info)).length >= expected) return;
      if (Date.now() > deadline + 20_000)
        throw new PhotonsError(ErrorCodes.REDIS_UNAVAILABLE, 'the replicas of the local Redis Cluster did not sync with their masters');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    for (const client of clients) client.disconnect();
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new PhotonsError(ErrorCodes.REDIS_UNAVAILABLE, `${command} ${args.join(' ')} failed (exit ${code}): ${output.trim().slice(-500)}`)),
    );
  });
}
