/**
 * `plugins[].config` of the `reports` plugin: the operator's legal details printed on every invoice, the signing key,
 * numbering, language, schedule, SMTP and archive. Secrets (SMTP password, the key) are best written as
 * `${file:/run/secrets/…}` or `${env:…}` so they never sit in the config file.
 */
import { signingKeyConfigSchema, z } from '@rgz/core';

const ID = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes');
const flag = z.union([z.boolean(), z.stringbool()]);

export const LANGUAGES = ['fr', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** The operator as it appears on invoices (Bénin: RCCM = trade register number, IFU = tax identification number). */
export const operatorSchema = z.object({
  name: z.string().min(1).max(200),
  address: z.string().min(1).max(400),
  rccm: z.string().min(1).max(80),
  ifu: z.string().min(1).max(40),
  phone: z.string().min(1).max(40),
  email: z.string().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an e-mail address'),
});
export type OperatorDetails = z.output<typeof operatorSchema>;

export const configSchema = z.object({
  operator: operatorSchema,
  signing: signingKeyConfigSchema,
  /** Default language of invoices and e-mails; per reseller: `PUT /api/reports/resellers/{id}/language`. */
  language: z.enum(LANGUAGES).default('fr'),
  numbering: z
    .object({
      /** Invoice numbers: `<prefix>-<year>-<6 digits>` (RGZ-2026-000123), gap-free per prefix and year of issue. */
      prefix: z
        .string()
        .regex(/^[A-Z0-9]{1,12}$/, 'capital letters and digits')
        .default('RGZ'),
      /** Credit notes have their own gap-free series: `<creditNotePrefix>-<year>-<6 digits>` (RGZ-AV-2026-000001). */
      creditNotePrefix: z
        .string()
        .regex(/^[A-Z0-9]{1,12}(-[A-Z0-9]{1,12})?$/, 'capital letters, digits, one dash')
        .default('RGZ-AV'),
    })
    .default({ prefix: 'RGZ', creditNotePrefix: 'RGZ-AV' }),
  /** The monthly job: on the 5th at 06:00 (server time zone) for the previous month. */
  schedule: z
    .object({
      cron: z.string().default('0 6 5 * *'),
      /** IANA zone of the cron and of the month boundaries; default: the server's `timezone`. */
      timezone: z.string().optional(),
      enabled: flag.default(true),
    })
    .default({ cron: '0 6 5 * *', enabled: true }),
  /** Outgoing mail. Without it invoices are not e-mailed (the delivery is recorded as skipped). */
  smtp: z
    .object({
      host: z.string().min(1),
      port: z.coerce.number().int().min(1).max(65535).default(587),
      /** TLS from the first byte (port 465); otherwise STARTTLS when offered. */
      secure: flag.default(false),
      requireTls: flag.default(false),
      rejectUnauthorized: flag.default(true),
      auth: z.object({ user: z.string().min(1), pass: z.string().min(1) }).optional(),
      /** `Facturation RGZ <factures@example.bj>` */
      from: z.string().min(3),
      /** A copy of every invoice e-mail (the operator's accounting mailbox). */
      bcc: z.string().optional(),
      timeoutMs: z.coerce.number().int().min(100).max(120_000).default(15_000),
    })
    .optional(),
  archive: z
    .object({
      /** Local folder (created if missing) where every PDF is written as `<year>/<number>.pdf`; null: none. */
      folder: z.string().min(1).nullable().default('var/invoices'),
      /** `BackupTarget` ids (a NAS, S3) to put each PDF to, under `<keyPrefix>/<year>/<number>.pdf`. */
      targets: z.array(ID).default([]),
      keyPrefix: z
        .string()
        .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'a BackupKey prefix such as invoices')
        .default('invoices'),
    })
    .default({ folder: 'var/invoices', targets: [], keyPrefix: 'invoices' }),
  delivery: z
    .object({
      maxAttempts: z.coerce.number().int().min(1).max(50).default(10),
      backoffSeconds: z.coerce.number().int().min(1).max(3600).default(60),
    })
    .default({ maxAttempts: 10, backoffSeconds: 60 }),
});

export type ReportsConfig = z.output<typeof configSchema>;
