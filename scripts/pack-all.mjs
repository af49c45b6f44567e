#!/usr/bin/env node
// Packs every publishable workspace package with `npm pack` (exactly what `npm publish` would upload) and checks
// what each tarball holds. Usage:
//   node scripts/pack-all.mjs [--out DIR] [--check] [--json]
//     --out DIR  where the tarballs go (default .release/tarballs/; emptied first)
//     --check    fail unless every tarball has its README, its built entry points and no sources or tests, and
//                its package.json declares exactly the packages its dist/ imports (@rgz/core as a peer with a range)
//     --json     print the list as JSON (for scripts and tests) instead of one line per tarball
//     --fresh    pack a clean build instead of the working tree's dist/ folders: copy the checkout to a scratch
//                folder in .release/ (tracked and untracked-but-not-ignored files), build it
//                there and pack that (tsc never deletes old output, so a working tree's dist/ may hold stale files)
//     --release  `npm run release:dry`: --fresh, with `changeset version` and scripts/sync-versions.mjs run in the
//                copy before the build; prints the versions the pending changesets produce. The working tree is
//                left as it was.
// Without --fresh or --release the packages must be built (`npm run build`) before packing.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

class PackError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** Non-private workspace packages under `dir` (a checkout), in the order of the root package.json's globs. */
export function publishablePackages(dir = root) {
  const rootPkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const found = [];
  for (const glob of rootPkg.workspaces ?? []) {
    // The workspace globs are all `folder/*`; anything richer would need a glob library.
    if (!glob.endsWith('/*')) throw new PackError('unsupported_workspace_glob', `workspace glob "${glob}" is not of the form folder/*`);
    const parent = join(dir, glob.slice(0, -2));
    if (!existsSync(parent)) continue;
    for (const name of readdirSync(parent).sort()) {
      const pkgFile = join(parent, name, 'package.json');
      if (!existsSync(pkgFile)) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
      if (pkg.private) continue;
      found.push({ dir: join(parent, name), pkg });
    }
  }
  return found;
}

/** `npm pack` every package into `out`; returns npm's description of each tarball plus its path. */
export function packAll(dir, out) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const pkgs = publishablePackages(dir);
  for (const { dir: pkgDir, pkg } of pkgs) {
    if (!existsSync(join(pkgDir, 'dist'))) {
      throw new PackError('package_not_built', `${pkg.name} has no dist/ (${relative(dir, pkgDir)}): run \`npm run build\` first`);
    }
  }
  const args = ['pack', '--json', '--pack-destination', out, ...pkgs.flatMap((p) => ['-w', relative(dir, p.dir)])];
  const r = spawnSync('npm', args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new PackError('npm_pack_failed', `npm pack exited with ${r.status}:\n${r.stderr}`);
  const packed = JSON.parse(r.stdout);
  return packed.map((p) => {
    const source = pkgs.find((x) => x.pkg.name === p.name);
    return {
      name: p.name,
      version: p.version,
      file: join(out, p.filename),
      size: p.size,
      files: p.files.map((f) => f.path),
      dir: source?.dir,
      pkg: source?.pkg,
    };
  });
}

/** Bare package names imported by the built JavaScript of a package (static, dynamic, require and require.resolve). */
export function importedPackages(distDir) {
  const names = new Set();
  const walk = (d) => {
    for (const entry of readdirSync(d)) {
      const p = join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.js') || p.endsWith('.mjs')) {
        const text = readFileSync(p, 'utf8');
        // Specifiers shaped like package names only, so that text such as "from '>${x}'" in a template is not taken.
        const re =
          /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*|\brequire(?:\.resolve)?\s*\(\s*)['"]((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(?:\/[\w./-]*)?|node:[\w/]+|[./][^'"\s]*)['"]/gm;
        for (const m of text.matchAll(re)) {
          const spec = m[1];
          if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || spec.startsWith('#')) continue;
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
          if (builtinModules.includes(name)) continue;
          names.add(name);
        }
      }
    }
  };
  walk(distDir);
  return names;
}

/** Problems with one packed package, as sentences; empty when it is fit to publish. */
export function checkPackage(packed) {
  const problems = [];
  const { pkg, files, dir } = packed;
  const has = (f) => files.includes(f);
  if (!has('README.md')) problems.push('no README.md in the tarball');
  if (!has('package.json')) problems.push('no package.json in the tarball');
  // Only the package's own build output counts: create-rgz-plugin's templates are sources and tests on purpose.
  const shippedSources = files.filter((f) => f.startsWith('src/') || /^dist\/.*\.test\.(js|d\.ts)$/.test(f) || f.startsWith('dist/test-support/'));
  if (shippedSources.length > 0) problems.push(`ships sources or tests: ${shippedSources.slice(0, 5).join(', ')}${shippedSources.length > 5 ? ', …' : ''}`);
  // tsc never deletes output: a dist/ file whose source was removed or renamed would still be published.
  if (existsSync(join(dir, 'src'))) {
    const stale = files.filter((f) => {
      const m = /^dist\/(.*)\.js$/.exec(f);
      return m && !['ts', 'tsx', 'mts'].some((ext) => existsSync(join(dir, 'src', `${m[1]}.${ext}`)));
    });
    if (stale.length > 0) problems.push(`stale build output without a source: ${stale.join(', ')} (delete dist/ and build again)`);
  }
  const targets = [];
  const collect = (node) => {
    if (typeof node === 'string') targets.push(node);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) if (key !== '@rgz/source') collect(value);
    }
  };
  collect(pkg.exports);
  for (const key of ['main', 'types']) if (typeof pkg[key] === 'string') targets.push(pkg[key]);
  for (const bin of typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {})) targets.push(bin);
  for (const t of new Set(targets)) {
    if (!has(t.replace(/^\.\//, ''))) problems.push(`exports/main/types/bin target ${t} is not in the tarball`);
  }
  const dependencies = { ...pkg.dependencies, ...pkg.optionalDependencies };
  const peers = pkg.peerDependencies ?? {};
  const declared = new Set([...Object.keys(dependencies), ...Object.keys(peers)]);
  const imported = existsSync(join(dir, 'dist')) ? importedPackages(join(dir, 'dist')) : new Set();
  imported.delete(pkg.name);
  const undeclared = [...imported].filter((n) => !declared.has(n)).sort();
  if (undeclared.length > 0) problems.push(`dist/ imports undeclared packages: ${undeclared.join(', ')} (add them to dependencies)`);
  const unused = Object.keys(dependencies)
    .filter((n) => !imported.has(n))
    .sort();
  if (unused.length > 0) problems.push(`dependencies never imported by dist/: ${unused.join(', ')} (move them to devDependencies or drop them)`);
  if (imported.has('@rgz/core') && pkg.name !== '@rgz/server') {
    if (!peers['@rgz/core']) problems.push('imports @rgz/core but does not declare it as a peer dependency');
    else if (!/^[\^~>]/.test(peers['@rgz/core'])) problems.push(`@rgz/core peer range "${peers['@rgz/core']}" is not a range`);
    if (dependencies['@rgz/core']) problems.push('@rgz/core is a dependency; it must be a peer (one core per server)');
  }
  return problems;
}

/** Copies the tracked and untracked-but-not-ignored files of a checkout (not node_modules, dist, .git). */
function copyCheckout(from, to) {
  const r = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: from, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new PackError('git_ls_files_failed', `git ls-files failed: ${r.stderr}`);
  for (const file of r.stdout.split('\0').filter(Boolean)) {
    const src = join(from, file);
    if (!existsSync(src)) continue; // deleted in the working tree, not yet in the index
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(src, join(to, file));
  }
  // No node_modules of its own: resolution walks up to the checkout's, whose workspace links point at the original
  // packages. Only their types matter to the copy's build, and those are equal up to the version.
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 2, 2], env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });
  if (r.status !== 0) throw new PackError('command_failed', `${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function main() {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const out = resolve(outIndex >= 0 ? args[outIndex + 1] : join(root, '.release', 'tarballs'));
  const check = args.includes('--check');
  const json = args.includes('--json');
  let dir = root;
  let scratch;
  const release = args.includes('--release');
  try {
    if (release || args.includes('--fresh')) {
      // Inside the checkout (in git-ignored .release/), so that the checkout's node_modules is an ancestor of the copy:
      // from a copy elsewhere, reaching it through a symlink, tsc refuses to name its types in declarations (TS2742).
      mkdirSync(join(root, '.release'), { recursive: true });
      scratch = mkdtempSync(join(root, '.release', 'build-'));
      // Progress goes to stderr so that --json keeps stdout to the list alone.
      const progress = (line) => console.error(line);
      progress(`building a clean copy in ${scratch} (the working tree is not touched)`);
      copyCheckout(root, scratch);
      if (release) {
        const pending = readdirSync(join(scratch, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
        if (pending.length > 0) run('npx', ['changeset', 'version'], scratch);
        else progress('no pending changesets: versions unchanged');
        run(process.execPath, [join(scratch, 'scripts', 'sync-versions.mjs')], scratch);
      }
      // --force: no cache restores old output into the copy; two at a time, so a test suite can run beside it.
      run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only', '--force', '--concurrency=2'], scratch);
      dir = scratch;
    }
    const packed = packAll(dir, out);
    const failures = [];
    for (const p of packed) {
      const before = publishablePackages(root).find((x) => x.pkg.name === p.name)?.pkg.version;
      p.previousVersion = before;
      if (check) {
        const problems = checkPackage(p);
        if (problems.length > 0) failures.push(`${p.name}:\n  - ${problems.join('\n  - ')}`);
      }
    }
    if (json) {
      console.log(JSON.stringify(packed.map(({ name, version, file, size, files }) => ({ name, version, file, size, files: files.length }))));
    } else {
      for (const p of packed) {
        const bump = p.previousVersion && p.previousVersion !== p.version ? ` (was ${p.previousVersion})` : '';
        console.log(`${p.name}@${p.version}${bump}  ${relative(process.cwd(), p.file)}  ${(p.size / 1024).toFixed(1)} kB, ${p.files.length} files`);
      }
      console.log(`${packed.length} tarballs in ${relative(process.cwd(), out) || '.'}`);
    }
    if (failures.length > 0) {
      console.error(`\n${failures.length} package(s) are not fit to publish:\n${failures.join('\n')}`);
      process.exitCode = 1;
    }
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    console.error(err.code ? `${err.code}: ${err.message}` : err);
    process.exit(1);
  }
}
