/**
 * A host that drops pings, built only out of what the test creates: two network namespaces made for the test (the
 * prober's and the target's), joined by a veth pair whose link-local /30 (169.254.77.0/30) exists only inside them, and
 * an nftables (or iptables) rule in the target's namespace that drops ICMP echo requests. Nothing is added to the
 * host's own namespace; the probe reaches the target by running `ping` inside the prober namespace
 * (`ip netns exec <prober> ping …`, the SLA target's `command`). Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN), iproute2
 * and nftables or iptables; `netnsSupport()` says why not when they are missing.
 */
import { spawnSync } from 'node:child_process';

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim() };
}

const has = (bin: string, arg = '--version') => run(bin, [arg]).ok;

/** null when usable, else the reason (for the skip message). */
export function netnsSupport(): string | null {
  if (!has('ping', '-V')) return 'no ping binary (apt-get install iputils-ping)';
  if (!has('ip', '-V')) return 'no ip binary (apt-get install iproute2)';
  if (!has('nft') && !has('iptables')) return 'neither nft nor iptables (apt-get install nftables)';
  const probe = `rgzslachk${process.pid}`;
  const made = run('ip', ['netns', 'add', probe]);
  if (!made.ok) return `ip netns add is not permitted here (${made.out}); run as root`;
  run('ip', ['netns', 'del', probe]);
  return null;
}

export interface DropHost {
  /** Address of the target inside its namespace. */
  readonly address: string;
  /** Run ping from the prober namespace. */
  readonly command: string[];
  /** Drop ICMP echo requests from now on. */
  drop(): void;
  /** Answer them again. */
  allow(): void;
  close(): void;
}

export function createDropHost(tag: string): DropHost {
  const prober = `rgzslap${tag}`;
  const target = `rgzslat${tag}`;
  const vp = `rsp${tag}`.slice(0, 15);
  const vt = `rst${tag}`.slice(0, 15);
  const must = (args: string[], cmd = 'ip') => {
    const r = run(cmd, args);
    if (!r.ok) throw new Error(`${cmd} ${args.join(' ')}: ${r.out}`);
  };
  const useNft = has('nft');
  const inTarget = (cmd: string, args: string[]) => must(['netns', 'exec', target, cmd, ...args]);
  try {
    must(['netns', 'add', prober]);
    must(['netns', 'add', target]);
    must(['link', 'add', vp, 'netns', prober, 'type', 'veth', 'peer', 'name', vt, 'netns', target]);
    must(['-n', prober, 'addr', 'add', '169.254.77.1/30', 'dev', vp]);
    must(['-n', target, 'addr', 'add', '169.254.77.2/30', 'dev', vt]);
    for (const [ns, dev] of [
      [prober, vp],
      [target, vt],
    ] as const) {
      must(['-n', ns, 'link', 'set', 'lo', 'up']);
      must(['-n', ns, 'link', 'set', dev, 'up']);
    }
  } catch (err) {
    run('ip', ['netns', 'del', prober]);
    run('ip', ['netns', 'del', target]);
    throw err;
  }
  let dropping = false;
  return {
    address: '169.254.77.2',
    command: ['ip', 'netns', 'exec', prober, 'ping'],
    drop() {
      if (dropping) return;
      if (useNft) {
        inTarget('nft', ['add', 'table', 'inet', 'rgzsla']);
        inTarget('nft', ['add', 'chain', 'inet', 'rgzsla', 'input', '{ type filter hook input priority 0; policy accept; }']);
        inTarget('nft', ['add', 'rule', 'inet', 'rgzsla', 'input', 'icmp', 'type', 'echo-request', 'drop']);
      } else {
        inTarget('iptables', ['-A', 'INPUT', '-p', 'icmp', '--icmp-type', 'echo-request', '-j', 'DROP']);
      }
      dropping = true;
    },
    allow() {
      if (!dropping) return;
      if (useNft) inTarget('nft', ['delete', 'table', 'inet', 'rgzsla']);
      else inTarget('iptables', ['-D', 'INPUT', '-p', 'icmp', '--icmp-type', 'echo-request', '-j', 'DROP']);
      dropping = false;
    },
    close() {
      // Deleting the namespaces deletes the veth pair and the rules with them.
      run('ip', ['netns', 'del', prober]);
      run('ip', ['netns', 'del', target]);
    },
  };
}
