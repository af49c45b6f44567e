/**
 * The command line: `create-rgz-plugin NAME --point <point> [--dir DIR] [--scope @acme]`. Returns the exit code:
 * 0 done, 1 refused (target folder not empty, I/O error), 2 bad arguments.
 */
import { isAbsolute, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { GenerateError, generate } from './generate.js';
import { POINT_KEYS, POINTS } from './points.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export const USAGE = `usage: create-rgz-plugin NAME --point <point> [--dir DIR] [--scope @acme]

Scaffolds rgz-plugin-NAME (or @acme/rgz-plugin-NAME): a plugin package contributing one working implementation
to an RGZ extension point, with the point's shared contract suite from @rgz/core/testing wired into its tests.

  NAME          plugin name: lowercase letters, digits and dashes (e.g. sms-acme)
  --point       ${POINT_KEYS.join(' | ')}
${POINT_KEYS.map((key) => `                  ${key.padEnd(11)} ${POINTS[key].contract}: ${POINTS[key].description.replace(/^RGZ /, '')}`).join('\n')}
  --dir DIR     target folder, absent or empty (default ./rgz-plugin-NAME)
  --scope @S    publish under an npm scope
  -h, --help    this text`;

export async function main(argv: readonly string[], io: Io, cwd = process.cwd()): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`create-rgz-plugin: ${(error as Error).message}`);
    io.err('run create-rgz-plugin --help for usage');
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    io.err(positionals.length === 0 ? 'create-rgz-plugin: NAME is missing' : `create-rgz-plugin: one NAME expected, got ${positionals.join(' ')}`);
    io.err(USAGE);
    return 2;
  }
  if (values.point === undefined) {
    io.err(`create-rgz-plugin: --point is required: one of ${POINT_KEYS.join(', ')}`);
    return 2;
  }
  try {
    const result = generate({
      name: positionals[0] as string,
      point: values.point,
      cwd,
      ...(values.dir === undefined ? {} : { dir: values.dir }),
      ...(values.scope === undefined ? {} : { scope: values.scope }),
    });
    const rel = relative(cwd, result.dir);
    const shown = rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? result.dir : rel;
    io.out(`Created ${result.packageName} in ${shown}: a ${result.point.contract} for ${result.point.point} (@rgz/core ${result.coreRange})`);
    io.out('');
    io.out('Next:');
    if (shown !== '.') io.out(`  cd ${shown.includes(' ') ? JSON.stringify(shown) : shown}`);
    io.out('  npm install');
    io.out(`  npm test            # ${result.point.suite} from @rgz/core/testing, the version check, config errors`);
    io.out('  npm run typecheck');
    io.out('Then read README.md: it says how to load the plugin from rgz.config.yaml.');
    return 0;
  } catch (error) {
    if (error instanceof GenerateError) {
      io.err(`create-rgz-plugin: ${error.message}`);
      return error.usage ? 2 : 1;
    }
    io.err(`create-rgz-plugin: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      point: { type: 'string', short: 'p' },
      dir: { type: 'string', short: 'd' },
      scope: { type: 'string', short: 's' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
