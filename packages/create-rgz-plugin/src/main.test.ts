/** The command line: usage, and the clear refusals (unknown point, invalid name, folder not empty). */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from './main.js';
import { run } from './test-support/run.js';

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'rgz-create-cli-'));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, cwd);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('create-rgz-plugin', () => {
  it('scaffolds into ./rgz-plugin-NAME and says what to run next', async () => {
    const { code, out, err } = await cli('sms-acme', '--point', 'sms');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('Created rgz-plugin-sms-acme in rgz-plugin-sms-acme: a SmsSender for SmsSenders');
    expect(out).toContain('cd rgz-plugin-sms-acme');
    expect(out).toContain('npm test');
    expect(await readdir(join(cwd, 'rgz-plugin-sms-acme'))).toContain('package.json');
  });

  it('takes --dir and --scope', async () => {
    const { code, out } = await cli('cash', '--point', 'payment', '--dir', 'plugins/cash', '--scope', '@acme');
    expect(code).toBe(0);
    expect(out).toContain('Created @acme/rgz-plugin-cash in plugins/cash');
  });

  it('refuses an unknown --point, listing the points', async () => {
    const { code, err } = await cli('x', '--point', 'sms-gateway');
    expect(code).toBe(2);
    expect(err).toBe(
      'create-rgz-plugin: --point "sms-gateway" is not an extension point: choose one of sms, payment, nas-vendor, cpe, log, report, notify, backup',
    );
  });

  it('refuses a missing --point', async () => {
    const { code, err } = await cli('x');
    expect(code).toBe(2);
    expect(err).toContain('--point is required: one of sms, payment');
  });

  it.each([
    ['Sms', 'is not a valid plugin name: use 1 to 50 lowercase letters, digits and single dashes, starting with a letter'],
    ['9lives', 'is not a valid plugin name'],
    ['sms--x', 'is not a valid plugin name'],
    ['sms-', 'is not a valid plugin name'],
    ['sms_x', 'is not a valid plugin name'],
    ['a'.repeat(51), 'is not a valid plugin name'],
    ['rgz-plugin-sms', 'must be the part after rgz-plugin-: use "sms"'],
    ['@acme/sms', 'must be the bare plugin name; give a scope with --scope @acme'],
  ])('refuses the NAME %j', async (name, message) => {
    const { code, err } = await cli(name, '--point', 'sms');
    expect(code).toBe(2);
    expect(err).toContain(`NAME "${name}" ${message}`);
  });

  it('refuses a bad scope', async () => {
    const { code, err } = await cli('x', '--point', 'sms', '--scope', '@Acme Corp');
    expect(code).toBe(2);
    expect(err).toContain('--scope "@Acme Corp" is not an npm scope');
  });

  it('refuses a target folder that is not empty, touching nothing', async () => {
    const dir = join(cwd, 'taken');
    await cli('first', '--point', 'log', '--dir', 'taken');
    await writeFile(join(dir, 'NOTES.md'), 'mine');
    const before = await readdir(dir, { recursive: true });
    const { code, err } = await cli('second', '--point', 'sms', '--dir', 'taken');
    expect(code).toBe(1);
    expect(err).toBe(`create-rgz-plugin: ${dir} exists and is not empty; choose another --dir or remove it first`);
    expect(await readdir(dir, { recursive: true })).toEqual(before);
  });

  it('refuses unknown options and extra arguments', async () => {
    expect((await cli('x', '--point', 'sms', '--force')).err).toContain("Unknown option '--force'");
    expect((await cli('x', 'y', '--point', 'sms')).err).toContain('one NAME expected, got x y');
    expect((await cli('--point', 'sms')).err).toContain('NAME is missing');
  });

  it('prints the usage with --help', async () => {
    const { code, out } = await cli('--help');
    expect(code).toBe(0);
    expect(out).toContain('usage: create-rgz-plugin NAME --point <point> [--dir DIR] [--scope @acme]');
    for (const point of ['sms', 'payment', 'nas-vendor', 'cpe', 'log', 'report', 'notify', 'backup']) expect(out).toContain(point);
  });

  it('runs as a program: the bin entry exits 2 on a bad point and 0 on --help', async () => {
    // Run from the package folder, where `--import tsx` resolves (the repository's dev dependency).
    const pkgDir = new URL('..', import.meta.url).pathname;
    const args = ['--import', 'tsx', 'src/cli.ts'];
    const bad = await run(process.execPath, [...args, 'x', '--point', 'nope'], { cwd: pkgDir, timeoutMs: 60_000 });
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('is not an extension point');
    const help = await run(process.execPath, [...args, '--help'], { cwd: pkgDir, timeoutMs: 60_000 });
    expect(help.code, help.output).toBe(0);
  });
});
