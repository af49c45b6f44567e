/**
 * Orders plugins so that every provider sets up before its dependants (tokens, points, `requires`), and fails
 * with names when something is missing, duplicated or circular.
 */
import { RgzError } from '../errors/rgz-error.js';
import type { RgzPlugin } from '../plugin/define-plugin.js';

export interface PluginInstance {
  /** Instance name. */
  name: string;
  plugin: RgzPlugin;
  /** Where it was loaded from (package name or path), for messages. */
  source: string;
}

export function orderPlugins(instances: PluginInstance[]): PluginInstance[] {
  const byName = new Map<string, PluginInstance>();
  for (const inst of instances) {
    const other = byName.get(inst.name);
    if (other) {
      throw new RgzError(
        'plugin_duplicate',
        `plugin instance "${inst.name}" is loaded twice (${other.source} and ${inst.source}); give one a different \`name\` in config`,
      );
    }
    byName.set(inst.name, inst);
  }
  const pluginNames = new Set(instances.map((i) => i.plugin.name));
  for (const inst of instances) {
    for (const req of inst.plugin.requires ?? []) {
      if (!pluginNames.has(req)) {
        throw new RgzError('plugin_missing', `plugin "${inst.name}" requires plugin "${req}", which is not loaded; add it to \`plugins\` in the config`);
      }
    }
  }
  // Who provides each token / point id. Points may have many contributors: all of them come first.
  const providers = new Map<string, PluginInstance[]>();
  for (const inst of instances) {
    for (const p of inst.plugin.provides ?? []) {
      const list = providers.get(p.id) ?? [];
      list.push(inst);
      providers.set(p.id, list);
    }
  }
  const edges = new Map<string, Set<string>>();
  for (const inst of instances) {
    const before = new Set<string>();
    for (const req of inst.plugin.requires ?? []) for (const other of instances) if (other.plugin.name === req) before.add(other.name);
    for (const dep of Object.values(inst.plugin.deps ?? {})) {
      const provs = providers.get(dep.id);
      if (!provs?.length) {
        if (dep.kind === 'point') continue; // a point may legitimately have no implementation yet
        throw new RgzError(
          'plugin_dependency_missing',
          `plugin "${inst.name}" needs "${dep.id}", which no loaded plugin provides; add a plugin that provides it`,
        );
      }
      for (const p of provs) if (p !== inst) before.add(p.name);
    }
    edges.set(inst.name, before);
  }
  const ordered: PluginInstance[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]) => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name].join(' → ');
      throw new RgzError('plugin_cycle', `plugins depend on each other in a circle: ${cycle}`);
    }
    state.set(name, 'visiting');
    for (const dep of edges.get(name) ?? []) visit(dep, [...trail, name]);
    state.set(name, 'done');
    ordered.push(byName.get(name) as PluginInstance);
  };
  for (const inst of instances) visit(inst.name, []);
  return ordered;
}
