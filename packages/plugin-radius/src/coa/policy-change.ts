/**
 * Handler of core's `nas.policy-change` task (enqueued with a plan activation, refund, grant or admin action): bring
 * every open session of the subscriber in line with the plan.
 *
 * Attempts 1..`coa.attempts` (default 3): a CoA-Request per open session, built by the session NAS's NasVendor from
 * the active plan (rate lowered by a DBA rate override in force, what is left of the quota plus what this session already
 * used, session timeout). ACK → done
 * for that session. NAK with Error-Cause 503 (Session-Context-Not-Found) → the session is already gone, done. Other
 * NAK, timeout, unreachable → the attempt throws and the task queue retries it with exponential backoff.
 * After that (or at once for `admin_disconnect`, for a subscriber without an active plan, and for a NAS whose dialect
 * changes policy only by disconnecting): a Disconnect-Request per session not yet done, so the next login picks the
 * plan up; those are retried too until the task's last attempt.
 * Sessions already ACKed by an earlier attempt of the same task are not sent again (progress kept in KV for a day).
 * Every outcome is appended to the audit log and counted in `radius_coa_total{vendor,result}`.
 */

import {
  type AuditInput,
  type CoreDatabase,
  findActivePlan,
  type Kv,
  type Kysely,
  type Logger,
  type NasClient,
  type NasPolicyChange,
  NasRequestError,
  type NasResponse,
  type NasSessionRef,
  type NasVendor,
  type RadiusAttribute,
  RadiusAttributeType,
  RadiusErrorCause,
  readRateOverride,
  type TaskContext,
} from '@rgz/core';
import type { RadiusConfig } from '../config.js';
import type { NasEntry, NasRegistry } from '../nas/registry.js';
import type { RadiusDatabase } from '../schema.js';
import type { RadiusMetrics } from '../server/metrics.js';
import { planPolicy, quotaWindow, usage } from '../server/policy.js';

export interface PolicyChangeDeps {
  db: Kysely<RadiusDatabase>;
  kv: Kv;
  config: RadiusConfig;
  timeZone: string;
  staleAfterSeconds: number;
  registry: NasRegistry;
  vendor(id: string): NasVendor | undefined;
  client(): NasClient | undefined;
  metrics: RadiusMetrics;
  log: Logger;
  audit(entry: AuditInput): Promise<void>;
}

type SessionResult = 'done' | 'failed';

const progressKey = (taskId: string) => `rgz:radius:policy-task:${taskId}`;

export async function handlePolicyChange(
  deps: PolicyChangeDeps,
  payload: NasPolicyChange,
  task: Pick<TaskContext, 'taskId' | 'attempt' | 'signal'>,
): Promise<void> {
  const subscriber = await deps.db
    .selectFrom('subscribers')
    .select(['id', 'subscriber_ref', 'reseller_id'])
    .where('id', '=', payload.subscriberId)
    .executeTakeFirst();
  const base = { targetType: 'subscriber', targetId: payload.subscriberId, resellerId: subscriber?.reseller_id ?? null };
  const audit = (action: string, details: Record<string, unknown>) =>
    deps.audit({ ...base, action, details: { task_id: task.taskId, attempt: task.attempt, reason: payload.reason, ...details } });
  if (subscriber === undefined) {
    await audit('radius.policy.no_subscriber', {});
    return;
  }

  const sessions = await deps.db
    .selectFrom('radius_sessions')
    .select(['id', 'nas_id', 'nas_identifier', 'nas_ip_address', 'acct_session_id', 'user_name', 'calling_station_id', 'framed_ip', 'bytes_in', 'bytes_out'])
    .where('subscriber_id', '=', subscriber.id)
    .where('session_stop', 'is', null)
    .orderBy('id')
    .execute();
  const done = new Set(await deps.kv.smembers(progressKey(task.taskId)));
  const todo = sessions.filter((s) => !done.has(String(s.id)));
  if (sessions.length === 0) {
    await audit('radius.policy.no_session', {});
    return;
  }
  if (todo.length === 0) return;

  const client = deps.client();
  if (client === undefined) throw new Error(`no NasClient "${deps.config.coa.client}" is loaded`);
  const now = new Date();
  const active = payload.reason === 'admin_disconnect' ? null : await findActivePlan(deps.db as unknown as Kysely<CoreDatabase>, subscriber.id, now);
  const coaPhase = payload.reason !== 'admin_disconnect' && active !== null && task.attempt <= deps.config.coa.attempts;
  if (!coaPhase && task.attempt === deps.config.coa.attempts + 1 && active !== null && payload.reason !== 'admin_disconnect') {
    await audit('radius.policy.disconnect_fallback', { after_attempts: deps.config.coa.attempts, sessions: todo.map((s) => s.id) });
  }

  let used: number | undefined;
  if (coaPhase && active !== null) {
    const window = quotaWindow(active, now, deps.timeZone);
    used = (await usage(deps.db, { subscriberId: subscriber.id, windowStart: window.start, onlineSince: now })).usedBytes;
  }
  const ttl = await deps.kv.ttl(`rgz:session:${subscriber.id}`);
  // DBA writes the override before it enqueues the task, so this read sees the rate the task was sent for.
  const rateOverride = coaPhase ? await readRateOverride(deps.kv, subscriber.id) : null;

  const results = await Promise.all(
    todo.map(async (session): Promise<SessionResult> => {
      const nas = deps.registry.byId(session.nas_id);
      const ref: NasSessionRef = {
        userName: session.user_name ?? subscriber.subscriber_ref,
        acctSessionId: session.acct_session_id,
        ...(session.framed_ip ? { framedIpAddress: session.framed_ip } : {}),
        ...(session.calling_station_id ? { callingStationId: session.calling_station_id } : {}),
        ...(session.nas_identifier ? { nasIdentifier: session.nas_identifier } : {}),
        ...(session.nas_ip_address ? { nasIpAddress: session.nas_ip_address } : {}),
      };
      const where = { session_id: session.id, acct_session_id: session.acct_session_id, nas_id: session.nas_id };
      if (nas === undefined) {
        deps.metrics.coa('unknown', 'skipped');
        await audit('radius.coa.skipped', { ...where, why: 'nas_unknown' });
        return 'done';
      }
      const vendor = deps.vendor(nas.vendor);
      const ctx = { ...where, nas_identifier: nas.identifier, vendor: nas.vendor };
      const useCoa = coaPhase && vendor?.coaRequest !== undefined && vendor.capabilities.policyChange !== 'disconnect';
      if (useCoa && active !== null && vendor?.coaRequest) {
        const { policy } = planPolicy({
          active,
          usedBytes: used ?? 0,
          sessionBytes: Number(session.bytes_in) + Number(session.bytes_out),
          now,
          timeZone: deps.timeZone,
          interimIntervalSeconds: deps.config.interimIntervalSeconds,
          idleTimeoutSeconds: deps.config.idleTimeoutSeconds,
          sessionKeyTtlSeconds: ttl > 0 ? ttl : undefined,
          capAtWindowEnd: deps.config.capSessionAtQuotaWindow,
          rateOverride,
        });
        const encoded = vendor.coaRequest(ref, policy);
        return send(deps, client, nas, 'coa', encoded.attributes, ctx, audit, task, encoded.unsupported);
      }
      if (vendor !== undefined && !vendor.capabilities.disconnect) {
        deps.metrics.coa(nas.vendor, 'skipped');
        await audit('radius.disconnect.skipped', { ...ctx, why: 'vendor_cannot_disconnect' });
        return 'done';
      }
      const attributes: readonly RadiusAttribute[] = vendor?.disconnectRequest?.(ref) ?? [
        { name: 'User-Name', type: RadiusAttributeType.UserName, dataType: 'string', value: ref.userName },
        { name: 'Acct-Session-Id', type: RadiusAttributeType.AcctSessionId, dataType: 'string', value: session.acct_session_id },
      ];
      return send(deps, client, nas, 'disconnect', attributes, ctx, audit, task);
    }),
  );

  const failed = results.filter((r) => r === 'failed').length;
  if (failed > 0) {
    const next = coaPhase && task.attempt >= deps.config.coa.attempts ? 'Disconnect-Request' : coaPhase ? 'CoA' : 'Disconnect';
    throw new Error(
      `${coaPhase ? 'CoA' : 'Disconnect'} failed for ${failed} of ${todo.length} session(s) on attempt ${task.attempt}; next: ${next} after backoff`,
    );
  }
}

async function send(
  deps: PolicyChangeDeps,
  client: NasClient,
  nas: NasEntry,
  code: 'coa' | 'disconnect',
  attributes: readonly RadiusAttribute[],
  ctx: Record<string, unknown> & { session_id: number },
  audit: (action: string, details: Record<string, unknown>) => Promise<void>,
  task: Pick<TaskContext, 'taskId' | 'signal'>,
  unsupported: readonly string[] = [],
): Promise<SessionResult> {
  const prefix = code === 'coa' ? 'radius.coa' : 'radius.disconnect';
  const label = (result: string) => (code === 'coa' ? result : `disconnect_${result}`);
  let response: NasResponse;
  try {
    response = await client.send(
      {
        nas: { address: nas.address, port: nas.coaPort, secret: nas.secret, messageAuthenticator: nas.coaMessageAuthenticator },
        code,
        attributes,
        retransmit: deps.config.coa.retransmit,
      },
      { signal: task.signal },
    );
  } catch (err) {
    const kind = err instanceof NasRequestError ? err.kind : 'error';
    const result = kind === 'timeout' ? 'timeout' : 'error';
    deps.metrics.coa(nas.vendor, label(result));
    await audit(`${prefix}.${result}`, {
      ...ctx,
      error: (err as Error).message,
      ...(err instanceof NasRequestError ? { kind: err.kind, attempts: err.attempts } : {}),
    });
    return 'failed';
  }
  const details = {
    ...ctx,
    attempts: response.attempts,
    elapsed_ms: response.elapsedMs,
    ...(response.errorCause === undefined ? {} : { error_cause: response.errorCause }),
    ...(unsupported.length ? { unsupported } : {}),
    attributes: attributes.map((a) => a.name),
  };
  deps.metrics.coa(nas.vendor, label(response.outcome));
  await audit(`${prefix}.${response.outcome}`, details);
  if (response.outcome === 'ack' || response.errorCause === RadiusErrorCause.SessionContextNotFound) {
    await deps.kv.sadd(progressKey(task.taskId), String(ctx.session_id));
    await deps.kv.expire(progressKey(task.taskId), 86_400);
    return 'done';
  }
  return 'failed';
}
