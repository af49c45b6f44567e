/**
 * The generator: validates the name, point, scope and target folder, then copies `templates/common/` and
 * `templates/<point>/` into the folder with the placeholder tokens replaced, and writes package.json.
 *
 * Tokens (in every template file): `{{NAME}}` plugin name, `{{PACKAGE}}` npm package name, `{{VERSION}}` first
 * version, `{{CORE_RANGE}}` the `@rgz/core` range, `{{POINT}}` point key, `{{DESCRIPTION}}` one-line description,
 * `{{ENV_EXAMPLE}}` the environment variable that sets the instance's `id`. (Braces, not `__NAME__`: Markdown
 * formatters rewrite `__x__` as bold.) `README.md` also has `{{POINT_README}}`, replaced by
 * `templates/<point>/POINT.md` (which is not copied itself).
 * `gitignore` is written as `.gitignore` (npm leaves `.gitignore` files out of a published package).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPointKey, POINT_KEYS, POINTS, type PointInfo } from './points.js';
import { CORE_RANGE_FALLBACK, INITIAL_VERSION, TOOL_RANGES } from './versions.js';

export interface GenerateOptions {
  /** Plugin name, the package suffix: `sms-acme` gives `rgz-plugin-sms-acme`. */
  readonly name: string;
  /** Extension point key: one of `POINT_KEYS`. */
  readonly point: string;
  /** Target folder (created; must be absent or empty). Default `rgz-plugin-<name>` in `cwd`. */
  readonly dir?: string;
  /** npm scope, with or without `@`: the package becomes `@scope/rgz-plugin-<name>`. */
  readonly scope?: string;
  /** Folder relative paths are resolved against, and where an installed `@rgz/core` is looked for first. */
  readonly cwd?: string;
  /** `@rgz/core` version the plugin is written for (default: the installed one, else the fallback range). */
  readonly coreVersion?: string;
}

export interface GenerateResult {
  readonly dir: string;
  readonly packageName: string;
  readonly point: PointInfo;
  readonly coreRange: string;
  /** Files written, relative to `dir`, sorted. */
  readonly files: readonly string[];
}

/** A refusal the user can fix: the message says what was wrong and what to do. `usage` marks bad arguments. */
export class GenerateError extends Error {
  constructor(
    message: string,
    readonly usage: boolean,
  ) {
    super(message);
    this.name = 'GenerateError';
  }
}

/** Plugin names: what `definePlugin` accepts, without a leading, trailing or doubled dash, at most 50 characters. */
const NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const SCOPE = /^[a-z0-9][a-z0-9._-]*$/;

export const TEMPLATES_DIR = fileURLToPath(new URL('../templates/', import.meta.url));

export function validateName(name: string): void {
  if (name.startsWith('@') || name.includes('/')) {
    throw new GenerateError(`NAME "${name}" must be the bare plugin name; give a scope with --scope @acme`, true);
  }
  if (name.startsWith('rgz-plugin-')) {
    throw new GenerateError(`NAME "${name}" must be the part after rgz-plugin-: use "${name.slice('rgz-plugin-'.length)}"`, true);
  }
  if (!NAME.test(name) || name.length > 50) {
    throw new GenerateError(
      `NAME "${name}" is not a valid plugin name: use 1 to 50 lowercase letters, digits and single dashes, starting with a letter (e.g. sms-acme)`,
      true,
    );
  }
}

export function validatePoint(point: string): asserts point is PointInfo['key'] {
  if (!isPointKey(point)) {
    throw new GenerateError(`--point "${point}" is not an extension point: choose one of ${POINT_KEYS.join(', ')}`, true);
  }
}

function normaliseScope(scope: string): string {
  const bare = scope.replace(/^@/, '');
  if (!SCOPE.test(bare) || bare.length > 100) {
    throw new GenerateError(`--scope "${scope}" is not an npm scope: use lowercase letters, digits, ".", "_" and "-" (e.g. @acme)`, true);
  }
  return `@${bare}`;
}

/** The `@rgz/core` version visible from `cwd` (an integrator's project) or from this package (the RGZ repository). */
export function installedCoreVersion(cwd: string): string | undefined {
  for (const from of [join(cwd, 'package.json'), fileURLToPath(import.meta.url)]) {
    try {
      const file = createRequire(from).resolve('@rgz/core/package.json');
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    } catch {
      // not installed there
    }
  }
  return undefined;
}

function refuseNonEmpty(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new GenerateError(`${dir} exists and is not a folder; choose another --dir`, false);
  if (readdirSync(dir).length > 0) throw new GenerateError(`${dir} exists and is not empty; choose another --dir or remove it first`, false);
}

/** Every file below `dir`, relative, sorted. */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name), base) : [relative(base, join(dir, entry.name))]))
    .sort();
}

export function packageJson(options: { packageName: string; point: PointInfo; coreRange: string }): Record<string, unknown> {
  return {
    name: options.packageName,
    version: INITIAL_VERSION,
    description: options.point.description,
    license: 'UNLICENSED',
    type: 'module',
    keywords: ['rgz', 'rgz-plugin', options.point.keyword],
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: {
      '.': {
        '@rgz/source': './src/index.ts',
        types: './dist/index.d.ts',
        default: './dist/index.js',
      },
      './package.json': './package.json',
    },
    files: ['dist', 'README.md', 'CHANGELOG.md'],
    engines: { node: '>=20.11' },
    scripts: {
      build: 'tsc -p tsconfig.build.json',
      typecheck: 'tsc -p tsconfig.json --noEmit',
      test: 'vitest run',
      prepack: 'npm run build',
    },
    peerDependencies: { '@rgz/core': options.coreRange },
    devDependencies: { '@rgz/core': options.coreRange, ...TOOL_RANGES },
  };
}

export function generate(options: GenerateOptions): GenerateResult {
  validateName(options.name);
  validatePoint(options.point);
  const point = POINTS[options.point];
  const scope = options.scope === undefined ? undefined : normaliseScope(options.scope);
  const cwd = resolve(options.cwd ?? process.cwd());
  const unscoped = `rgz-plugin-${options.name}`;
  const packageName = scope ? `${scope}/${unscoped}` : unscoped;
  const dir = resolve(cwd, options.dir ?? unscoped);
  refuseNonEmpty(dir);

  const coreVersion = options.coreVersion ?? installedCoreVersion(cwd);
  const coreRange = coreVersion === undefined ? CORE_RANGE_FALLBACK : `^${coreVersion}`;
  const tokens: Record<string, string> = {
    NAME: options.name,
    PACKAGE: packageName,
    VERSION: INITIAL_VERSION,
    CORE_RANGE: coreRange,
    POINT: point.key,
    DESCRIPTION: point.description,
    ENV_EXAMPLE: `RGZ_PLUGINS__${options.name.toUpperCase().replaceAll('-', '_')}__ID`,
  };
  const unknown = new Set<string>();
  // In TypeScript the tokens stand inside single-quoted strings: escape what would end or break one.
  const fill = (text: string, typescript: boolean) =>
    text.replace(/\{\{([A-Z][A-Z_]*)\}\}/g, (token, key: string) => {
      const value = tokens[key];
      if (value === undefined) unknown.add(token);
      return value === undefined ? token : typescript ? value.replace(/[\\']/g, '\\$&') : value;
    });
  tokens.POINT_README = fill(readFileSync(join(TEMPLATES_DIR, point.key, 'POINT.md'), 'utf8').trimEnd(), false);

  const written: string[] = [];
  const write = (target: string, content: string) => {
    const file = join(dir, target);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    written.push(target);
  };
  for (const source of [join(TEMPLATES_DIR, 'common'), join(TEMPLATES_DIR, point.key)]) {
    for (const file of walk(source)) {
      if (source.endsWith(point.key) && file === 'POINT.md') continue;
      const target = file === 'gitignore' ? '.gitignore' : file;
      write(target, fill(readFileSync(join(source, file), 'utf8'), file.endsWith('.ts')));
    }
  }
  write('package.json', `${JSON.stringify(packageJson({ packageName, point, coreRange }), null, 2)}\n`);
  // A template bug, not a user error: say which token no value exists for.
  if (unknown.size > 0) throw new Error(`templates use unknown tokens: ${[...unknown].join(', ')}`);

  return { dir, packageName, point, coreRange, files: written.sort() };
}
