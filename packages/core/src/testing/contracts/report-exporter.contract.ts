/**
 * Contract suite every `ReportExporter` runs over sample period data: it produces files with safe, unique names and
 * declared content types, byte-identical on a second run (exports are archived and signed), independent of the
 * process time zone and clock, and it does not mutate its input.
 */

import { describe, expect, it } from 'vitest';
import type { ReportExporter, ReportFile, ReportInput } from '../../extension-points/report-exporter.js';
import { sameBytes } from './util.js';

export interface ReportExporterHarness {
  readonly exporter: ReportExporter;
  /** Sample inputs, one per period kind the exporter supports at least; include one with empty lists. */
  readonly inputs: readonly ReportInput[];
  /** Optional semantic check of the files for an input (parse the CSV, check totals). */
  check?(input: ReportInput, files: readonly ReportFile[]): void | Promise<void>;
}

const FILE_NAME = /^[A-Za-z0-9._-]+$/;

const bareType = (contentType: string) => contentType.split(';')[0]?.trim().toLowerCase() ?? '';

/** Structured copy that keeps bigint and Date, to detect mutation. */
const snapshot = (input: ReportInput) => structuredClone(input);

export function reportExporterContract(name: string, make: () => ReportExporterHarness | Promise<ReportExporterHarness>): void {
  describe(`ReportExporter contract: ${name}`, () => {
    it('has an id, a provider, a title and declared outputs', async () => {
      const { exporter, inputs } = await make();
      expect(exporter.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(exporter.provider.length).toBeGreaterThan(0);
      expect(exporter.title.length).toBeGreaterThan(0);
      expect(exporter.periodKinds.length).toBeGreaterThan(0);
      expect(exporter.contentTypes.length).toBeGreaterThan(0);
      expect(inputs.length, 'harness gives sample inputs').toBeGreaterThan(0);
    });

    it('produces files with safe unique names and declared content types', async () => {
      const harness = await make();
      const { exporter } = harness;
      for (const input of harness.inputs) {
        const files = await exporter.export(input);
        expect(files.length, input.period.label).toBeGreaterThan(0);
        const names = files.map((f) => f.name);
        expect(new Set(names).size, `${input.period.label}: unique names`).toBe(names.length);
        for (const file of files) {
          expect(file.name, input.period.label).toMatch(FILE_NAME);
          expect(file.name.startsWith('.'), `${file.name}: not hidden`).toBe(false);
          expect(
            exporter.contentTypes.map((t) => t.toLowerCase()),
            file.name,
          ).toContain(bareType(file.contentType));
          expect(file.bytes, file.name).toBeInstanceOf(Uint8Array);
          expect(file.bytes.length, `${file.name}: not empty`).toBeGreaterThan(0);
        }
        await harness.check?.(input, files);
      }
    });

    it('is reproducible: same input, same names and bytes, whatever the clock and time zone', async () => {
      const { exporter, inputs } = await make();
      const previousTz = process.env.TZ;
      try {
        for (const input of inputs) {
          process.env.TZ = 'UTC';
          const first = await exporter.export(input);
          process.env.TZ = 'Pacific/Kiritimati';
          await new Promise((resolve) => setTimeout(resolve, 20));
          const second = await exporter.export(input);
          expect(
            second.map((f) => f.name),
            input.period.label,
          ).toEqual(first.map((f) => f.name));
          for (const [i, file] of first.entries()) {
            const other = second[i];
            expect(other?.contentType, file.name).toBe(file.contentType);
            expect(other !== undefined && sameBytes(other.bytes, file.bytes), `${file.name}: identical bytes`).toBe(true);
          }
        }
      } finally {
        if (previousTz === undefined) delete process.env.TZ;
        else process.env.TZ = previousTz;
      }
    });

    it('does not mutate its input', async () => {
      const { exporter, inputs } = await make();
      for (const input of inputs) {
        const before = snapshot(input);
        await exporter.export(input);
        expect(input, input.period.label).toEqual(before);
      }
    });
  });
}
