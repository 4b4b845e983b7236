// Several hosts on one machine: dispatchers in network namespaces of their own reach Redis over a
// virtual network; a host cut off for 20 s loses no job (the others take them back) and rejoins.
// Needs root (it installs `ip` when missing); skipped elsewhere, which fails a CI run.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { runScenario, formatFaults } from '../../bench/faults';
import { networkCutScenario } from '../../bench/faults/network-cut';
import { VirtualNetwork, type VirtualHost } from '../../bench/faults/network';
import { startRedisServer, type LocalRedis } from '../../dispatcher/redis-server';
import { ensurePrograms } from '../tools';

/** Whether a process in the host's namespace can open a connection to `address:port` within 1.5 s. */
function reaches(host: VirtualHost, address: string, port: string): boolean {
  const script = `require('node:net').connect(${port}, '${address}').setTimeout(1500, function () { process.exit(1); }).on('connect', function () { process.exit(0); }).on('error', function () { process.exit(1); });`;
  return spawnSync('ip', ['netns', 'exec', host.netns, process.execPath, '-e', script], { timeout: 5_000 }).status === 0;
}

function leftovers(network: VirtualNetwork): string[] {
  const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;
  return [...network.hosts.flatMap((h) => [h.netns, h.link]), network.bridge].filter(
    (name) => namespaces.includes(name) || links.includes(`${name}:`) || links.includes(`${name}@`),
  );
}

describe('hosts in network namespaces', function () {
  this.timeout(180_000);
  let network: VirtualNetwork | undefined;
  let redis: LocalRedis | undefined;

  before(function () {
    const reason = ensurePrograms('ip') ?? VirtualNetwork.unavailable();
    if (reason) {
      console.log(`      (skipped: ${reason}; run as root with iproute2 installed to cover several hosts on one machine)`);
      this.skip();
    }
  });

  afterEach(async () => {
    await redis?.stop();
    redis = undefined;
    network?.destroy();
    network = undefined;
  });

  it('reach Redis on the bridge; a cut host does not until its link is back; nothing is left behind', async () => {
    network = VirtualNetwork.create(2);
    redis = await startRedisServer(['--bind', '127.0.0.1', network.gateway, '--protected-mode', 'no']);
    const port = new URL(redis.url).port;
    const [cut, other] = network.hosts as [VirtualHost, VirtualHost];
    assert.ok(reaches(cut, network.gateway, port), 'host 0 reaches Redis');
    assert.ok(reaches(other, network.gateway, port), 'host 1 reaches Redis');
    assert.ok(!reaches(cut, '127.0.0.1', port), "a namespace's loopback is its own");

    network.cut(cut);
    assert.ok(!reaches(cut, network.gateway, port), 'the cut host is off the network');
    assert.ok(reaches(other, network.gateway, port), 'the other host is not');
    network.restore(cut);
    assert.ok(reaches(cut, network.gateway, port), 'the host is back');

    const made = network;
    network.destroy();
    network = undefined;
    assert.deepEqual(leftovers(made), []);
  });

  it(`a host cut off for 20 s mid-run: every job completes, its jobs are taken back, it rejoins and serves again`, async () => {
    const result = await runScenario(networkCutScenario, 2_000, true);
    const report = formatFaults([result], true).lines.join('\n');
    assert.equal(result.skipped, undefined, report);
    assert.equal(result.lost, 0, report);
    assert.equal(result.completed, 2_000, report);
    const detail = result.detail as { rejoined: boolean; completedAfterRejoin: number; takenBack: number };
    assert.ok(detail.rejoined, report);
    assert.ok(detail.completedAfterRejoin > 0, report);
    assert.ok(detail.takenBack > 0, report);
    assert.ok(result.holds, report);
  });
});
