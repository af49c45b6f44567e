import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';

describe('embedded database folder lock', () => {
  it('refuses a second opener of the same folder, naming the owner, and frees the folder on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rgz-lock-'));
    const first = await openDatabase({ embeddedDataDir: dir });
    await sql`create table t (x int)`.execute(first.db);
    // A live process (this one's parent) holding the lock is refused with its pid in the message.
    writeFileSync(join(dir, 'rgz.lock'), String(process.ppid));
    await expect(openDatabase({ embeddedDataDir: dir })).rejects.toMatchObject({
      code: 'embedded_database_in_use',
      message: expect.stringContaining(String(process.ppid)),
    });
    writeFileSync(join(dir, 'rgz.lock'), String(process.pid));
    await first.close();
    const again = await openDatabase({ embeddedDataDir: dir });
    expect((await sql<{ n: number }>`select count(*)::int as n from t`.execute(again.db)).rows[0]?.n).toBe(0);
    await again.close();
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rgz-lock-'));
    writeFileSync(join(dir, 'rgz.lock'), '2147483646');
    const db = await openDatabase({ embeddedDataDir: dir });
    expect(await db.ping()).toBe(true);
    await db.close();
  });
});
