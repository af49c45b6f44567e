/**
 * @rgz/server: read the config, load the plugins it names, build the kernel. The CLI (`rgz`) and tests use this.
 */
import { isAbsolute, resolve } from 'node:path';
import { createKernel, type Kernel, type KernelOptions, parseServerConfig, type ServerConfig } from '@rgz/core';
import { readConfigFile } from './config-file.js';
import { loadPlugins } from './load-plugins.js';

export { readConfigFile, findConfigFile, CONFIG_NAMES } from './config-file.js';
export { loadPlugins } from './load-plugins.js';

export interface BuildOptions {
  cwd?: string;
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra kernel options (tests). */
  kernel?: Partial<KernelOptions>;
}

export interface LoadedConfig {
  path: string | null;
  baseDir: string;
  config: ServerConfig;
}

export async function loadConfig(options: BuildOptions = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const file = await readConfigFile(cwd, options.configPath);
  const config = parseServerConfig(file.raw, options.env ?? process.env);
  // Relative paths in the config mean relative to the config file, as plugin paths do.
  const dataDir = config.database.embeddedDataDir;
  if (!dataDir.startsWith('memory://') && !isAbsolute(dataDir)) config.database.embeddedDataDir = resolve(file.baseDir, dataDir);
  return { path: file.path, baseDir: file.baseDir, config };
}

export async function buildServer(options: BuildOptions = {}): Promise<{ kernel: Kernel; configPath: string | null }> {
  const loaded = await loadConfig(options);
  const plugins = await loadPlugins(loaded.config, loaded.baseDir);
  const kernel = await createKernel({ config: loaded.config, plugins, ...options.kernel });
  return { kernel, configPath: loaded.path };
}
