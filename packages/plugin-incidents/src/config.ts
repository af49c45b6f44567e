/**
 * Configuration of the incidents plugin: the Alertmanager webhook token, the severity → priority mapping, and per
 * priority who is notified at opening, the escalation ladder and the repeat. Durations are `30s`, `5m`, `1h`.
 */
import { E164, type IncidentPriority, z } from '@rgz/core';

export const PRIORITIES = ['P0', 'P1', 'P2'] as const satisfies readonly IncidentPriority[];
const priority = z.enum(PRIORITIES);
const ID = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes');

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `5m`, `1.5h`, `250ms` → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration such as 30s, 5m or 1h`);
  return Math.round(Number(m[1]) * (UNITS[m[2] as string] as number));
}

export const duration = z
  .string()
  .regex(/^\d+(?:\.\d+)?(ms|s|m|h|d)$/, 'a duration such as 30s, 5m or 1h')
  .transform((s) => parseDuration(s));

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A recipient as written in config: `+229…` (SMS), `a@b.bj` (e-mail), `#room` (chat). */
export const recipient = z
  .string()
  .refine((s) => E164.test(s) || EMAIL.test(s) || /^#[\w.-]{1,80}$/.test(s), 'a phone number in E.164 (+229…), an e-mail address or a #room');

/** Notify through `channel` (a NotificationChannels id from the notify plugin) each of `to` (none: its default). */
export const target = z.object({
  channel: ID,
  to: z.array(recipient).default([]),
});

export const level = z.object({
  /** Not acknowledged this long after the previous step (the opening, or the previous level) → this level. */
  after: duration,
  notify: z.array(target).min(1),
});

export const policy = z.object({
  /** Notified when the incident opens. */
  notify: z.array(target).default([]),
  /** The ladder: level 1, 2, … each after its delay without acknowledgement. */
  escalation: z.array(level).default([]),
  /** Once the last level is reached, notify it again every … until acknowledged (default: once). */
  repeatEvery: duration.optional(),
  /** Tell everyone notified so far when the incident is resolved. */
  notifyResolved: z.boolean().default(true),
});

export const mappingRule = z.object({
  /** Every label here must equal the alert's (alertname, severity, any other label). */
  match: z.record(z.string(), z.string()).refine((m) => Object.keys(m).length > 0, 'match at least one label'),
  priority,
});

/** critical + DatabaseDown (the seed's "Send SMS + create incident") → P0, other critical → P1, warning → P2. */
export const DEFAULT_MAPPING: z.input<typeof mappingRule>[] = [
  { match: { severity: 'critical', alertname: 'DatabaseDown' }, priority: 'P0' },
  { match: { severity: 'critical' }, priority: 'P1' },
  { match: { severity: 'warning' }, priority: 'P2' },
];

const webhookSecret = z
  .string()
  .min(24, 'the Alertmanager webhook token must be at least 24 characters (openssl rand -hex 24)')
  .refine((s) => !s.startsWith('rgz_'), 'use a dedicated random token, not an RGZ API token');

export const configSchema = z.object({
  /**
   * Bearer token(s) Alertmanager sends (`http_config.authorization.credentials_file`). Several are accepted during a
   * rotation. Write it as `${env:RGZ_ALERTMANAGER_TOKEN}` or `${file:/run/secrets/…}`.
   */
  webhookToken: z.union([webhookSecret, z.array(webhookSecret).min(1)]).transform((t) => (Array.isArray(t) ? t : [t])),
  /** A label an alert rule may set to choose the priority itself (`priority: P0`); null to ignore it. */
  priorityLabel: z.string().nullable().default('priority'),
  /** Severity → priority, first match wins. */
  priorities: z.array(mappingRule).default(DEFAULT_MAPPING as never),
  /** Priority of an alert no rule matches. */
  defaultPriority: priority.default('P2'),
  policies: z
    .object({
      P0: policy.prefault({}),
      P1: policy.prefault({}),
      P2: policy.prefault({}),
    })
    .prefault({}),
  /** When the escalation job runs (global: one replica per tick). Six fields = with seconds. */
  escalationCron: z.string().default('* * * * *'),
  notifications: z
    .object({
      /** Attempts of one delivery before it is recorded as failed. */
      maxAttempts: z.coerce.number().int().min(1).max(50).default(10),
      /** First retry delay; doubles each attempt (capped at 1 h). */
      backoffSeconds: z.coerce.number().positive().default(15),
      timeoutSeconds: z.coerce.number().int().positive().default(60),
    })
    .prefault({}),
  /** This plugin's IncidentSink id (other plugins open incidents through it). */
  sinkId: ID.default('incidents'),
  /**
   * When the database cannot be reached, the webhook still pages the opening targets of these priorities directly
   * (once per alert per cooldown, from this replica's memory) and answers 503 so Alertmanager retries; the incident is
   * recorded when the database is back.
   */
  degraded: z
    .object({
      priorities: z.array(priority).default(['P0']),
      cooldown: duration.prefault('15m'),
      /** Give up on the database after this long and page directly. */
      storageTimeout: duration.prefault('8s'),
    })
    .prefault({}),
});

export type IncidentsConfig = z.output<typeof configSchema>;
export type Policy = z.output<typeof policy>;
export type Target = z.output<typeof target>;
export type MappingRule = z.output<typeof mappingRule>;

/** The priority of an alert with these labels. */
export function priorityFor(
  labels: Readonly<Record<string, string>>,
  config: Pick<IncidentsConfig, 'priorityLabel' | 'priorities' | 'defaultPriority'>,
): IncidentPriority {
  if (config.priorityLabel) {
    const explicit = labels[config.priorityLabel];
    if (explicit && (PRIORITIES as readonly string[]).includes(explicit)) return explicit as IncidentPriority;
  }
  for (const rule of config.priorities) {
    if (Object.entries(rule.match).every(([k, v]) => labels[k] === v)) return rule.priority;
  }
  return config.defaultPriority;
}
