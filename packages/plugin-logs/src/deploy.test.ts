/**
 * deploy/elasticsearch and deploy/logstash, checked: every JSON file parses and equals what the plugin installs
 * (src/output/templates.ts is the source; `RGZ_UPDATE_DEPLOY=1 npx vitest run src/deploy.test.ts` rewrites the files);
 * the ILM policy is the seed's (hot 0–30 d with rollover at 60 GB, warm 30–300 d read-only + force merge + compress,
 * optional cold, delete at 365 d); every field the plugin writes is mapped; the Logstash pipelines write the same
 * indices and only fields the templates map. Logstash itself cannot be installed here, so its config syntax is
 * checked structurally only (balanced braces and quotes, the three sections), not by `logstash -t`.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INDEX_KINDS } from './output/records.js';
import { FIELD_TYPES, ilmPolicy, indexTemplate, ismPolicy, PROMOTED } from './output/templates.js';

const deploy = new URL('../../../deploy/', import.meta.url).pathname;
const update = process.env.RGZ_UPDATE_DEPLOY === '1';

const expected: Record<string, unknown> = {
  'elasticsearch/ilm/rgz-logs.json': ilmPolicy(true),
  'elasticsearch/ilm/rgz-logs-daily.json': ilmPolicy(false),
  'elasticsearch/ism/rgz-logs.json': ismPolicy(true),
  'elasticsearch/ism/rgz-logs-daily.json': ismPolicy(false),
  ...Object.fromEntries(INDEX_KINDS.map((k) => [`elasticsearch/index-templates/logstash-${k}.json`, indexTemplate(k, 'elasticsearch')])),
  ...Object.fromEntries(INDEX_KINDS.map((k) => [`elasticsearch/opensearch-index-templates/logstash-${k}.json`, indexTemplate(k, 'opensearch')])),
};

describe('deploy/elasticsearch', () => {
  if (update) {
    for (const [file, body] of Object.entries(expected)) {
      mkdirSync(dirname(join(deploy, file)), { recursive: true });
      writeFileSync(join(deploy, file), `${JSON.stringify(body, null, 2)}\n`);
    }
  }

  it('every JSON file parses and equals what the plugin installs', () => {
    for (const [file, body] of Object.entries(expected)) {
      const text = readFileSync(join(deploy, file), 'utf8');
      expect(JSON.parse(text), file).toEqual(body);
    }
    // No stray JSON file that the plugin does not know about.
    const found = ['ilm', 'ism', 'index-templates', 'opensearch-index-templates'].flatMap((d) =>
      readdirSync(join(deploy, 'elasticsearch', d)).map((f) => `elasticsearch/${d}/${f}`),
    );
    expect(found.sort()).toEqual(Object.keys(expected).sort());
  });

  it("rgz-logs is the seed's policy exactly; rgz-logs-daily the same without rollover", () => {
    const seed = JSON.parse(readFileSync(join(deploy, 'elasticsearch/ilm/rgz-logs.json'), 'utf8')) as {
      policy: { phases: Record<string, { min_age: string; actions: Record<string, unknown> }> };
    };
    const p = seed.policy.phases;
    expect(Object.keys(p)).toEqual(['hot', 'warm', 'cold', 'delete']);
    expect(p.hot).toEqual({ min_age: '0ms', actions: { rollover: { max_size: '60gb' }, set_priority: { priority: 100 } } });
    expect(p.warm?.min_age).toBe('30d');
    expect(p.warm?.actions).toMatchObject({ readonly: {}, forcemerge: { max_num_segments: 1, index_codec: 'best_compression' } });
    expect(p.cold?.min_age).toBe('300d');
    expect(p.delete).toEqual({ min_age: '365d', actions: { delete: {} } });
    const daily = JSON.parse(readFileSync(join(deploy, 'elasticsearch/ilm/rgz-logs-daily.json'), 'utf8')) as typeof seed;
    const { rollover: _r, ...hotActions } = p.hot?.actions ?? {};
    expect(daily.policy.phases).toEqual({ ...p, hot: { min_age: '0ms', actions: hotActions } });
  });

  it('ISM mirrors the phases: hot → warm at 30 d (read-only, force merge) → cold at 300 d → delete at 365 d', () => {
    const ism = JSON.parse(readFileSync(join(deploy, 'elasticsearch/ism/rgz-logs-daily.json'), 'utf8')) as {
      policy: {
        states: Array<{
          name: string;
          actions: Array<Record<string, unknown>>;
          transitions: Array<{ state_name: string; conditions: { min_index_age: string } }>;
        }>;
        ism_template: unknown;
      };
    };
    const states = ism.policy.states;
    expect(states.map((s) => s.name)).toEqual(['hot', 'warm', 'cold', 'delete']);
    expect(states.map((s) => s.transitions[0]?.conditions.min_index_age)).toEqual(['30d', '300d', '365d', undefined]);
    expect(states[1]?.actions.map((a) => Object.keys(a)[0])).toEqual(['read_only', 'force_merge', 'index_priority']);
    expect(states[3]?.actions).toEqual([{ delete: {} }]);
    expect(ism.policy.ism_template).toEqual([
      { index_patterns: ['logstash-api-*', 'logstash-radius-*', 'logstash-cpe-*', 'logstash-netflow-*'], priority: 100 },
    ]);
  });

  it('templates: explicit ip / keyword / date mappings, dynamic false, the daily policy (Elasticsearch only)', () => {
    for (const kind of INDEX_KINDS) {
      const t = JSON.parse(readFileSync(join(deploy, `elasticsearch/index-templates/logstash-${kind}.json`), 'utf8')) as {
        index_patterns: string[];
        template: { settings: { index: Record<string, unknown> }; mappings: { dynamic: boolean; properties: Record<string, { type: string }> } };
      };
      expect(t.index_patterns).toEqual([`logstash-${kind}-*`]);
      expect(t.template.settings.index.lifecycle).toEqual({ name: 'rgz-logs-daily' });
      expect(t.template.mappings.dynamic).toBe(false);
      const props = t.template.mappings.properties;
      expect(props['@timestamp']?.type).toBe('date');
      const types = new Set(Object.values(props).map((p) => p.type));
      expect(types.has('keyword') && types.has('date')).toBe(true);
    }
    const netflow = JSON.parse(readFileSync(join(deploy, 'elasticsearch/index-templates/logstash-netflow.json'), 'utf8'));
    expect(netflow.template.mappings.properties).toMatchObject({
      source_ip: { type: 'ip' },
      dest_ip: { type: 'ip' },
      bytes: { type: 'long' },
      duration_ms: { type: 'long' },
      protocol: { type: 'keyword' },
    });
    const api = JSON.parse(readFileSync(join(deploy, 'elasticsearch/index-templates/logstash-api.json'), 'utf8'));
    expect(api.template.mappings.properties).toMatchObject({
      timestamp: { type: 'date' },
      level: { type: 'keyword' },
      message: { type: 'text' },
      service: { type: 'keyword' },
      request_id: { type: 'keyword' },
    });
    // Promoted parser fields are mapped in the syslog indices.
    for (const f of PROMOTED) expect(FIELD_TYPES.cpe[f], f).toBeDefined();
  });
});

describe('deploy/logstash', () => {
  const confDir = join(deploy, 'logstash/conf.d');
  const files = ['api_logs.conf', 'radius_logs.conf', 'cpe_syslog.conf', 'netflow_logs.conf'];

  it("has the seed's four pipelines, each in pipelines.yml", () => {
    expect(readdirSync(confDir).sort()).toEqual([...files].sort());
    const yml = readFileSync(join(deploy, 'logstash/pipelines.yml'), 'utf8');
    for (const id of ['api_logs', 'radius_logs', 'cpe_syslog', 'netflow_logs']) {
      expect(yml).toContain(`- pipeline.id: ${id}`);
      expect(yml).toContain(`conf.d/rgz/${id}.conf`);
    }
    expect(yml.match(/pipeline\.ecs_compatibility: disabled/g)).toHaveLength(4);
  });

  for (const file of files) {
    it(`${file}: structurally sound (sections, balanced braces and quotes), writes the seed's index`, () => {
      const text = readFileSync(join(confDir, file), 'utf8');
      const code = stripComments(text);
      for (const section of ['input', 'filter', 'output']) expect(code, section).toMatch(new RegExp(`^${section} \\{`, 'm'));
      expect(balanced(code), 'braces/brackets/quotes balance').toBe(true);
      const kind = { 'api_logs.conf': 'api', 'radius_logs.conf': 'radius', 'cpe_syslog.conf': 'cpe', 'netflow_logs.conf': 'netflow' }[file];
      const index = /index => "([^"]+)"/.exec(code)?.[1];
      expect(index).toBe(kind === 'api' ? 'logstash-%{[@metadata][index]}-%{+YYYY.MM.dd}' : `logstash-${kind}-%{+YYYY.MM.dd}`);
      expect(code).toContain('manage_template => false');
    });
  }

  it('the pipelines only add fields the templates map (same names as the plugin)', () => {
    const mapped = new Set(Object.values(FIELD_TYPES).flatMap((t) => Object.keys(t)));
    const produced = new Set<string>();
    for (const file of files) {
      const code = stripComments(readFileSync(join(confDir, file), 'utf8'));
      for (const m of code.matchAll(/%\{[A-Z0-9_]+:([a-z_]+)(?::int)?\}/g)) produced.add(m[1] as string);
      for (const m of code.matchAll(/\(\?<([a-z_]+)>/g)) produced.add(m[1] as string);
      for (const m of code.matchAll(/event\.set\("([a-z_]+)"/g)) produced.add(m[1] as string);
      // add_field: the keys; copy / rename: the targets.
      for (const m of code.matchAll(/(add_field|copy|rename) => \{((?: "[^"]+" => "[^"]*")+) \}/g)) {
        for (const pair of (m[2] as string).matchAll(/"([^"]+)" => "([^"]*)"/g)) produced.add((m[1] === 'add_field' ? pair[1] : pair[2]) as string);
      }
    }
    // Working fields removed before output, and grok's own.
    for (const f of ['syslog_pri', 'syslog_ts', 'syslog_message', 'sd', 'outcome', 'auth_result', 'program', 'pid', '[@metadata][index]']) produced.delete(f);
    const unmapped = [...produced].filter((f) => !mapped.has(f));
    expect(unmapped).toEqual([]);
  });
});

function stripComments(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n');
}

/** Braces, brackets and double quotes balance outside single-quoted ruby code and regex literals. */
function balanced(code: string): boolean {
  const stack: string[] = [];
  let inDouble = false;
  let inSingle = false;
  let inRegex = false;
  for (let i = 0; i < code.length; i++) {
    const c = code[i] as string;
    if (inDouble) {
      if (c === '\\') i++;
      else if (c === '"') inDouble = false;
      continue;
    }
    if (inSingle) {
      if (c === "'") inSingle = false;
      continue;
    }
    if (inRegex) {
      if (c === '\\') i++;
      else if (c === '/') inRegex = false;
      continue;
    }
    if (c === '"') inDouble = true;
    else if (c === "'") inSingle = true;
    else if (c === '/' && /=~\s*$/.test(code.slice(Math.max(0, i - 4), i))) inRegex = true;
    else if (c === '{' || c === '[') stack.push(c);
    else if (c === '}' || c === ']') {
      const open = stack.pop();
      if ((c === '}' && open !== '{') || (c === ']' && open !== '[')) return false;
    }
  }
  return stack.length === 0 && !inDouble && !inSingle && !inRegex;
}
