#!/usr/bin/env node
// Scaffolds an empty workspace package with the repo's conventions:
//   node scripts/new-package.mjs <folder under packages/> <npm name> "<description>"
// (for the repo's own packages; integrators start from examples/sms-file and docs/writing-a-plugin.md).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [folder, name, description] = process.argv.slice(2);
if (!folder || !name) {
  console.error('usage: node scripts/new-package.mjs <folder> <@rgz/name> "<description>"');
  process.exit(1);
}
const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'packages', folder);
if (existsSync(join(dir, 'package.json'))) {
  console.error(`${dir} already has a package.json`);
  process.exit(1);
}
mkdirSync(join(dir, 'src'), { recursive: true });
const pkg = {
  name,
  version: '0.1.0',
  description: description ?? '',
  license: 'Apache-2.0',
  type: 'module',
  main: './dist/index.js',
  types: './dist/index.d.ts',
  exports: {
    '.': { '@rgz/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' },
    './package.json': './package.json',
  },
  files: ['dist', 'README.md', 'CHANGELOG.md'],
  engines: { node: '>=20.11' },
  scripts: { build: 'tsc -p tsconfig.build.json', typecheck: 'tsc -p tsconfig.json --noEmit', test: 'vitest run' },
  peerDependencies: { '@rgz/core': '^0.1.0' },
  devDependencies: { '@rgz/core': '^0.1.0' },
};
writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
writeFileSync(
  join(dir, 'tsconfig.json'),
  `${JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { rootDir: 'src', outDir: 'dist', types: ['node'] }, include: ['src'] }, null, 2)}\n`,
);
writeFileSync(
  join(dir, 'tsconfig.build.json'),
  `${JSON.stringify({ extends: './tsconfig.json', exclude: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'src/test-support/**'] }, null, 2)}\n`,
);
writeFileSync(
  join(dir, 'vitest.config.ts'),
  `import { defineConfig } from 'vitest/config';\n\nexport default defineConfig({\n  resolve: { conditions: ['@rgz/source'] },\n  test: { testTimeout: 30_000, hookTimeout: 60_000, pool: 'forks' },\n});\n`,
);
writeFileSync(join(dir, 'README.md'), `# ${name}\n\n${description ?? ''}\n`);
writeFileSync(join(dir, 'CHANGELOG.md'), `# ${name}\n`);
console.log(`created ${dir}`);
