/**
 * "A plugin scaffolded by the generator passes its contract suite unchanged": each of the eight points is generated
 * into a temporary folder outside the repository, made resolvable by linking the repository's node_modules into it
 * (`@rgz/core` is the workspace link, read from source under the `@rgz/source` condition), then its own vitest run
 * and type check are started there, as an integrator would after `npm install`, each with a deadline.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from './generate.js';
import { POINT_KEYS, POINTS, type PointKey } from './points.js';
import { limiter, run } from './test-support/run.js';

const repoNodeModules = new URL('../../../node_modules/', import.meta.url).pathname.replace(/\/$/, '');
const corePackage = JSON.parse(readFileSync(new URL('../../core/package.json', import.meta.url), 'utf8')) as { version: string };

/** Deadline of one vitest run or one type check. */
const RUN_MS = 300_000;
/** Two generated packages at a time: each run is a vitest or tsc process of its own. */
const slot = limiter(2);
const made: string[] = [];

afterAll(async () => {
  for (const dir of made) {
    // Remove the link first: the repository's node_modules must never be followed.
    await unlink(join(dir, 'node_modules')).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});

interface VitestReport {
  numFailedTests: number;
  numFailedTestSuites: number;
  testResults: Array<{ assertionResults: Array<{ ancestorTitles: string[]; title: string; status: string }> }>;
}

async function scaffold(point: PointKey, options: { name?: string; scope?: string } = {}) {
  const parent = await mkdtemp(join(tmpdir(), `rgz-scaffold-${point}-`));
  made.push(parent);
  const result = generate({
    name: options.name ?? `acme-${point}`,
    point,
    dir: join(parent, 'plugin'),
    ...(options.scope === undefined ? {} : { scope: options.scope }),
  });
  await symlink(repoNodeModules, join(result.dir, 'node_modules'), 'dir');
  return result;
}

describe.concurrent('a scaffolded plugin passes its contract suite unchanged', () => {
  for (const point of POINT_KEYS) {
    it(`--point ${point}: vitest and tsc pass in the generated package`, async () => {
      await slot(async () => {
        const result = await scaffold(point, point === 'payment' ? { scope: '@acme' } : {});
        const dir = result.dir;
        const report = join(dir, 'vitest-report.json');
        const tests = await run(join(dir, 'node_modules', '.bin', 'vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
          cwd: dir,
          timeoutMs: RUN_MS,
        });
        expect(tests.timedOut, `vitest did not finish within ${RUN_MS} ms:\n${tests.output}`).toBe(false);
        expect(tests.code, tests.output).toBe(0);

        const parsed = JSON.parse(await readFile(report, 'utf8')) as VitestReport;
        expect(parsed.numFailedTests + parsed.numFailedTestSuites, tests.output).toBe(0);
        const all = parsed.testResults.flatMap((file) => file.assertionResults);
        const contract = all.filter((t) => t.ancestorTitles[0]?.startsWith(`${POINTS[point].contract} contract: `));
        expect(contract.length, `the ${POINTS[point].suite} suite ran`).toBeGreaterThan(0);
        expect(contract.filter((t) => t.status === 'failed')).toEqual([]);
        expect(contract.filter((t) => t.status === 'passed').length).toBeGreaterThan(contract.length / 2);
        expect(all.find((t) => t.title.startsWith("declares package.json's version"))?.status).toBe('passed');
        expect(all.find((t) => t.title === 'refuses a bad config, naming the key')?.status).toBe('passed');

        const types = await run(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--noEmit'], { cwd: dir, timeoutMs: RUN_MS });
        expect(types.timedOut, `tsc did not finish within ${RUN_MS} ms:\n${types.output}`).toBe(false);
        expect(types.code, types.output).toBe(0);
      });
    }, 1_800_000);
  }

  it('builds to dist/ with declarations and without the tests', async () => {
    await slot(async () => {
      const { dir } = await scaffold('sms', { name: 'built' });
      const build = await run(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: dir, timeoutMs: RUN_MS });
      expect(build.code, build.output).toBe(0);
      const dist = readdirSync(join(dir, 'dist')).sort();
      expect(dist).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'sender.js', 'sender.d.ts']));
      expect(dist.some((f) => f.includes('test'))).toBe(false);
      // The package's default export is what the server loads: dist/index.js is an ES module exporting the plugin.
      const js = await readFile(join(dir, 'dist', 'index.js'), 'utf8');
      expect(js).toMatch(/export default definePlugin\(/);
    });
  }, 1_800_000);
});

describe('the generated files', () => {
  it('are the common files, the point files and package.json, with every token replaced', async () => {
    const result = await scaffold('notify', { name: 'noc-hook', scope: 'acme' });
    expect(result.packageName).toBe('@acme/rgz-plugin-noc-hook');
    expect(result.files).toEqual([
      '.gitignore',
      'CHANGELOG.md',
      'README.md',
      'package.json',
      'src/channel.ts',
      'src/index.test.ts',
      'src/index.ts',
      'src/test-support/webhook-peer.ts',
      'tsconfig.build.json',
      'tsconfig.json',
      'vitest.config.ts',
    ]);
    for (const file of result.files) {
      const text = await readFile(join(result.dir, file), 'utf8');
      expect(text, file).not.toMatch(/\{\{[A-Z_]+\}\}/);
    }
    const index = await readFile(join(result.dir, 'src/index.ts'), 'utf8');
    expect(index).toContain("name: 'noc-hook',");
    expect(index).toContain(`core: '^${corePackage.version}',`);
    const readme = await readFile(join(result.dir, 'README.md'), 'utf8');
    expect(readme).toContain('npm install @acme/rgz-plugin-noc-hook');
    expect(readme).toContain('  - package: "@acme/rgz-plugin-noc-hook"');
    expect(readme).toContain('RGZ_PLUGINS__NOC_HOOK__ID');
    expect(readme).toMatch(/\| `url` +\| http\(s\) URL +\| required +\|/);
  });

  it("writes a package.json with the running core's caret range as peer and dev dependency", async () => {
    const result = await scaffold('backup');
    const pkg = JSON.parse(await readFile(join(result.dir, 'package.json'), 'utf8')) as Record<string, any>;
    expect(pkg).toMatchObject({
      name: 'rgz-plugin-acme-backup',
      version: '0.1.0',
      type: 'module',
      main: './dist/index.js',
      types: './dist/index.d.ts',
      exports: { '.': { '@rgz/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' }, './package.json': './package.json' },
      files: ['dist', 'README.md', 'CHANGELOG.md'],
      peerDependencies: { '@rgz/core': `^${corePackage.version}` },
    });
    expect(Object.keys(pkg.exports['.'])).toEqual(['@rgz/source', 'types', 'default']);
    expect(Object.keys(pkg.devDependencies).sort()).toEqual(['@rgz/core', '@types/node', 'typescript', 'vitest']);
    expect(pkg.devDependencies['@rgz/core']).toBe(`^${corePackage.version}`);
  });

  it('has standalone tsconfigs: nothing extends a file outside the package', async () => {
    const { dir } = await scaffold('log');
    const config = JSON.parse(await readFile(join(dir, 'tsconfig.json'), 'utf8')) as { extends?: string; compilerOptions: Record<string, unknown> };
    expect(config.extends).toBeUndefined();
    expect(config.compilerOptions).toMatchObject({ module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, rootDir: 'src', outDir: 'dist' });
    const build = JSON.parse(await readFile(join(dir, 'tsconfig.build.json'), 'utf8')) as { extends?: string };
    expect(build.extends).toBe('./tsconfig.json');
  });

  it('keeps the template files out of the generator itself: no unknown token in any template', async () => {
    // generate() refuses unknown tokens; generating every point once proves the templates use known ones only.
    for (const point of POINT_KEYS) {
      const parent = await mkdtemp(join(tmpdir(), 'rgz-scaffold-tokens-'));
      made.push(parent);
      expect(() => generate({ name: 'tokens', point, dir: join(parent, 'p') })).not.toThrow();
      expect(existsSync(join(parent, 'p', 'src', 'index.ts'))).toBe(true);
    }
  });

  it('refuses a folder that is not empty, and accepts an empty one', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'rgz-scaffold-'));
    made.push(parent);
    await writeFile(join(parent, 'keep.txt'), 'mine');
    expect(() => generate({ name: 'x', point: 'sms', dir: parent })).toThrow(/exists and is not empty; choose another --dir or remove it first/);
    expect(readFileSync(join(parent, 'keep.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(parent)).toEqual(['keep.txt']);
    const empty = await mkdtemp(join(tmpdir(), 'rgz-scaffold-empty-'));
    made.push(empty);
    expect(generate({ name: 'x', point: 'sms', dir: empty }).dir).toBe(empty);
  });
});
