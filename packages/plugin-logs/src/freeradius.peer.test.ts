/**
 * A real FreeRADIUS 3.2 (Debian `freeradius`) as the log source: a minimal configuration (files + pap, `log { auth = yes,
 * auth_badpass = yes, destination = files }`) in a temporary directory, run in the foreground; radclient authenticates
 * (accept, wrong password, unknown user with a Calling-Station-Id); the plugin follows radius.log (type raw, index
 * radius) and the FreeRADIUS parser turns the real lines into records. Skipped when freeradius or radclient is missing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, tempDir, type World } from './test-support/world.js';

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const available = has('freeradius') && has('radclient');

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function config(dir: string, port: number): string {
  return `prefix = /usr
localstatedir = ${dir}
logdir = ${dir}/log
raddbdir = ${dir}
run_dir = ${dir}
libdir = /usr/lib/freeradius
pidfile = ${dir}/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {
  destination = files
  file = ${dir}/log/radius.log
  stripped_names = no
  auth = yes
  auth_badpass = yes
  auth_goodpass = no
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = no
}
thread pool {
  start_servers = 1
  max_servers = 2
  min_spare_servers = 1
  max_spare_servers = 2
  max_requests_per_server = 0
}
client localhost {
  ipaddr = 127.0.0.1
  secret = testing123
  require_message_authenticator = no
  shortname = nas-cotonou-1
}
modules {
  files {
    filename = ${dir}/users
  }
  pap {
  }
}
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = ${port}
  }
  authorize {
    files
    pap
  }
  authenticate {
    Auth-Type PAP {
      pap
    }
  }
}
`;
}

describe.skipIf(!available)('FreeRADIUS 3.2 radius.log through the plugin', () => {
  const dir = tempDir('rgz-freeradius-');
  let port = 0;
  let radiusd: ChildProcess | undefined;
  let w: World;

  beforeAll(async () => {
    port = await freeUdpPort();
    mkdirSync(join(dir, 'log'), { recursive: true });
    writeFileSync(join(dir, 'radiusd.conf'), config(dir, port));
    writeFileSync(join(dir, 'users'), 'alice Cleartext-Password := "s3cret-ok"\n');
    writeFileSync(join(dir, 'log', 'radius.log'), '');
    const check = spawnSync('freeradius', ['-XC', '-d', dir], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    w = await startWorld({ config: { files: [{ path: join(dir, 'log', 'radius.log'), type: 'raw', index: 'radius', startAt: 'beginning' }] } });
    radiusd = spawn('freeradius', ['-f', '-d', dir], { stdio: 'ignore' });
    await waitFor(async () => {
      await w.logs.flush();
      return (await w.logs.search({ text: 'Ready to process requests', limit: 1 })).items.length > 0;
    }, 15_000);
  });
  afterAll(async () => {
    radiusd?.kill('SIGTERM');
    await w?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const radclient = (attrs: string) => {
    const r = spawnSync('radclient', ['-r', '1', '-t', '3', `127.0.0.1:${port}`, 'auth', 'testing123'], { input: attrs, encoding: 'utf8' });
    return r.stdout;
  };
  const find = (query: Record<string, string>) =>
    waitFor(async () => {
      await w.logs.flush();
      const r = await w.logs.search({ since: new Date(Date.now() - 3_600_000), limit: 10, ...query });
      return r.items.length ? r.items : undefined;
    }, 15_000);

  it('Login OK, Login incorrect (wrong password, never copied), unknown user with Calling-Station-Id', async () => {
    expect(radclient('User-Name = "alice", User-Password = "s3cret-ok", Calling-Station-Id = "24-A4-3C-0A-0B-0C"')).toMatch(/Access-Accept/);
    expect(radclient('User-Name = "alice", User-Password = "wr0ng-pass"')).toMatch(/Access-Reject/);
    expect(radclient('User-Name = "mallory", User-Password = "x", Calling-Station-Id = "AA-BB-CC-DD-EE-FF"')).toMatch(/Access-Reject/);

    const [ok] = await find({ mac: '24:a4:3c:0a:0b:0c' });
    expect(ok).toMatchObject({ kind: 'auth.login_ok', parser: 'freeradius', user: 'alice', client: 'nas-cotonou-1', result: 'success', syslog_format: 'raw' });
    expect(ok?._index).toMatch(/^logstash-radius-\d{4}\.\d{2}\.\d{2}$/);
    // The ctime FreeRADIUS wrote (this machine runs in UTC) is the event time.
    expect(Math.abs(Date.parse(String(ok?.['@timestamp'])) - Date.now())).toBeLessThan(60_000);

    const failed = (await find({ subscriber: 'alice' })).filter((r) => r.kind === 'auth.login_failed');
    expect(failed[0]).toMatchObject({ module: 'pap', reason: 'Cleartext password does not match "known good" password', result: 'failure' });
    expect(JSON.stringify({ ...failed[0], message: undefined })).not.toContain('wr0ng-pass');

    const [mallory] = await find({ mac: 'aa-bb-cc-dd-ee-ff' });
    expect(mallory).toMatchObject({ kind: 'auth.login_failed', user: 'mallory' });
    expect(String(mallory?.reason)).toMatch(/No Auth-Type found/);

    // FreeRADIUS's Info lines are kept, raw, in the same index.
    const [info] = await find({ text: 'Ready to process requests' });
    expect(info?.kind).toBeUndefined();
    expect(info?._index).toMatch(/^logstash-radius-/);
  });
});
