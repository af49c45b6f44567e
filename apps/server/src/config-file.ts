/**
 * Finds and reads the server's config file (rgz.config.{ts,mts,mjs,js,json,yaml,yml}), so an operator writes
 * YAML or JSON and an integrator may write TypeScript. With no file at all the server starts on the embedded
 * default (PGlite + in-process KV) with no plugins.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@rgz/core';
import { parse as parseYaml } from 'yaml';

export const CONFIG_NAMES = ['rgz.config.ts', 'rgz.config.mts', 'rgz.config.mjs', 'rgz.config.js', 'rgz.config.json', 'rgz.config.yaml', 'rgz.config.yml'];

export interface RawConfigFile {
  /** Absolute path, or null when no file was found. */
  path: string | null;
  /** Folder plugin packages are resolved from. */
  baseDir: string;
  raw: Record<string, unknown>;
}

export function findConfigFile(cwd: string, explicit?: string): string | null {
  if (explicit) {
    const p = resolve(cwd, explicit);
    if (!existsSync(p)) throw new ConfigError('--config', `no config file at ${p}`);
    return p;
  }
  for (const name of CONFIG_NAMES) {
    const p = resolve(cwd, name);
    if (existsSync(p)) return p;
  }
  return null;
}

export async function readConfigFile(cwd: string, explicit?: string): Promise<RawConfigFile> {
  const path = findConfigFile(cwd, explicit ?? process.env.RGZ_CONFIG);
  if (!path) return { path: null, baseDir: cwd, raw: {} };
  let raw: unknown;
  try {
    if (/\.(ya?ml)$/.test(path)) raw = parseYaml(readFileSync(path, 'utf8'));
    else if (path.endsWith('.json')) raw = JSON.parse(readFileSync(path, 'utf8'));
    else {
      if (/\.m?ts$/.test(path)) await registerTypeScript(path);
      const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
      raw = typeof mod.default === 'function' ? await (mod.default as () => unknown)() : mod.default;
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(path, `cannot be read: ${(err as Error).message}`);
  }
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError(path, 'must contain an object (keys such as http, database, plugins)');
  }
  return { path, baseDir: dirname(path), raw: (raw ?? {}) as Record<string, unknown> };
}

async function registerTypeScript(path: string): Promise<void> {
  try {
    const api = (await import('tsx/esm/api')) as { register(): unknown };
    api.register();
  } catch {
    throw new ConfigError(path, 'is TypeScript, which needs the `tsx` package: `npm install tsx`, or write rgz.config.yaml instead');
  }
}
