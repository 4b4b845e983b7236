// Hosts on one machine: each a network namespace joined by a veth pair to a bridge in the root
// namespace that carries the Redis address. Cutting a host sets its veth down; only addresses of
// the namespaces created here (and loopback) are ever used. Names are unique per run.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface VirtualHost {
  /** The network namespace: run a process in it with `ip netns exec <netns> …`. */
  netns: string;
  /** Root-namespace end of its veth pair: setting it down cuts the host off. */
  link: string;
  /** Its address on the virtual network. */
  address: string;
}

/** The namespaces exist and the veths are torn down even when the process exits abruptly. */
const live = new Set<VirtualNetwork>();
process.once('exit', () => {
  for (const network of live) network.destroy();
});

export class VirtualNetwork {
  private destroyed = false;

  private constructor(
    /** Address of the bridge, the one Redis binds to beside loopback. */
    readonly gateway: string,
    readonly bridge: string,
    readonly hosts: VirtualHost[],
  ) {}

  /** Why namespaces cannot be made here, or undefined when they can. */
  static unavailable(): string | undefined {
    if (process.platform !== 'linux') return 'network namespaces need Linux';
    if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
    if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return 'the `ip` command (Debian package iproute2) is not installed';
    const probe = `photons-probe-${randomBytes(3).toString('hex')}`;
    const added = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
    if (added.status !== 0) return `\`ip netns add\` fails here: ${added.stderr.trim()}`;
    spawnSync('ip', ['netns', 'del', probe]);
    return undefined;
  }

  /** A bridge on 10.231.<random>.0/24 (.1 the gateway) and `count` hosts at .11, .12, … */
  static create(count: number): VirtualNetwork {
    const id = randomBytes(3).toString('hex');
    const subnet = `10.231.${pickOctet()}`;
    // Interface names are at most 15 characters: pf + 6 hex + role + index.
    const network = new VirtualNetwork(
      `${subnet}.1`,
      `pf${id}br`,
      Array.from({ length: count }, (_, k) => ({ netns: `photons-${id}-${k}`, link: `pf${id}h${k}`, address: `${subnet}.${11 + k}` })),
    );
    live.add(network);
    try {
      ip('link', 'add', network.bridge, 'type', 'bridge');
      ip('addr', 'add', `${network.gateway}/24`, 'dev', network.bridge);
      ip('link', 'set', network.bridge, 'up');
      network.hosts.forEach((host, k) => {
        const inside = `pf${id}n${k}`;
        ip('netns', 'add', host.netns);
        ip('link', 'add', host.link, 'type', 'veth', 'peer', 'name', inside);
        ip('link', 'set', inside, 'netns', host.netns);
        ip('link', 'set', host.link, 'master', network.bridge);
        ip('link', 'set', host.link, 'up');
        ip('-n', host.netns, 'addr', 'add', `${host.address}/24`, 'dev', inside);
        ip('-n', host.netns, 'link', 'set', inside, 'up');
        ip('-n', host.netns, 'link', 'set', 'lo', 'up');
      });
    } catch (err) {
      network.destroy();
      throw err;
    }
    return network;
  }

  /** Cuts the host off the network: its connections stall, nothing is reset. */
  cut(host: VirtualHost): void {
    ip('link', 'set', host.link, 'down');
  }

  restore(host: VirtualHost): void {
    ip('link', 'set', host.link, 'up');
  }

  /** Removes the namespaces (their veth ends go with them) and the bridge; safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const host of this.hosts) {
      spawnSync('ip', ['link', 'del', host.link], { stdio: 'ignore' });
      spawnSync('ip', ['netns', 'del', host.netns], { stdio: 'ignore' });
    }
    spawnSync('ip', ['link', 'del', this.bridge], { stdio: 'ignore' });
  }
}

function ip(...args: string[]): void {
  const run = spawnSync('ip', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${(run.stderr || run.error?.message || '').trim()}`);
}

/** A third octet no address on this machine uses yet, so parallel runs do not share a subnet. */
function pickOctet(): number {
  const used = spawnSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }).stdout ?? '';
  for (;;) {
    const octet = randomBytes(1)[0]!;
    if (!used.includes(`10.231.${octet}.`)) return octet;
  }
}
