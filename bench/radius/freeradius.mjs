// FreeRADIUS 3.2 (Debian) as the peer of bench/radius-auth.mjs: a private copy of /etc/freeradius/3.0 per backend
// (files, rlm_sql on PostgreSQL, rlm_rest → RGZ), started in the foreground and stopped by the bench.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SYSTEM_RADDB = '/etc/freeradius/3.0';

/**
 * The PostgreSQL side of the rlm_sql peer, in its own schema of the RGZ database: FreeRADIUS's own `radacct` (from
 * Debian's schema.sql) for accounting, and the tables rlm_sql reads at authorize time as views over RGZ's tables, so
 * both servers look the same subscribers and plans up. The portal token lives in RGZ's KV, which rlm_sql cannot read:
 * the bench copies it into `freeradius.bench_tokens`.
 */
export function sqlPeerSchema() {
  return `
drop schema if exists freeradius cascade;
create schema freeradius;
set search_path = freeradius;
\\i /etc/freeradius/3.0/mods-config/sql/main/postgresql/schema.sql
drop table radcheck, radreply, radgroupcheck, radgroupreply, radusergroup;
create table bench_tokens (subscriber_id uuid primary key references public.subscribers(id), token text not null);
create view radcheck as
  select 1 as id, s.subscriber_ref as username, 'Cleartext-Password'::text as attribute, ':='::text as op, t.token as value
  from public.subscribers s join bench_tokens t on t.subscriber_id = s.id where s.status = 'active';
create view radreply as
  select 1 as id, s.subscriber_ref as username, 'Class'::text as attribute, '='::text as op, 'rgz:' || s.id as value
  from public.subscribers s;
create view radusergroup as
  select s.subscriber_ref as username, p.code as groupname, 1 as priority
  from public.subscribers s join public.subscriptions x on x.subscriber_id = s.id join public.plans p on p.id = x.plan_id
  where x.starts_at <= now() and x.expires_at > now();
create view radgroupcheck as
  select 1 as id, ''::text as groupname, ''::text as attribute, ''::text as op, ''::text as value where false;
create view radgroupreply as
  select 1 as id, p.code as groupname, 'Mikrotik-Rate-Limit'::text as attribute, ':='::text as op,
         p.rate_up_kbps || 'k/' || p.rate_down_kbps || 'k' as value
  from public.plans p where p.rate_up_kbps is not null and p.rate_down_kbps is not null
  union all
  select 2, p.code, 'Acct-Interim-Interval', ':=', '300' from public.plans p
  union all
  select 3, p.code, 'Session-Timeout', ':=', '86400' from public.plans p;
`;
}

/**
 * Writes a raddb for one backend and returns its folder. `backend`: 'files' | 'sql' | 'rest' (`rest.dir`: the
 * FreeRADIUS files of plugin-radius; `env`: RGZ_URL and RGZ_REST_TOKEN, which they read).
 * Debian defaults are kept (thread pool 5–32, cleanup_delay 5) except: no user switch, private log/run folders,
 * reject_delay 0, max_requests 262144, 4 MiB socket receive buffers (radius.md §13a: losses are buffer overflows), no EAP (needs certificates).
 */
export function writeRaddb(dir, { backend, authPort, acctPort, secret, users, db, rest, env = {} }) {
  rmSync(dir, { recursive: true, force: true });
  cpSync(SYSTEM_RADDB, dir, { recursive: true, dereference: false });
  mkdirSync(join(dir, 'log'), { recursive: true });
  mkdirSync(join(dir, 'run'), { recursive: true });
  let conf = readFileSync(join(dir, 'radiusd.conf'), 'utf8');
  conf = conf
    .replace(/^raddbdir = .*$/m, `raddbdir = ${dir}`)
    .replace(/^logdir = .*$/m, `logdir = ${dir}/log`)
    .replace(/^run_dir = .*$/m, `run_dir = ${dir}/run`)
    .replace(/^(\s*)user = freerad/m, '$1#user = freerad')
    .replace(/^(\s*)group = freerad/m, '$1#group = freerad')
    .replace(/^(\s*)reject_delay = 1/m, '$1reject_delay = 0')
    // Answered requests stay tracked for cleanup_delay (5 s): at 20k/s the default 16384 would drop new ones.
    .replace(/^max_requests = \d+/m, 'max_requests = 262144');
  writeFileSync(join(dir, 'radiusd.conf'), conf);
  for (const m of ['eap', 'sql', 'rest']) rmSync(join(dir, 'mods-enabled', m), { force: true });
  rmSync(join(dir, 'sites-enabled'), { recursive: true, force: true });
  mkdirSync(join(dir, 'sites-enabled'));
  writeFileSync(join(dir, 'clients.conf'), `client bench {\n\tipaddr = 127.0.0.1\n\tsecret = ${secret}\n\trequire_message_authenticator = yes\n}\n`);

  let authorize = 'files\n\t\tpap';
  let accounting = 'ok';
  if (backend === 'files') {
    writeFileSync(
      join(dir, 'mods-config/files/authorize'),
      users
        .map(
          (u) =>
            `${u.ref} Cleartext-Password := "${u.token}"\n\tMikrotik-Rate-Limit := "${u.rate}", Acct-Interim-Interval := 300, Session-Timeout := 86400, Class := "rgz:${u.id}"\n`,
        )
        .join(''),
    );
  } else if (backend === 'sql') {
    authorize = 'sql\n\t\tpap';
    accounting = 'sql';
    writeFileSync(
      join(dir, 'mods-enabled/sql'),
      `sql {
\tdialect = "postgresql"
\tdriver = "rlm_sql_postgresql"
\tpostgresql {
\t\tsend_application_name = yes
\t}
\tserver = "127.0.0.1"
\tport = 5432
\tlogin = "postgres"
\tpassword = ""
\tradius_db = "${db}"
\tacct_table1 = "freeradius.radacct"
\tacct_table2 = "freeradius.radacct"
\tpostauth_table = "freeradius.radpostauth"
\tauthcheck_table = "freeradius.radcheck"
\tgroupcheck_table = "freeradius.radgroupcheck"
\tauthreply_table = "freeradius.radreply"
\tgroupreply_table = "freeradius.radgroupreply"
\tusergroup_table = "freeradius.radusergroup"
\tread_groups = yes
\tdelete_stale_sessions = yes
\tpool {
\t\tstart = \${thread[pool].start_servers}
\t\tmin = \${thread[pool].min_spare_servers}
\t\tmax = \${thread[pool].max_servers}
\t\tspare = \${thread[pool].max_spare_servers}
\t\tuses = 0
\t\tretry_delay = 30
\t\tlifetime = 0
\t\tidle_timeout = 60
\t}
\tread_clients = no
\tclient_table = "nas"
\tgroup_attribute = "SQL-Group"
\t$INCLUDE \${modconfdir}/\${.:name}/main/\${dialect}/queries.conf
}
`,
    );
  }
  if (backend === 'rest') {
    // plugin-radius's own FreeRADIUS files, installed as its README says; only the listeners are the bench's.
    cpSync(join(rest.dir, 'mods-available/rgz_rest'), join(dir, 'mods-enabled/rgz_rest'));
    cpSync(join(rest.dir, 'policy.d/rgz'), join(dir, 'policy.d/rgz'));
    cpSync(join(rest.dir, 'dictionary.rgz'), join(dir, 'dictionary.rgz'));
    writeFileSync(join(dir, 'dictionary'), `${readFileSync(join(dir, 'dictionary'), 'utf8')}\n$INCLUDE dictionary.rgz\n`);
    const site = readFileSync(join(rest.dir, 'sites-available/rgz'), 'utf8')
      .replaceAll('ipaddr = *', 'ipaddr = 127.0.0.1\n\t\trecv_buff = 4194304')
      .replace('port = 1812', `port = ${authPort}`)
      .replace('port = 1813', `port = ${acctPort}`);
    writeFileSync(join(dir, 'sites-enabled/rgz'), site);
  } else {
    writeFileSync(
      join(dir, 'sites-enabled/bench'),
      `server bench {
\tlisten {
\t\ttype = auth
\t\tipaddr = 127.0.0.1
\t\tport = ${authPort}
\t\trecv_buff = 4194304
\t}
\tlisten {
\t\ttype = acct
\t\tipaddr = 127.0.0.1
\t\tport = ${acctPort}
\t\trecv_buff = 4194304
\t}
\tauthorize {
\t\t${authorize}
\t}
\tauthenticate {
\t\tAuth-Type PAP {
\t\t\tpap
\t\t}
\t}
\tpreacct {
\t\tacct_unique
\t}
\taccounting {
\t\t${accounting}
\t}
\tpost-auth {
\t}
}
`,
    );
  }
  const check = spawnSync('freeradius', ['-XC', '-d', dir], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (check.status !== 0) throw new Error(`freeradius -XC rejected the ${backend} config:\n${(check.stdout + check.stderr).slice(-3000)}`);
  return dir;
}

/** Starts `freeradius -f` on a raddb; the caller checks readiness with a request. */
export function startFreeradius(dir, env = {}) {
  const proc = spawn('freeradius', ['-f', '-d', dir], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  proc.stderr.on('data', (c) => {
    if (err.length < 10_000) err += c.toString();
  });
  return {
    proc,
    errors: () => err + (existsSync(join(dir, 'log/radius.log')) ? readFileSync(join(dir, 'log/radius.log'), 'utf8').slice(-3000) : ''),
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}
