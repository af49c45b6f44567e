/**
 * One SNMP conversation with one agent, as promises, over `net-snmp` (v2c or v3; never v1: Counter64 and GetBulk need
 * v2c). The caller owns the client and must `close()` it (the poller does, in `finally`): each client is one UDP socket.
 *
 * - Errors are classified: `timeout` (no answer within timeout × (retries + 1); also a wrong community, which agents
 *   drop silently), `malformed` (bytes that do not decode as SNMP: the socket is closed at once, no waiting for the
 *   timeout), `auth` (SNMPv3 USM reports: unknown user, wrong digest, decryption), `error` (an error-status PDU, a
 *   local failure).
 * - `walk` fetches several subtrees per GetBulk (one varbind per root, `maxRepetitions` rows each), so a profile's
 *   twenty table columns cost a few round trips instead of twenty walks; agents that truncate big responses and
 *   `tooBig` are handled; an agent whose OIDs stop increasing ends the walk instead of looping.
 */

// net-snmp ships no types; the reference lets packages that compile this source (tests of the console) see ours.
/// <reference path="./net-snmp.d.ts" />
import type { Oid, SnmpCredentials, SnmpVarbind } from '@rgz/core';
import snmp, { type RawVarbind, type Session } from 'net-snmp';

export type SnmpErrorKind = 'timeout' | 'malformed' | 'auth' | 'error';

export class SnmpError extends Error {
  constructor(
    readonly kind: SnmpErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SnmpError';
  }
}

export interface SnmpTarget {
  address: string;
  port: number;
  snmp: SnmpCredentials;
}

export interface ClientOptions {
  /** Per request, ms. */
  timeoutMs: number;
  /** Retransmissions per request. */
  retries: number;
  /** Varbinds asked per GetBulk (columns × repetitions), to keep responses near one datagram. Default 60. */
  varbindsPerRequest?: number;
  /** Largest number of varbinds one poll may collect (a runaway table ends there). Default 20 000. */
  maxVarbinds?: number;
  /** OIDs per Get request. Default 40. */
  oidsPerGet?: number;
}

const T = snmp.ObjectType;

/** A varbind as net-snmp hands it over (type: its ObjectType number). */
export interface RawSnmpVarbind {
  oid: string;
  type: number;
  value: unknown;
}

/** net-snmp's raw varbind → core's decoded `SnmpVarbind`. */
export function decodeVarbind(vb: RawSnmpVarbind): SnmpVarbind {
  const oid = vb.oid.replace(/^\./, '');
  const v = vb.value;
  switch (vb.type) {
    case T.Integer:
    case T.Boolean:
      return { oid, type: 'Integer', value: Number(v) };
    case T.Counter:
      return { oid, type: 'Counter32', value: Number(v) };
    case T.Gauge:
      return { oid, type: 'Gauge32', value: Number(v) };
    case T.TimeTicks:
      return { oid, type: 'TimeTicks', value: Number(v) };
    case T.Counter64:
      return { oid, type: 'Counter64', value: counter64(v) };
    case T.OctetString:
    case T.BitString:
      return { oid, type: 'OctetString', value: bytes(v) };
    case T.Opaque:
      return { oid, type: 'Opaque', value: bytes(v) };
    case T.OID:
      return { oid, type: 'ObjectIdentifier', value: String(v).replace(/^\./, '') };
    case T.IpAddress:
      return { oid, type: 'IpAddress', value: String(v) };
    case T.NoSuchObject:
      return { oid, type: 'NoSuchObject', value: null };
    case T.NoSuchInstance:
      return { oid, type: 'NoSuchInstance', value: null };
    case T.EndOfMibView:
      return { oid, type: 'EndOfMibView', value: null };
    default:
      return { oid, type: 'Null', value: null };
  }
}

/** Counter64 arrives as a big-endian Buffer of minimal length (or a number from some paths). */
function counter64(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.max(0, Math.trunc(v)));
  if (v instanceof Uint8Array) {
    if (v.length === 0) return 0n;
    const hex = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
    return BigInt(`0x${hex}`) & 0xffff_ffff_ffff_ffffn;
  }
  return 0n;
}

function bytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (typeof v === 'string') return new TextEncoder().encode(v);
  return new Uint8Array();
}

/** Numeric comparison of dotted OIDs. */
export function compareOids(a: Oid, b: Oid): number {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = Number(x[i]) - Number(y[i]);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

const isError = (vb: RawVarbind) => vb.type === T.NoSuchObject || vb.type === T.NoSuchInstance || vb.type === T.EndOfMibView;

export class SnmpClient {
  private readonly session: Session;
  private closed = false;
  private malformed: Error | undefined;
  /** Requests sent (round trips, retransmissions not counted). */
  requests = 0;

  constructor(
    target: SnmpTarget,
    private readonly options: ClientOptions,
  ) {
    const common = {
      port: target.port,
      timeout: options.timeoutMs,
      retries: options.retries,
      transport: target.address.includes(':') ? ('udp6' as const) : ('udp4' as const),
      // Agents answer out-of-order OIDs now and then; the walk below checks order itself.
      backwardsGetNexts: true,
    };
    const s = target.snmp;
    if (s.version === '2c') {
      this.session = snmp.createSession(target.address, s.community, { ...common, version: snmp.Version2c });
    } else {
      const level = snmp.SecurityLevel[s.level] as number;
      this.session = snmp.createV3Session(
        target.address,
        {
          name: s.user,
          level,
          ...(s.level !== 'noAuthNoPriv' && s.authProtocol ? { authProtocol: snmp.AuthProtocols[s.authProtocol] as string, authKey: s.authKey ?? '' } : {}),
          ...(s.level === 'authPriv' && s.privProtocol ? { privProtocol: snmp.PrivProtocols[s.privProtocol] as string, privKey: s.privKey ?? '' } : {}),
        },
        { ...common, ...(s.context ? { context: s.context } : {}) },
      );
    }
    // A datagram that does not decode is emitted as 'error' (unhandled, it would crash the process). The agent will
    // not say anything better: give up on this device now rather than after the timeout.
    this.session.on('error', (err: unknown) => {
      this.malformed ??= err instanceof Error ? err : new Error(String(err));
      this.close();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.session.close();
    } catch {
      // already closed
    }
  }

  private classify(err: unknown): SnmpError {
    if (this.malformed) return new SnmpError('malformed', `response does not decode as SNMP: ${this.malformed.message}`, { cause: this.malformed });
    if (err instanceof SnmpError) return err;
    const e = err as Error & { code?: number; status?: number };
    if (e instanceof snmp.RequestTimedOutError || e?.name === 'RequestTimedOutError') return new SnmpError('timeout', 'no answer (timeout)', { cause: err });
    if (e?.name === 'ResponseInvalidError') {
      // EAuthFailure 5, ECouldNotDecrypt 4, ENotInTimeWindow 14.
      if (e.code === 5 || e.code === 4 || e.code === 14) return new SnmpError('auth', `SNMPv3: ${e.message}`, { cause: err });
      return new SnmpError('malformed', `invalid response: ${e.message}`, { cause: err });
    }
    if (e?.name === 'RequestFailedError') return new SnmpError('error', `agent error: ${e.message}`, { cause: err });
    if (this.closed) return new SnmpError('timeout', 'session closed (deadline or shutdown)', { cause: err });
    return new SnmpError('error', e?.message ?? String(err), { cause: err });
  }

  private call<T>(send: (cb: (error: Error | null, result?: T) => void) => void): Promise<T> {
    if (this.closed) return Promise.reject(this.classify(new Error('session closed')));
    this.requests++;
    return new Promise<T>((resolve, reject) => {
      try {
        send((error, result) => (error ? reject(this.classify(error)) : resolve(result as T)));
      } catch (err) {
        // Thrown synchronously: bad credentials for the crypto layer, a closed socket, an unknown host.
        reject(this.classify(err));
      }
    });
  }

  /** One Get per `oidsPerGet` OIDs; missing objects come back as `NoSuch*` entries, in request order. */
  async get(oids: readonly Oid[]): Promise<SnmpVarbind[]> {
    const per = this.options.oidsPerGet ?? 40;
    const out: SnmpVarbind[] = [];
    for (let i = 0; i < oids.length; i += per) {
      const chunk = oids.slice(i, i + per);
      const vbs = await this.call<RawVarbind[]>((cb) => this.session.get([...chunk], cb));
      out.push(...vbs.map(decodeVarbind));
    }
    return out;
  }

  /**
   * Every varbind under each root (strictly inside it), per root in root order, fetched with GetBulk several roots
   * at a time.
   */
  async walk(roots: readonly Oid[], maxRepetitions = 20): Promise<SnmpVarbind[][]> {
    const results: SnmpVarbind[][] = roots.map(() => []);
    let budget = Math.max(1, this.options.varbindsPerRequest ?? 60);
    const maxVarbinds = this.options.maxVarbinds ?? 20_000;
    let total = 0;
    const active = roots.map((root, index) => ({ index, root, prefix: `${root}.`, next: root }));
    // As many roots per request as the budget allows, then as many rows as fit: the first request (one row of every
    // column) finds the empty columns and finishes the one-row tables; long tables then get more rows per request.
    let reps = 1;
    let width = 1;
    const plan = () => {
      width = Math.max(1, Math.min(active.length, budget));
      reps = Math.max(1, Math.min(maxRepetitions, Math.floor(budget / width)));
    };
    while (active.length > 0) {
      plan();
      const group = active.slice(0, width);
      let answer: Array<RawVarbind | RawVarbind[]>;
      try {
        answer = await this.call<Array<RawVarbind | RawVarbind[]>>((cb) =>
          this.session.getBulk(
            group.map((g) => g.next),
            0,
            reps,
            cb,
          ),
        );
      } catch (err) {
        // tooBig (1): ask for less, down to one row of one column.
        if (err instanceof SnmpError && err.kind === 'error' && /TooBig/i.test(err.message) && budget > 1) {
          budget = Math.max(1, Math.floor(budget / 2));
          continue;
        }
        throw err;
      }
      const finished = new Set<number>();
      group.forEach((g, i) => {
        const column = answer[i];
        const rows = Array.isArray(column) ? column : column ? [column] : [];
        let progressed = false;
        for (const raw of rows) {
          const oid = raw.oid.replace(/^\./, '');
          if (isError(raw) || !oid.startsWith(g.prefix)) {
            finished.add(g.index);
            break;
          }
          if (compareOids(oid, g.next) <= 0) {
            // Not increasing: a broken agent; stop this root rather than loop forever.
            finished.add(g.index);
            break;
          }
          results[g.index]?.push(decodeVarbind(raw));
          g.next = oid;
          progressed = true;
          total++;
        }
        // A truncated response may cut a column short; it continues from its last OID next round. A column that got
        // nothing while others did is retried; one that got nothing in a response with nothing at all ends.
        if (!progressed && !finished.has(g.index) && answer.every((c) => (Array.isArray(c) ? c.length === 0 : !c))) finished.add(g.index);
      });
      if (total > maxVarbinds) throw new SnmpError('error', `more than ${maxVarbinds} varbinds in one poll; the walk was cut`);
      for (let i = active.length - 1; i >= 0; i--) if (finished.has((active[i] as { index: number }).index)) active.splice(i, 1);
      // Roots that advanced stay in place; rotate so every root gets a turn when there are more than `width`.
      const done = group.filter((g) => !finished.has(g.index));
      for (const g of done) {
        const at = active.indexOf(g);
        if (at >= 0) active.push(...active.splice(at, 1));
      }
    }
    return results;
  }
}
