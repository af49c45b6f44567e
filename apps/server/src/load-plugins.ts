/**
 * Turns the config's `plugins` list (package names or paths) into plugin values, resolving each package from
 * the config file's folder, so an installation's own node_modules decides what is loaded.
 */
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isPlugin, type PluginLoad, RgzError, type ServerConfig } from '@rgz/core';

export async function loadPlugins(config: ServerConfig, baseDir: string): Promise<PluginLoad[]> {
  // Plugins are looked up next to the config first (an integrator's project), then where @rgz/server itself is
  // installed (an operator's /opt/rgz with the config in /etc/rgz).
  const fromConfig = createRequire(join(baseDir, 'noop.js'));
  const fromServer = createRequire(import.meta.url);
  const require = {
    resolve(id: string): string {
      try {
        return fromConfig.resolve(id);
      } catch (err) {
        try {
          return fromServer.resolve(id);
        } catch {
          throw err;
        }
      }
    },
  };
  const loads: PluginLoad[] = [];
  for (const [index, entry] of config.plugins.entries()) {
    if (!entry.enabled) continue;
    const where = `plugins[${index}] (${entry.package})`;
    let url: string;
    if (entry.package.startsWith('.') || isAbsolute(entry.package)) {
      url = pathToFileURL(resolve(baseDir, entry.package)).href;
    } else {
      try {
        url = pathToFileURL(require.resolve(entry.package)).href;
      } catch (err) {
        let installed = false;
        try {
          require.resolve(`${entry.package}/package.json`);
          installed = true;
        } catch {
          installed = false;
        }
        if (installed) {
          throw new RgzError(
            'plugin_not_built',
            `${where}: package "${entry.package}" is installed but its entry point cannot be loaded (${(err as Error).message}); if it is a workspace package, build it (npm run build)`,
          );
        }
        throw new RgzError(
          'plugin_not_installed',
          `${where}: package "${entry.package}" is not installed next to the config; run \`npm install ${entry.package}\``,
        );
      }
    }
    let mod: { default?: unknown };
    try {
      mod = (await import(url)) as { default?: unknown };
    } catch (err) {
      throw new RgzError('plugin_load_failed', `${where}: could not be imported: ${(err as Error).message}`, { cause: err });
    }
    const plugin = mod.default;
    if (!isPlugin(plugin)) {
      throw new RgzError('plugin_invalid', `${where}: its default export is not a definePlugin({...}) value`);
    }
    loads.push({ plugin, name: entry.name, config: entry.config, source: entry.package });
  }
  return loads;
}
