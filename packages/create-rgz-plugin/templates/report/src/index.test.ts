import { readFileSync } from 'node:fs';
import { ReportExporters } from '@rgz/core';
import { reportExporterContract, startTestServer } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import { createCsvExporter } from './exporter.js';
import plugin from './index.js';
import { emptyQuarter, month, parseCsv } from './test-support/inputs.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

// The shared ReportExporter contract from @rgz/core/testing, plus a check that the CSV reads back.
for (const separator of [',', ';'] as const) {
  reportExporterContract(`{{NAME}} (separator ${separator})`, () => ({
    exporter: createCsvExporter({ id: 'contract', filePrefix: 'demo', separator, bom: separator === ';' }),
    inputs: [month, emptyQuarter],
    check(input, files) {
      const points = files.find((f) => f.name.endsWith('_access-points.csv'));
      const rows = parseCsv(new TextDecoder().decode(points?.bytes).replace(/^\uFEFF/, ''), separator);
      expect(rows.length).toBe(input.accessPoints.length + 1);
      for (const [i, ap] of input.accessPoints.entries()) {
        const row = Object.fromEntries((rows[0] ?? []).map((column, c) => [column, rows[i + 1]?.[c]]));
        expect(row).toMatchObject({ id: ap.id, name: ap.name, bytes_down: String(ap.bytesDown), address: ap.location?.address ?? '' });
      }
    },
  }));
}

it("declares package.json's version and name", () => {
  expect(plugin.version).toBe(pkg.version);
  expect(pkg.name.replace(/^@[^/]+\//, '')).toBe(`rgz-plugin-${plugin.name}`);
});

describe('{{NAME}} in a server', () => {
  it('contributes its exporter under the config id, named files from config', async () => {
    const server = await startTestServer({ plugins: [{ plugin, config: { id: 'csv', filePrefix: 'wifi-demo' } }] });
    try {
      const files = await server.collect(ReportExporters).get('csv')?.export(month);
      expect(files?.map((f) => f.name)).toEqual(['wifi-demo_2026-10_summary.csv', 'wifi-demo_2026-10_access-points.csv', 'wifi-demo_2026-10_incidents.csv']);
    } finally {
      await server.close();
    }
  });

  it('refuses a bad config, naming the key', async () => {
    await expect(startTestServer({ plugins: [{ plugin, config: { separator: 'tab' } }] })).rejects.toMatchObject({
      code: 'config_invalid',
      path: 'plugins.{{NAME}}.config.separator',
    });
  });
});
