/**
 * The `rgz` command: start the server, migrate, check config, list plugins and jobs, run a job, create the
 * first NOC admin token. Errors print one line naming what to fix (exit 2 for config, 1 otherwise).
 */
import { parseArgs } from 'node:util';
import { ConfigError, type Kernel, redactConfig, RgzError } from '@rgz/core';
import { buildServer, loadConfig } from './index.js';

const USAGE = `Usage: rgz <command> [options]

Commands:
  start                     Start the server (HTTP, task worker, scheduler)
  migrate [up|status]       Apply pending migrations, or list them
  config check              Validate the config and print it with secrets masked
  plugins                   Loaded plugins: versions, routes, jobs, contributions
  jobs list                 Scheduled jobs with next and last run
  jobs run <id>             Run one job now in this process and print the outcome
  admin create [--name N]   Create a NOC admin API token and print it (once)

Options:
  -c, --config <file>       Config file (default: rgz.config.{ts,mjs,js,json,yaml,yml} in the current folder)
  -h, --help                This help`;

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    // Plugin subcommands take their own options.
    strict: false,
    options: { config: { type: 'string', short: 'c' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, sub, arg] = positionals;
  const builtin = ['start', 'migrate', 'config', 'plugins', 'jobs', 'admin'];
  // Admin commands print their own output on stdout: keep start-up logs (migrations applied…) out of it.
  if (command && command !== 'start') process.env.LOG_LEVEL ??= 'warn';
  if (!command || (values.help && builtin.includes(command))) {
    out(USAGE);
    return command || values.help ? 0 : 1;
  }
  const configPath = typeof values.config === 'string' ? values.config : undefined;
  const withKernel = async (fn: (k: Kernel) => Promise<void>) => {
    const { kernel } = await buildServer({ ...(configPath ? { configPath } : {}) });
    try {
      await fn(kernel);
    } finally {
      await kernel.stop();
    }
  };

  switch (command) {
    case 'start': {
      const { kernel, configPath: used } = await buildServer({ ...(configPath ? { configPath } : {}) });
      let port: number;
      try {
        await kernel.start();
        ({ port } = await kernel.listen());
      } catch (err) {
        // Close pools and the Redis connection, or the process would stay up with nothing to serve.
        await kernel.stop().catch(() => {});
        throw err;
      }
      // Announced whatever the log level: operators and supervisors wait for this line.
      kernel.log
        .child({}, { level: 'info' })
        .info(
          {
            port,
            config: used ?? '(none: defaults)',
            database: kernel.database.kind,
            kv: kernel.kv.kind,
            plugins: kernel.plugins.map((p) => `${p.name}@${p.version}`),
          },
          `RGZ listening on port ${port}`,
        );
      await new Promise<void>((resolve) => {
        const onSignal = (signal: string) => {
          kernel.log.info({ signal }, 'shutting down: finishing in-flight requests, jobs and tasks');
          void kernel.stop().then(resolve);
        };
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
      });
      return 0;
    }
    case 'migrate': {
      await withKernel(async (k) => {
        if ((sub ?? 'up') === 'status') {
          for (const m of await k.migrationStatus())
            out(`${m.appliedAt ? 'applied ' : 'pending '} ${m.name}${m.appliedAt ? `  ${m.appliedAt.toISOString()}` : ''}`);
        } else if (sub === undefined || sub === 'up') {
          const applied = await k.migrate();
          out(applied.length ? applied.map((n) => `applied ${n}`).join('\n') : 'nothing to apply');
        } else throw new RgzError('usage', `unknown migrate subcommand "${sub}"; use up or status`);
      });
      return 0;
    }
    case 'config': {
      if (sub !== 'check') throw new RgzError('usage', 'use `rgz config check`');
      const loaded = await loadConfig({ ...(configPath ? { configPath } : {}) });
      // Building the kernel validates every plugin's own schema too; storage is only opened, never migrated.
      const { kernel } = await buildServer({ ...(configPath ? { configPath } : {}) });
      await kernel.stop();
      out(`config OK (${loaded.path ?? 'no file: defaults'})`);
      out(JSON.stringify(redactConfig(loaded.config), null, 2));
      return 0;
    }
    case 'plugins': {
      await withKernel(async (k) => {
        out(JSON.stringify(k.plugins, null, 2));
      });
      return 0;
    }
    case 'jobs': {
      await withKernel(async (k) => {
        await k.start({ worker: false, scheduler: false, serve: false });
        if (sub === 'list' || sub === undefined) {
          for (const j of await k.scheduler.info()) {
            out(
              `${j.id}  ${j.cron} (${j.timezone}, ${j.scope})  next ${j.nextRun?.toISOString() ?? '-'}  last ${j.lastRun ? `${j.lastRun.status} ${j.lastRun.startedAt.toISOString()}` : '-'}`,
            );
          }
        } else if (sub === 'run') {
          if (!arg) throw new RgzError('usage', 'name the job: `rgz jobs run <id>` (see `rgz jobs list`)');
          const outcome = await k.scheduler.trigger(arg);
          out(JSON.stringify(outcome));
          if (outcome.status !== 'succeeded') process.exitCode = 1;
        } else throw new RgzError('usage', `unknown jobs subcommand "${sub}"; use list or run`);
      });
      return process.exitCode === 1 ? 1 : 0;
    }
    case 'admin': {
      if (sub !== 'create') throw new RgzError('usage', 'use `rgz admin create [--name NAME]`');
      await withKernel(async (k) => {
        await k.migrate();
        const name = typeof values.name === 'string' ? values.name : 'noc-admin';
        const issued = await k.tokens.issue({ role: 'noc', name });
        await k.db
          .insertInto('audit_log')
          .values({
            actor_role: 'system',
            actor_id: null,
            action: 'token.issue',
            target_type: 'token',
            target_id: issued.id,
            reseller_id: null,
            details: JSON.stringify({ role: 'noc', name, via: 'cli' }),
            request_id: null,
          })
          .execute();
        out(issued.token);
      });
      return 0;
    }
    default: {
      // A plugin's subcommand (`rgz inventory import …`): build the kernel from the config to find it.
      const { kernel } = await buildServer({ ...(configPath ? { configPath } : {}) });
      try {
        const cmd = kernel.commands.get(command);
        if (!cmd) {
          out(USAGE);
          const extra = [...kernel.commands.values()].map((c) => `  ${c.name.padEnd(26)}${c.summary} (${c.plugin})`);
          if (extra.length) out(`\nPlugin commands:\n${extra.join('\n')}`);
          return 1;
        }
        if (values.help) {
          out(cmd.usage ?? cmd.summary);
          return 0;
        }
        await kernel.start({ worker: false, scheduler: false, serve: false });
        return await cmd.run(argv.slice(argv.indexOf(command) + 1), { out, err: (s) => process.stderr.write(`${s}\n`) });
      } finally {
        await kernel.stop();
      }
    }
  }
}

export function reportError(err: unknown, err_out: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): number {
  if (err instanceof ConfigError) {
    err_out(`rgz: configuration error\n${err.message}`);
    return 2;
  }
  if (err instanceof RgzError) {
    err_out(`rgz: ${err.code}: ${err.message}`);
    // Composition errors (what the operator must fix in config or the plugin list) exit 2, like config errors.
    return /^(config|plugin|point|route|token|migration_name|job_cron|job_duplicate|command_duplicate|task_duplicate)/.test(err.code) ? 2 : 1;
  }
  err_out(`rgz: ${(err as Error)?.stack ?? String(err)}`);
  return 1;
}
