/**
 * The `rgz` command as an operator runs it: a process, its exit code and what it prints.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RGZ_BIN, TSX_LOADER } from './test-support/replicas.js';

function rgz(args: string[], config: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rgz-cli-'));
  writeFileSync(join(dir, 'rgz.config.yaml'), config);
  const r = spawnSync(process.execPath, ['--conditions=@rgz/source', '--import', TSX_LOADER, RGZ_BIN, ...args], {
    cwd: dir,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { ...r, dir };
}

describe('rgz CLI', () => {
  it('config check names an unknown key and exits 2', () => {
    const r = rgz(['config', 'check'], 'htpp:\n  port: 1\n');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Unrecognized key: "htpp"');
  });

  it('start exits (2) instead of hanging when a plugin cannot be found, with Redis configured', () => {
    const r = rgz(['start'], 'plugins:\n  - package: "@rgz/no-such-plugin"\n', { REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(r.error).toBeUndefined(); // not killed by the timeout
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/plugin_not_installed: .*@rgz\/no-such-plugin/);
  });

  it('start exits when migrations cannot run (the database refuses), closing what it opened', () => {
    const r = rgz(['start'], 'http:\n  port: 0\n', {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/rgz_no_such_database',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('rgz_no_such_database');
  });

  it('admin create prints only the token on stdout', () => {
    const r = rgz(['admin', 'create', '--name', 'ops'], 'database:\n  embeddedDataDir: data\n');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^rgz_noc_[A-Za-z0-9_-]{43}$/);
  });

  it('an unknown command prints the usage and exits 1', () => {
    const r = rgz(['frobnicate'], '{}\n');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('Usage: rgz <command>');
  });
});
