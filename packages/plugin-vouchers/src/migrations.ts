/**
 * The vouchers tables. Foreign keys only into core tables and our own; the code is stored as its HMAC only (unique:
 * the lookup index), and a voucher's state changes only forward (active → redeemed | revoked), enforced by a trigger.
 */
import { type Kysely, type Migration, sql } from '@rgz/core';

export const vouchersMigrations: Record<string, Migration> = {
  vouchers_0001_batches_and_codes: {
    async up(db: Kysely<any>) {
      await sql`create table vouchers_batches (
        id uuid primary key default gen_random_uuid(),
        number bigserial not null unique,
        reseller_id uuid not null references resellers(id),
        plan_id uuid not null references plans(id),
        plan_code text not null,
        plan_name text not null,
        price_fcfa bigint not null check (price_fcfa >= 0),
        count integer not null check (count between 1 and 5000),
        expires_at timestamptz not null,
        label text,
        status text not null default 'active' check (status in ('active','revoked')),
        created_by text,
        created_at timestamptz not null default now(),
        revoked_at timestamptz
      )`.execute(db);
      await sql`create index vouchers_batches_reseller_idx on vouchers_batches (reseller_id, created_at desc)`.execute(db);

      await sql`create table vouchers_vouchers (
        id uuid primary key default gen_random_uuid(),
        batch_id uuid not null references vouchers_batches(id),
        reseller_id uuid not null references resellers(id),
        serial integer not null check (serial >= 1),
        code_hash text not null unique check (code_hash ~ '^[0-9a-f]{64}$'),
        status text not null default 'active' check (status in ('active','redeemed','revoked')),
        expires_at timestamptz not null,
        redeemed_at timestamptz,
        redeemed_by uuid references subscribers(id),
        subscription_id uuid references subscriptions(id),
        revoked_at timestamptz,
        created_at timestamptz not null default now(),
        unique (batch_id, serial),
        check ((status = 'redeemed') = (redeemed_at is not null and redeemed_by is not null))
      )`.execute(db);
      await sql`create index vouchers_vouchers_batch_idx on vouchers_vouchers (batch_id, status)`.execute(db);
      await sql`create index vouchers_vouchers_reseller_idx on vouchers_vouchers (reseller_id, status)`.execute(db);

      // A redeemed or revoked voucher never becomes usable again, and a redemption is never rewritten.
      await sql`create function vouchers_status_forward() returns trigger language plpgsql as $$
        begin
          if old.status <> 'active' and (new.status <> old.status or new.redeemed_by is distinct from old.redeemed_by
              or new.redeemed_at is distinct from old.redeemed_at) then
            raise exception 'voucher % is % and cannot change', old.id, old.status;
          end if;
          if new.code_hash <> old.code_hash or new.batch_id <> old.batch_id or new.reseller_id <> old.reseller_id then
            raise exception 'voucher % cannot be moved or re-coded', old.id;
          end if;
          return new;
        end $$`.execute(db);
      await sql`create trigger vouchers_vouchers_forward before update on vouchers_vouchers
        for each row execute function vouchers_status_forward()`.execute(db);

      // The ticket sheet, sealed, kept for a limited time for download (see README "The PDF").
      await sql`create table vouchers_batch_pdfs (
        batch_id uuid primary key references vouchers_batches(id),
        reseller_id uuid not null references resellers(id),
        sealed bytea not null,
        size_bytes integer not null,
        expires_at timestamptz not null,
        downloads integer not null default 0,
        created_at timestamptz not null default now()
      )`.execute(db);
    },
  },
};
