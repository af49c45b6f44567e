/**
 * Contract suite every `LogParser` runs over sample lines the harness provides (real captures where they exist,
 * synthetic ones marked as such): each sample gives `null` or a record with the expected kind and fields; records
 * are well-formed and carry no secrets; the parser is total (no throw on garbage, truncation or huge lines) and pure.
 */

import { describe, expect, it } from 'vitest';
import type { LogParser, LogRecord, SyslogMessage, SyslogSeverity } from '../../extension-points/log-parser.js';
import { MAC } from './util.js';

export interface LogParserSample {
  /** Shown in failures; say where the line comes from (`FreeRADIUS 3.2.1 capture`, `synthetic: airOS hostapd`). */
  readonly name: string;
  readonly message: SyslogMessage;
  /** `null`: the parser must return null. Otherwise the record must have `kind` and contain the given values. */
  readonly expect: null | {
    readonly kind: string;
    readonly severity?: SyslogSeverity;
    readonly host?: string;
    readonly time?: Date;
    readonly subject?: LogRecord['subject'];
    readonly fields?: Readonly<Record<string, string | number | boolean>>;
  };
  /** Strings that must not appear anywhere in the record (passwords logged by `auth_badpass`). */
  readonly secrets?: readonly string[];
}

export interface LogParserHarness {
  readonly parser: LogParser;
  /** At least one sample with a non-null expectation and one the parser must ignore. */
  readonly samples: readonly LogParserSample[];
}

const KIND = /^[a-z0-9_]+(?:\.[a-z0-9_]+)+$/;

/** Assert the record's required shape. */
function expectWellFormed(record: LogRecord, context: string): void {
  expect(record.kind, context).toMatch(KIND);
  expect(record.time, context).toBeInstanceOf(Date);
  expect(Number.isNaN(record.time.getTime()), `${context}: time is a valid date`).toBe(false);
  expect([0, 1, 2, 3, 4, 5, 6, 7], context).toContain(record.severity);
  expect(typeof record.fields, context).toBe('object');
  for (const [key, value] of Object.entries(record.fields)) {
    expect(['string', 'number', 'boolean'], `${context}: fields.${key}`).toContain(typeof value);
    if (typeof value === 'number') expect(Number.isFinite(value), `${context}: fields.${key} finite`).toBe(true);
  }
  if (record.subject?.mac !== undefined) expect(record.subject.mac, `${context}: subject.mac`).toMatch(MAC);
}

/** Variants of a message that a robust parser must survive. */
function mangled(message: SyslogMessage): SyslogMessage[] {
  const text = message.message;
  const cuts = [0, 1, Math.floor(text.length / 3), Math.floor(text.length / 2), text.length - 1];
  return [
    ...cuts.map((n) => ({ ...message, message: text.slice(0, Math.max(0, n)) })),
    { ...message, message: `${text}${'A'.repeat(64 * 1024)}` },
    { ...message, message: text.replace(/[0-9a-f]{2}:/gi, 'zz:') },
    { ...message, message: text.replace(/\[/g, '').replace(/\]/g, '') },
    { ...message, message: `\u0000\u0001\uFFFD${text}\r\n` },
  ];
}

export function logParserContract(name: string, make: () => LogParserHarness | Promise<LogParserHarness>): void {
  describe(`LogParser contract: ${name}`, () => {
    const setup = async () => {
      const harness = await make();
      return { parser: harness.parser, samples: harness.samples };
    };

    it('has an id, a provider and app names', async () => {
      const { parser } = await setup();
      expect(parser.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(parser.provider.length).toBeGreaterThan(0);
      for (const app of parser.appNames) expect(app.length).toBeGreaterThan(0);
    });

    it('harness gives both recognised and ignored samples', async () => {
      const { samples } = await setup();
      expect(samples.some((s) => s.expect !== null)).toBe(true);
      expect(samples.some((s) => s.expect === null)).toBe(true);
    });

    it('parses each sample to null or to the expected, well-formed record', async () => {
      const { parser, samples } = await setup();
      for (const sample of samples) {
        const record = parser.parse(sample.message);
        if (sample.expect === null) {
          expect(record, sample.name).toBeNull();
          continue;
        }
        expect(record, sample.name).not.toBeNull();
        if (record === null) continue;
        expectWellFormed(record, sample.name);
        expect(record.kind, sample.name).toBe(sample.expect.kind);
        if (sample.expect.severity !== undefined) expect(record.severity, sample.name).toBe(sample.expect.severity);
        if (sample.expect.host !== undefined) expect(record.host, sample.name).toBe(sample.expect.host);
        if (sample.expect.time !== undefined) expect(record.time.getTime(), sample.name).toBe(sample.expect.time.getTime());
        if (sample.message.timestamp !== undefined) {
          expect(record.time.getTime(), `${sample.name}: time = message timestamp`).toBe(sample.message.timestamp.getTime());
        }
        if (sample.expect.subject !== undefined) expect(record.subject, sample.name).toMatchObject(sample.expect.subject);
        if (sample.expect.fields !== undefined) expect(record.fields, sample.name).toMatchObject(sample.expect.fields);
      }
    });

    it('never copies secrets into a record', async () => {
      const { parser, samples } = await setup();
      for (const sample of samples) {
        if (sample.secrets === undefined) continue;
        const serialised = JSON.stringify(parser.parse(sample.message));
        for (const secret of sample.secrets) expect(serialised, sample.name).not.toContain(secret);
      }
    });

    it('is total: garbage, truncated, huge or mangled lines give null or a well-formed record', async () => {
      const { parser, samples } = await setup();
      const base = samples[0]?.message;
      const inputs: SyslogMessage[] = [
        ...samples.flatMap((s) => mangled(s.message)),
        ...(base === undefined
          ? []
          : [
              { ...base, message: '' },
              { ...base, message: '   ' },
              { ...base, message: 'A'.repeat(256 * 1024) },
              { ...base, message: '\u0000'.repeat(100) },
              { format: 'raw' as const, message: 'random words here', receivedAt: new Date() },
            ]),
      ];
      for (const [i, input] of inputs.entries()) {
        const context = `input #${i}: ${JSON.stringify(input.message.slice(0, 80))}`;
        let record: LogRecord | null;
        try {
          record = parser.parse(input);
        } catch (error) {
          expect.fail(`${context}: parse threw ${String(error)}`);
        }
        if (record !== null) expectWellFormed(record, context);
      }
    });

    it('is pure: same output twice, input untouched', async () => {
      const { parser, samples } = await setup();
      for (const sample of samples) {
        const snapshot = structuredClone(sample.message);
        const first = parser.parse(sample.message);
        const second = parser.parse(sample.message);
        expect(second, sample.name).toEqual(first);
        expect(sample.message, sample.name).toEqual(snapshot);
      }
    });
  });
}
