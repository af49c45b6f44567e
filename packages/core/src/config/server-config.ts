/**
 * The server's own configuration (everything but plugin options), its zod schema, and the rules that
 * turn a raw object + environment into a validated config whose errors name the key path and the fix.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors/rgz-error.js';

export const pluginEntrySchema = z.object({
  /** npm package name (or a path) that default-exports a definePlugin value. */
  package: z.string().min(1),
  /** Instance name; defaults to the plugin's own name. Lets one plugin run twice with different options. */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, 'lowercase letters, digits and dashes, starting with a letter')
    .optional(),
  /** Options validated by the plugin's own zod schema. */
  config: z.record(z.string(), z.unknown()).default({}),
  enabled: z.boolean().default(true),
});

export const serverConfigSchema = z.strictObject({
  /** Value of the `service` field in every log line (the seed uses `rgz-api`). */
  service: z.string().default('rgz-api'),
  /** IANA time zone for schedules and reports. Bénin is UTC+1 without DST. */
  timezone: z.string().default('Africa/Porto-Novo'),
  http: z
    .object({
      port: z.coerce.number().int().min(0).max(65535).default(8080),
      host: z.string().default('0.0.0.0'),
      /** Seconds in-flight requests get to finish on SIGTERM. */
      shutdownGraceSeconds: z.coerce.number().positive().default(15),
      /** Trust X-Forwarded-For from these proxies (IP list) when reading the client address. */
      trustProxy: z.array(z.string()).default(['127.0.0.1', '::1']),
    })
    .default({ port: 8080, host: '0.0.0.0', shutdownGraceSeconds: 15, trustProxy: ['127.0.0.1', '::1'] }),
  database: z
    .object({
      /** postgres://… — when unset, RGZ runs on embedded PostgreSQL (PGlite). */
      url: z.string().optional(),
      poolMax: z.coerce.number().int().positive().default(10),
      /** PGlite data folder when `url` is unset; `memory://` keeps nothing. */
      embeddedDataDir: z.string().default('.rgz/pglite'),
    })
    .default({ poolMax: 10, embeddedDataDir: '.rgz/pglite' }),
  redis: z
    .object({
      /** redis://… — when unset, RGZ uses an in-process KV (single replica only). */
      url: z.string().optional(),
      /** Passed through to ioredis for Sentinel: `[{host, port}]` with `sentinelName`. */
      sentinels: z.array(z.object({ host: z.string(), port: z.coerce.number().int() })).optional(),
      sentinelName: z.string().optional(),
      /** Cluster seed nodes; when set, ioredis.Cluster is used. */
      cluster: z.array(z.object({ host: z.string(), port: z.coerce.number().int() })).optional(),
      keyPrefix: z.string().default(''),
    })
    .default({ keyPrefix: '' }),
  log: z
    .object({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    })
    .default({ level: 'info' }),
  tasks: z
    .object({
      /** Concurrent background tasks per replica. */
      concurrency: z.coerce.number().int().positive().default(4),
      pollIntervalMs: z.coerce.number().int().positive().default(500),
      /** Set false on a replica that should only serve HTTP. */
      worker: z.boolean().default(true),
    })
    .default({ concurrency: 4, pollIntervalMs: 500, worker: true }),
  scheduler: z
    .object({
      /** Set false on a replica that should never run scheduled jobs. */
      enabled: z.boolean().default(true),
    })
    .default({ enabled: true }),
  // A bare string is shorthand for `{ package }` and gets the same defaults (config {}, enabled true).
  plugins: z.array(z.preprocess((p) => (typeof p === 'string' ? { package: p } : p), pluginEntrySchema)).default([]),
});

export type ServerConfigInput = z.input<typeof serverConfigSchema>;
export type ServerConfig = Omit<z.output<typeof serverConfigSchema>, 'plugins'> & {
  plugins: Array<z.output<typeof pluginEntrySchema>>;
};

/** Turn zod issues into ConfigErrors: `prefix.key.path: expected X, found Y`. */
export function configErrorFromZod(prefix: string, error: z.ZodError, input: unknown): ConfigError {
  const lines = error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(config root)';
    // Never echo a secret back, even a wrong one.
    const secret = issue.path.some((k) => SECRET_KEY_PATTERN.test(String(k)));
    const value = valueAt(input, issue.path);
    const found =
      secret && value !== undefined && value !== null ? `a ${Array.isArray(value) ? 'list' : typeof value} (value hidden: secret)` : describeValue(value);
    return `${path}: ${issue.message} (found ${found})`;
  });
  const first = error.issues[0];
  const firstPath = [prefix, ...(first?.path ?? []).map(String)].filter(Boolean).join('.') || '(config root)';
  const err = new ConfigError(firstPath, lines.join('; '));
  err.message = lines.join('\n');
  return err;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/**
 * Replace `${env:NAME}` and `${file:/path}` in string values, so secrets come from the environment or
 * mounted files and never sit in the config file.
 */
export function interpolateSecrets(value: unknown, env: NodeJS.ProcessEnv, path = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{(env|file):([^}]+)\}/g, (_m, kind: string, ref: string) => {
      if (kind === 'env') {
        const v = env[ref];
        if (v === undefined) throw new ConfigError(path || '(root)', `environment variable ${ref} is not set; export it or remove \${env:${ref}}`);
        return v;
      }
      try {
        return readFileSync(ref, 'utf8').trim();
      } catch {
        throw new ConfigError(path || '(root)', `secret file ${ref} cannot be read; check the path and permissions`);
      }
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateSecrets(v, env, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateSecrets(v, env, path ? `${path}.${k}` : k);
    return out;
  }
  return value;
}

/**
 * Environment overrides: PORT, DATABASE_URL, REDIS_URL, LOG_LEVEL, and `RGZ_A__B__C=value` for any key
 * (`__` separates levels; SNAKE_CASE becomes camelCase). Plugin options: `RGZ_PLUGINS__<INSTANCE>__<KEY>`.
 */
export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out = structuredClone(raw);
  const set = (path: string[], value: unknown) => {
    let node: Record<string, unknown> = out;
    for (const key of path.slice(0, -1)) {
      if (!node[key] || typeof node[key] !== 'object') node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = value;
  };
  if (env.PORT) set(['http', 'port'], env.PORT);
  if (env.DATABASE_URL) set(['database', 'url'], env.DATABASE_URL);
  if (env.REDIS_URL) set(['redis', 'url'], env.REDIS_URL);
  if (env.LOG_LEVEL) set(['log', 'level'], env.LOG_LEVEL);
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('RGZ_') || value === undefined || name === 'RGZ_CONFIG') continue;
    const parts = name.slice(4).split('__').filter(Boolean).map(camelCase);
    // Only variables that name a config section are overrides; RGZ_PUBLIC_URL, RGZ_TEST_* and the like are not.
    if (parts.length === 0 || !((parts[0] as string) in serverConfigSchema.shape)) continue;
    if (parts[0] === 'plugins' && parts.length >= 3) {
      setPluginOption(out, parts[1] as string, parts.slice(2), parseEnvValue(value));
      continue;
    }
    set(parts, parseEnvValue(value));
  }
  return out;
}

function setPluginOption(out: Record<string, unknown>, instance: string, path: string[], value: unknown) {
  const list = Array.isArray(out.plugins) ? (out.plugins as unknown[]) : [];
  const kebab = instance.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const idx = list.findIndex((entry) => {
    if (typeof entry === 'string') return entry.endsWith(kebab);
    if (!entry || typeof entry !== 'object') return false;
    const e = entry as { name?: string; package?: string };
    return e.name === kebab || (e.name === undefined && typeof e.package === 'string' && e.package.endsWith(kebab));
  });
  if (idx < 0) return;
  // The shorthand `- '@rgz/plugin-x'` becomes an entry that can carry options.
  if (typeof list[idx] === 'string') list[idx] = { package: list[idx] };
  const entry = list[idx] as { config?: Record<string, unknown> };
  let node = (entry.config ??= {});
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[path[path.length - 1] as string] = value;
}

function camelCase(s: string): string {
  return s.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function parseEnvValue(v: string): unknown {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^\s*[[{]/.test(v)) {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v;
}

/**
 * Validate `value` against `schema`, turning strings into the number or boolean the schema expects where zod
 * says so. Environment overrides (`RGZ_PLUGINS__X__LIMIT=5`) can only carry strings, and a plugin author should
 * not have to write `z.coerce` on every numeric key for them to work; only scalars a schema rejected as the wrong
 * type are touched, so a string the schema accepts stays a string.
 */
export function safeParseCoercingStrings<T extends z.ZodType>(schema: T, value: unknown): ReturnType<T['safeParse']> {
  let current = value;
  let result = schema.safeParse(current);
  // Each round fixes every reported path; nested unions can surface new ones, so allow a few rounds.
  for (let round = 0; round < 5 && !result.success; round++) {
    let changed = false;
    for (const issue of result.error.issues) {
      if (issue.code !== 'invalid_type') continue;
      const expected = (issue as { expected?: string }).expected;
      const found = valueAt(current, issue.path);
      if (typeof found !== 'string' || issue.path.length === 0) continue;
      const coerced = coerceScalar(found.trim(), expected);
      if (coerced === undefined) continue;
      if (!changed) current = structuredClone(current);
      setAt(current, issue.path, coerced);
      changed = true;
    }
    if (!changed) break;
    result = schema.safeParse(current);
  }
  return result as ReturnType<T['safeParse']>;
}

function coerceScalar(text: string, expected: string | undefined): unknown {
  if ((expected === 'number' || expected === 'int') && text !== '' && Number.isFinite(Number(text))) return Number(text);
  if (expected === 'bigint' && /^-?\d+$/.test(text)) return BigInt(text);
  if (expected === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return undefined;
}

function setAt(root: unknown, path: readonly PropertyKey[], value: unknown): void {
  let node = root as Record<PropertyKey, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<PropertyKey, unknown>;
  node[path[path.length - 1] as PropertyKey] = value;
}

/** Parse the server part of a raw config; throws ConfigError naming the key. */
export function parseServerConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const base = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const withEnv = applyEnvOverrides(base, env);
  const interpolated = interpolateSecrets(withEnv, env);
  const parsed = serverConfigSchema.safeParse(interpolated);
  if (!parsed.success) throw configErrorFromZod('', parsed.error, interpolated);
  return parsed.data as ServerConfig;
}

/** Keys whose values are never printed or logged. */
export const SECRET_KEY_PATTERN = /(secret|password|passwd|token|api[-_]?key|private[-_]?key|credential)/i;

/** A copy with secret-looking values masked, for `rgz config check` and logs. */
export function redactConfig<T>(value: T): T {
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === 'string' && SECRET_KEY_PATTERN.test(key)) return v ? '***' : v;
    if (typeof v === 'string' && /^[a-z]+:\/\/[^/]*:[^@/]*@/i.test(v)) return v.replace(/:\/\/([^:/]*):[^@/]*@/, '://$1:***@');
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(value, '') as T;
}
