/**
 * Test fixtures for the radius plugin: a server with the plugin and the NAS dialects on random UDP ports of 127.0.0.1,
 * and subscribers/plans/portal sessions written straight into the database and KV (the portal plugin is not needed).
 */

import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { activateSubscription, type CoreDatabase, type Kysely, kvKeys } from '@rgz/core';
import { type Backend, startTestServer, type TestServer } from '@rgz/core/testing';
import coovachilli, { createChilliVendor } from '@rgz/nas-coovachilli';
import mikrotik, { createMikrotikVendor } from '@rgz/nas-mikrotik';
import wispr, { createWisprVendor } from '@rgz/nas-wispr';
import { decode, encode, type PacketInput, type RadiusDictionary, type RadiusPacket } from '../codec/index.js';
import radius, { type RadiusServerHandle, radiusServer } from '../index.js';
import type { RadiusDatabase } from '../schema.js';
import { buildDictionary } from '../server/dictionary.js';

export const SECRET = 'testing123-radius-secret';
export const HOST = '127.0.0.1';

export interface World {
  server: TestServer;
  radius: RadiusServerHandle;
  db: Kysely<RadiusDatabase>;
  authPort: number;
  acctPort: number;
  close(): Promise<void>;
}

export interface WorldOptions {
  backend?: Backend;
  /** Extra `plugins.radius.config` keys (merged over the defaults below). */
  config?: Record<string, unknown>;
  /** NAS list (default: one MikroTik NAS on 127.0.0.1 requiring Message-Authenticator). */
  nas?: Record<string, unknown>[];
  worker?: boolean;
  scheduler?: boolean;
}

export const DEFAULT_NAS = { identifier: 'hotspot-test', address: HOST, secret: SECRET, vendor: 'mikrotik' };

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const server = await startTestServer({
    backend: options.backend ?? 'embedded',
    worker: options.worker ?? true,
    scheduler: options.scheduler ?? false,
    plugins: [
      { plugin: mikrotik },
      { plugin: coovachilli },
      { plugin: wispr },
      {
        plugin: radius,
        config: {
          auth: { host: HOST, port: 0 },
          acct: { host: HOST, port: 0 },
          recvBufferSize: 1024 * 1024,
          nas: options.nas ?? [DEFAULT_NAS],
          ...options.config,
        },
      },
    ],
  });
  const handle = server.get(radiusServer);
  return {
    server,
    radius: handle,
    db: server.kernel.db as unknown as Kysely<RadiusDatabase>,
    authPort: handle.auth?.port ?? 0,
    acctPort: handle.acct?.port ?? 0,
    close: () => server.close(),
  };
}

export interface SubscriberFixture {
  id: string;
  ref: string;
  token: string;
  mac: string;
}

let serial = 0;

/** A subscriber with a plan (seed code, default DAY10MB) and a live portal session; options turn each off. */
export async function addSubscriber(
  world: World,
  options: {
    plan?: string | null;
    resellerId?: string | null;
    status?: 'active' | 'suspended';
    session?: boolean;
    ttlSeconds?: number;
    mac?: string;
    startsAt?: Date;
  } = {},
): Promise<SubscriberFixture> {
  serial++;
  const db = world.server.kernel.db as Kysely<CoreDatabase>;
  const ref = `RGZ-T${process.pid % 1000}${serial}${randomBytes(2).toString('hex').toUpperCase()}`;
  const msisdn = `+22901${String(process.pid % 10000).padStart(4, '0')}${String(serial).padStart(4, '0')}`;
  const row = await db
    .insertInto('subscribers')
    .values({ subscriber_ref: ref, msisdn, reseller_id: options.resellerId ?? null, ...(options.status ? { status: options.status } : {}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  const mac = options.mac ?? `02:00:00:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`;
  await db.insertInto('subscriber_devices').values({ subscriber_id: row.id, mac_address: mac }).execute();
  const plan = options.plan === undefined ? 'DAY10MB' : options.plan;
  if (plan !== null) {
    const p = await db.selectFrom('plans').select('id').where('code', '=', plan).where('reseller_id', 'is', null).executeTakeFirstOrThrow();
    await activateSubscription(db, {
      subscriberId: row.id,
      planId: p.id,
      source: 'grant',
      sourceRef: `test-${ref}`,
      ...(options.startsAt ? { at: options.startsAt } : {}),
    });
  }
  const token = randomBytes(12).toString('base64url');
  if (options.session !== false) {
    await world.server.kernel.kv.set(kvKeys.session(row.id), JSON.stringify({ token, mac, issued_at: new Date().toISOString() }), options.ttlSeconds ?? 86_400);
  }
  return { id: row.id, ref, token, mac };
}

export async function addReseller(world: World, slug: string): Promise<string> {
  const db = world.server.kernel.db as Kysely<CoreDatabase>;
  const r = await db.insertInto('resellers').values({ name: slug, slug, phone: null, email: null }).returning('id').executeTakeFirstOrThrow();
  return r.id;
}

/** The value of a metric series, or 0. */
export async function metric(world: World, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await world.server.kernel.metrics.registry.getSingleMetric(name)?.get();
  const found = m?.values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return found?.reduce((sum, v) => sum + v.value, 0) ?? 0;
}

/** The same dialect dictionaries the server uses, to build and read test packets. */
export const DICTIONARY: RadiusDictionary = buildDictionary([createMikrotikVendor(), createChilliVendor(), createWisprVendor()]);

/** A UDP client socket bound to `address` (any 127.0.0.0/8 address works on Linux: another "NAS"). */
export async function udpClient(
  address = HOST,
): Promise<{ socket: Socket; port: number; request(to: number, packet: Buffer, timeoutMs?: number): Promise<Buffer | undefined>; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const waiters: Array<(msg: Buffer) => void> = [];
  socket.on('message', (msg) => waiters.shift()?.(msg));
  return {
    socket,
    port: socket.address().port,
    request(to, packet, timeoutMs = 600) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(got);
          if (i >= 0) waiters.splice(i, 1);
          resolve(undefined);
        }, timeoutMs);
        const got = (msg: Buffer) => {
          clearTimeout(timer);
          resolve(msg);
        };
        waiters.push(got);
        socket.send(packet, to, HOST);
      });
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export function packet(input: PacketInput, secret = SECRET): Buffer {
  return encode(input, secret, { dictionary: DICTIONARY });
}

export function read(reply: Buffer, requestAuthenticator: Uint8Array, secret = SECRET): RadiusPacket {
  return decode(reply, secret, { requestAuthenticator, dictionary: DICTIONARY, invalidAttributes: 'raw' });
}
