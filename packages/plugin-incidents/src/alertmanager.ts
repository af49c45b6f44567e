/**
 * Alertmanager's webhook payload, version "4" (prometheus/alertmanager docs/configuration.md `<webhook_config>`;
 * notify/webhook/webhook.go, template/template.go). Unknown keys are ignored; `notification_reason` (v0.34+) and
 * `truncatedAlerts` are optional, so payloads from v0.25 to today all parse. The bearer token is compared in
 * constant time (SHA-256 of both sides, then `timingSafeEqual`), against every configured token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from '@rgz/core';

const timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an RFC 3339 timestamp');
const labelSet = z.record(z.string(), z.string());

export const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet.default({}),
  startsAt: timestamp,
  /** `0001-01-01T00:00:00Z` (Go's zero time) while firing. */
  endsAt: timestamp,
  generatorURL: z.string().max(4096).default(''),
  fingerprint: z.string().min(1).max(128),
});

export const payloadSchema = z.object({
  version: z.literal('4', { error: 'only Alertmanager webhook payload version "4" is understood' }),
  groupKey: z.string().max(4096),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(512),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: z.string().max(4096).default(''),
  notification_reason: z.string().optional(),
  alerts: z.array(alertSchema).min(1).max(1000),
});

export type AlertmanagerAlert = z.output<typeof alertSchema>;
export type AlertmanagerPayload = z.output<typeof payloadSchema>;

/** Go's zero time: a firing alert's `endsAt`. */
export function isZeroTime(s: string): boolean {
  return Date.parse(s) <= Date.parse('0001-01-02T00:00:00Z');
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Whether `header` is `Bearer <one of tokens>`, in time independent of where a token differs. */
export function bearerMatches(header: string | undefined, tokens: readonly string[]): boolean {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  const presented = digest(m?.[1] ?? '');
  let ok = false;
  for (const token of tokens) ok = timingSafeEqual(presented, digest(token)) || ok;
  return ok && !!m;
}
