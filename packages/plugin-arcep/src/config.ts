/**
 * `plugins[].config` of the `arcep` plugin: who reports, the signing key (the operator's Ed25519 key, the same one that
 * signs invoices), the quarterly schedule, which data sources must be present, and where the report is delivered.
 */
import { signingKeyConfigSchema, z } from '@rgz/core';

const ID = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes');
const flag = z.union([z.boolean(), z.stringbool()]);

export const operatorSchema = z.object({
  legalName: z.string().min(1).max(200),
  /** ISO 3166-1 alpha-2. */
  country: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .default('BJ'),
  /** Licence or authorisation number issued by ARCEP. */
  licenceNumber: z.string().min(1).max(80).optional(),
  /** IFU. */
  taxId: z.string().min(1).max(40).optional(),
  address: z.string().min(1).max(400).optional(),
  contactEmail: z
    .string()
    .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an e-mail address')
    .optional(),
});

const source = z.enum(['required', 'optional']);

export const configSchema = z.object({
  operator: operatorSchema,
  signing: signingKeyConfigSchema,
  /** Id under which this plugin contributes its `ReportExporter` (the ARCEP Bénin format). */
  exporterId: ID.default('arcep-bj'),
  /** The `ReportExporter` the quarterly report uses (another plugin may contribute a newer format). */
  exporter: ID.default('arcep-bj'),
  schedule: z
    .object({
      /** 10th of the month after each quarter, 07:00. */
      cron: z.string().default('0 7 10 1,4,7,10 *'),
      /** Zone of the cron and of the quarter boundaries; default: the server's `timezone`. */
      timezone: z.string().optional(),
      enabled: flag.default(true),
    })
    .default({ cron: '0 7 10 1,4,7,10 *', enabled: true }),
  /**
   * Where the figures come from. `required`: the report is not produced when the source's tables are absent (a
   * regulator report with silently empty sessions is worse than none); `optional`: produced with that part empty and
   * the absence recorded with the report.
   */
  sources: z
    .object({
      /** `radius_sessions` (+ `radius_nas`) of the radius plugin: subscribers and per-AP sessions. */
      sessions: source.default('required'),
      /** `incidents_incidents` of the incidents plugin. */
      incidents: source.default('required'),
    })
    .default({ sessions: 'required', incidents: 'required' }),
  delivery: z
    .object({
      /** HTTPS multipart upload (every file in one POST). */
      http: z
        .object({
          url: z.url({ protocol: /^https?$/ }),
          /** Extra headers (an API key given by the recipient): write secrets as `${env:…}`. */
          headers: z.record(z.string(), z.string()).default({}),
          /** Form field name of the files. */
          fileField: z.string().min(1).default('files'),
          timeoutMs: z.coerce.number().int().min(1000).max(600_000).default(60_000),
          /** Allow a plain http:// URL (tests, a relay on the LAN). */
          allowInsecureHttp: flag.default(false),
        })
        .refine((h) => h.allowInsecureHttp || h.url.startsWith('https://'), 'the upload URL must be https:// (or set allowInsecureHttp: true)')
        .optional(),
      /** A folder the operator sends from (e-mail, the regulator's web form, a USB key): `<folder>/<label>/…`; null: none. */
      folder: z.string().min(1).nullable().default('var/arcep/outbox'),
      maxAttempts: z.coerce.number().int().min(1).max(50).default(10),
      backoffSeconds: z.coerce.number().int().min(1).max(3600).default(300),
    })
    .default({ folder: 'var/arcep/outbox', maxAttempts: 10, backoffSeconds: 300 }),
});

export type ArcepConfig = z.output<typeof configSchema>;
