/**
 * `/api/backup` (NOC only): backup runs and their verifications, trigger a backup or a verification, status, and the
 * backups found on the targets. Triggers answer 202 at once; poll `GET /runs/{id}`.
 */
import {
  type AuditInput,
  defineRoute,
  httpErrors,
  jsonContent as json,
  type Kysely,
  type PluginRouter,
  type Principal,
  problemContent as problem,
  z,
} from '@rgz/core';
import type { BackupConfig } from './config.js';
import { ID_PATTERN } from './manifest.js';
import type { BackupTables } from './schema.js';
import type { BackupService } from './service.js';

const ACCESS = ['noc'] as const;

const RunSchema = z
  .object({
    id: z.string(),
    trigger: z.string(),
    status: z.enum(['running', 'succeeded', 'failed']),
    database_kind: z.string().nullable(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    size_bytes: z.number().nullable(),
    sha256: z.string().nullable(),
    targets: z.array(z.object({ target: z.string(), ok: z.boolean(), error: z.string().optional() })),
    verify_status: z.string().nullable(),
    retention: z.unknown().nullable(),
    error: z.string().nullable(),
    node: z.string(),
  })
  .openapi('BackupRun');

const VerificationSchema = z
  .object({
    id: z.string(),
    backup_id: z.string(),
    target_id: z.string().nullable(),
    trigger: z.string(),
    outcome: z.enum(['running', 'passed', 'failed']),
    stage: z.string().nullable(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    detail: z.unknown().nullable(),
  })
  .openapi('BackupVerification');

const IdParam = z.object({
  id: z
    .string()
    .regex(ID_PATTERN)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'rgz-20261125T030000Z-1a2b3c4d' }),
});

type RunRow = Record<string, unknown>;

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
const parsed = (v: unknown) => (typeof v === 'string' ? (JSON.parse(v) as unknown) : (v ?? null));

function runView(r: RunRow): z.infer<typeof RunSchema> {
  return {
    id: r.id as string,
    trigger: r.trigger as string,
    status: r.status as 'running',
    database_kind: (r.database_kind as string | null) ?? null,
    started_at: iso(r.started_at) as string,
    finished_at: iso(r.finished_at),
    size_bytes: r.size_bytes === null || r.size_bytes === undefined ? null : Number(r.size_bytes),
    sha256: (r.sha256 as string | null) ?? null,
    targets: (parsed(r.targets) as z.infer<typeof RunSchema>['targets']) ?? [],
    verify_status: (r.verify_status as string | null) ?? null,
    retention: parsed(r.retention),
    error: (r.error as string | null) ?? null,
    node: r.node as string,
  };
}

function verificationView(r: Record<string, unknown>): z.infer<typeof VerificationSchema> {
  return {
    id: String(r.id),
    backup_id: r.backup_id as string,
    target_id: (r.target_id as string | null) ?? null,
    trigger: r.trigger as string,
    outcome: r.outcome as 'running',
    stage: (r.stage as string | null) ?? null,
    started_at: iso(r.started_at) as string,
    finished_at: iso(r.finished_at),
    detail: parsed(r.detail),
  };
}

export interface RouteDeps {
  tags: string[];
  db: Kysely<BackupTables>;
  service: () => BackupService;
  config: BackupConfig;
  timezone: string;
  audit(actor: Principal | null, entry: AuditInput): Promise<void>;
}

export function registerRoutes(r: PluginRouter, deps: RouteDeps): void {
  const { tags, db } = deps;

  r.add(
    defineRoute({
      method: 'get',
      path: '/runs',
      access: ACCESS,
      tags,
      summary: 'Backup runs, newest first',
      request: { query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }) },
      responses: { 200: json(z.object({ items: z.array(RunSchema) }), 'Runs') },
    }),
    async (c) => {
      const { limit } = c.req.valid('query');
      const rows = await db.selectFrom('backup_runs').selectAll().orderBy('started_at', 'desc').limit(limit).execute();
      return c.json({ items: rows.map((row) => runView(row as unknown as RunRow)) }, 200);
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/runs/{id}',
      access: ACCESS,
      tags,
      summary: 'One backup run with its verifications',
      request: { params: IdParam },
      responses: { 200: json(RunSchema.extend({ verifications: z.array(VerificationSchema) }), 'The run'), 404: problem('No such run') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const row = await db.selectFrom('backup_runs').selectAll().where('id', '=', id).executeTakeFirst();
      const verifications = await db.selectFrom('backup_verifications').selectAll().where('backup_id', '=', id).orderBy('started_at', 'desc').execute();
      if (!row) return c.json({ code: 'backup_not_found', title: `no backup run ${id}` }, 404);
      return c.json(
        { ...runView(row as unknown as RunRow), verifications: verifications.map((v) => verificationView(v as unknown as Record<string, unknown>)) },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/runs',
      access: ACCESS,
      tags,
      summary: 'Start a backup now (dump, upload, verify, retention); poll GET /runs/{id}',
      request: { body: { required: false, content: { 'application/json': { schema: z.object({ verify: z.boolean().optional() }) } } } },
      responses: { 202: json(z.object({ id: z.string(), status: z.literal('running') }), 'Started'), 409: problem('A backup is already running') },
    }),
    async (c) => {
      const body = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
      const started = deps.service().begin({ trigger: 'api', ...(body.verify === undefined ? {} : { verify: body.verify }) });
      // The outcome is recorded in backup_runs, metrics and incidents; nothing to do here when it settles.
      started.done.catch(() => {});
      await deps.audit(c.get('principal'), { action: 'backup.run', targetType: 'backup', targetId: started.id });
      return c.json({ id: started.id, status: 'running' as const }, 202);
    },
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/runs/{id}/verify',
      access: ACCESS,
      tags,
      summary: 'Verify a backup again (download, sha256, decrypt, restore into a scratch database, compare); poll GET /runs/{id}',
      request: {
        params: IdParam,
        body: { required: false, content: { 'application/json': { schema: z.object({ target: z.string().optional() }) } } },
      },
      responses: {
        202: json(z.object({ backup_id: z.string(), status: z.literal('running') }), 'Started'),
        400: problem('No identity to decrypt with'),
        404: problem('No such target'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
      if (!deps.config.verify.identityFile) {
        throw httpErrors.badRequest(
          'backup_identity_missing',
          'this server has no verify.identityFile to decrypt with; verify with `rgz backup verify ID --identity FILE` where the key is kept',
        );
      }
      if (body.target && !deps.service().targets.some((t) => t.id === body.target))
        throw httpErrors.notFound('backup_target_unknown', `no target "${body.target}"`);
      void deps
        .service()
        .verify(id, { trigger: 'api', targetId: body.target })
        .catch(() => {});
      await deps.audit(c.get('principal'), { action: 'backup.verify', targetType: 'backup', targetId: id });
      return c.json({ backup_id: id, status: 'running' as const }, 202);
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/status',
      access: ACCESS,
      tags,
      summary: 'Backup status: running backup, last run, last success, last verification, targets, schedule',
      responses: {
        200: json(
          z.object({
            running: z.string().nullable(),
            last_run: RunSchema.nullable(),
            last_success: RunSchema.nullable(),
            last_verification: VerificationSchema.nullable(),
            targets: z.array(z.object({ id: z.string(), provider: z.string() })),
            schedule: z.string(),
            timezone: z.string(),
            retention_days: z.number(),
            verify_after_backup: z.boolean(),
          }),
          'Status',
        ),
      },
    }),
    async (c) => {
      const last = await db.selectFrom('backup_runs').selectAll().orderBy('started_at', 'desc').limit(1).executeTakeFirst();
      const success = await db
        .selectFrom('backup_runs')
        .selectAll()
        .where('status', '=', 'succeeded')
        .orderBy('started_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      const verification = await db.selectFrom('backup_verifications').selectAll().orderBy('started_at', 'desc').limit(1).executeTakeFirst();
      const service = deps.service();
      return c.json(
        {
          running: service.running,
          last_run: last ? runView(last as unknown as RunRow) : null,
          last_success: success ? runView(success as unknown as RunRow) : null,
          last_verification: verification ? verificationView(verification as unknown as Record<string, unknown>) : null,
          targets: service.targets.map((t) => ({ id: t.id, provider: t.provider })),
          schedule: deps.config.schedule,
          timezone: deps.config.timezone ?? deps.timezone,
          retention_days: deps.config.retention.days,
          verify_after_backup: deps.config.verify.afterBackup,
        },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/backups',
      access: ACCESS,
      tags,
      summary: 'Backups found on the targets (archive and manifest per target), newest first',
      request: { query: z.object({ target: z.string().optional() }) },
      responses: {
        200: json(
          z.object({
            items: z.array(
              z.object({
                id: z.string(),
                created_at: z.string(),
                size_bytes: z.number().nullable(),
                targets: z.record(z.string(), z.object({ archive: z.boolean(), manifest: z.boolean() })),
                status: z.string().nullable(),
                verify_status: z.string().nullable(),
              }),
            ),
          }),
          'Backups',
        ),
      },
    }),
    async (c) => {
      const { target } = c.req.valid('query');
      const items = await deps.service().list({ targetId: target });
      return c.json(
        {
          items: items.map((b) => ({
            id: b.id,
            created_at: b.createdAt.toISOString(),
            size_bytes: b.sizeBytes,
            targets: b.targets,
            status: b.status,
            verify_status: b.verifyStatus,
          })),
        },
        200,
      );
    },
  );
}
