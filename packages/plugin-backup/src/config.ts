/**
 * `plugins.backup.config`: who can decrypt (age recipients), where backups go (targets), when (schedule), how long
 * they stay (retention), how the database is reached (pg_dump / pg_restore) and how backups are verified.
 */
import { z } from '@rgz/core';

/**
 * A native X25519 age recipient (`age1` + 58 bech32 characters), the kind `age-keygen` prints and Debian's age 1.1.1
 * decrypts. Post-quantum (`age1pq1…`) and plugin recipients are refused: age 1.1.1 cannot decrypt them.
 */
export const AGE_RECIPIENT = /^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/;
export const TARGET_ID = /^[a-z0-9][a-z0-9-]*$/;
/** An S3 key prefix: `''` or `/`-separated segments of the backup-key alphabet, ending with `/`. */
const S3_PREFIX = /^(?:[A-Za-z0-9._-]+\/)*$/;

const id = z.string().regex(TARGET_ID, 'lowercase letters, digits and dashes, starting with a letter or digit');

export const folderTargetSchema = z
  .object({
    id,
    kind: z.literal('folder'),
    /** A local or mounted (NAS: NFS, SMB) folder; created when missing. Objects are plain files under it. */
    path: z.string().min(1),
  })
  .strict();

export const s3TargetSchema = z
  .object({
    id,
    kind: z.literal('s3'),
    /** `https://…` of an S3-compatible store (Ceph radosgw, MinIO, Wasabi, Scaleway…); omit for AWS itself. */
    endpoint: z.string().url().optional(),
    region: z.string().min(1).default('us-east-1'),
    bucket: z.string().min(3).max(63),
    /** Key prefix inside the bucket (`rgz/prod/`); `''` for the bucket root. */
    prefix: z.string().regex(S3_PREFIX, "'' or segments of [A-Za-z0-9._-] each followed by '/' (e.g. rgz/prod/)").default(''),
    accessKeyId: z.string().min(1),
    secretAccessKey: z.string().min(1),
    /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`; most self-hosted stores need true. */
    forcePathStyle: z.boolean().default(false),
    /** Multipart part size: the most a streamed upload holds in memory. S3's minimum is 5 MiB. */
    partSizeMiB: z.number().int().min(5).max(1024).default(8),
  })
  .strict();

export const targetSchema = z.discriminatedUnion('kind', [folderTargetSchema, s3TargetSchema]);
export type TargetConfig = z.infer<typeof targetSchema>;
export type FolderTargetConfig = z.infer<typeof folderTargetSchema>;
export type S3TargetConfig = z.infer<typeof s3TargetSchema>;

export const configSchema = z
  .object({
    /**
     * Public keys the backups are encrypted to (`age-keygen -y key.txt` prints one). Any one matching private key
     * decrypts: give the operator's offline key and, if backups are verified here, the verification key.
     */
    recipients: z
      .array(
        z
          .string()
          .trim()
          .regex(
            AGE_RECIPIENT,
            'an X25519 age recipient: "age1" followed by 58 characters, as `age-keygen` prints (post-quantum age1pq1… recipients need age ≥ 1.3 and are refused)',
          ),
      )
      .min(1, 'at least one age recipient is needed: backups are always encrypted'),
    /** Where every backup is uploaded (each one gets the whole backup). */
    targets: z.array(targetSchema).min(1, 'at least one target (a folder or S3 bucket) is needed'),
    /** Cron of the daily backup job, in `timezone` (default: the server's time zone). */
    schedule: z.string().min(1).default('0 3 * * *'),
    timezone: z.string().optional(),
    retention: z
      .object({
        /** Backups whose creation time is more than `days` × 24 h old are deleted from every target. */
        days: z.number().int().min(1).default(30),
        /** The newest `keepMin` backups are kept whatever their age (a long outage never empties a target). */
        keepMin: z.number().int().min(0).default(1),
      })
      .strict()
      .prefault({}),
    database: z
      .object({
        /**
         * PostgreSQL URL pg_dump connects with. Default: `DATABASE_URL`, else one built from the running connection
         * (user, server address, port, database; the password then comes from PGPASSWORD or ~/.pgpass). Checked
         * at each run to reach the same server and database as the running server.
         */
        url: z.string().optional(),
        /** URL of a role that may CREATE DATABASE, for scratch verification databases. Default: `url` on database `postgres`. */
        adminUrl: z.string().optional(),
        /** Folder holding pg_dump and pg_restore. Default: /usr/lib/postgresql/<server major>/bin, else PATH. */
        binDir: z.string().optional(),
      })
      .strict()
      .prefault({}),
    verify: z
      .object({
        /** Restore each new backup into a scratch database and compare it with the manifest. */
        afterBackup: z.boolean().default(true),
        /** age identity file (`AGE-SECRET-KEY-1…`, as `age-keygen -o` writes) whose public key is among `recipients`. */
        identityFile: z.string().optional(),
        /** Tables with more (estimated) rows get a row count but no checksum in the manifest. */
        checksumMaxRows: z.number().int().positive().default(10_000_000),
      })
      .strict()
      .prefault({}),
    /** Local folder for the encrypted file while it is uploaded / downloaded (needs its size free). Default: OS temp. */
    workDir: z.string().optional(),
    /** Abort a backup (dump, upload, verification) after this long. */
    timeoutSeconds: z
      .number()
      .int()
      .positive()
      .default(4 * 3600),
  })
  .strict()
  .superRefine((c, issue) => {
    const seen = new Set<string>();
    c.targets.forEach((t, i) => {
      if (seen.has(t.id)) issue.addIssue({ code: 'custom', path: ['targets', i, 'id'], message: `target id "${t.id}" is used twice` });
      seen.add(t.id);
    });
    if (c.verify.afterBackup && !c.verify.identityFile) {
      issue.addIssue({
        code: 'custom',
        path: ['verify', 'identityFile'],
        message:
          'verification decrypts each backup: give the age identity file of one of the recipients (readable by the rgz user only), or set verify.afterBackup: false and run `rgz backup verify ID --identity FILE` where the key is kept',
      });
    }
  });

export type BackupConfig = z.infer<typeof configSchema>;
