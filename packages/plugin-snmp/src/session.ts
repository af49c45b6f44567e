/**
 * One SNMP conversation with one agent, as promises (v2c or v3; never v1: Counter64 and GetBulk need v2c): v2c over the
 * plugin's own codec (v2c.ts, the poller's hot path), v3 over `net-snmp` (USM). The caller owns the client and must
 * `close()` it (the poller does, in `finally`): each client is one UDP socket.
 *
 * - Errors are classified: `timeout` (no answer within timeout × (retries + 1); also a wrong community, which agents
 *   drop silently), `malformed` (bytes that do not decode as SNMP: the socket is closed at once, no waiting for the
 *   timeout), `auth` (SNMPv3 USM reports: unknown user, wrong digest, decryption), `error` (an error-status PDU, a
 *   local failure).
 * - `walk` fetches several subtrees per GetBulk (one varbind per root, `maxRepetitions` rows each), so a profile's
 *   twenty table columns cost a few round trips instead of twenty walks; agents that truncate big responses and
 *   `tooBig` are handled; an agent whose OIDs stop increasing ends the walk instead of looping.
 * - `fetch` is a profile's whole plan (its Get OIDs and walk roots): the scalars ride on the walk's first GetBulk, so
 *   a poll costs one round trip less than a Get followed by the walk (one less datagram for both ends to handle).
 */

// net-snmp ships no types; the reference lets packages that compile this source (tests of the console) see ours.
/// <reference path="./net-snmp.d.ts" />
import type { Oid, SnmpCredentials, SnmpVarbind } from '@rgz/core';
import snmp, { type RawVarbind, type Session } from 'net-snmp';
import { SnmpError } from './errors.js';
import { type BulkAnswer, V2cWire } from './v2c.js';

export { SnmpError, type SnmpErrorKind } from './errors.js';

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

/** `.1.3.6…` → `1.3.6…` (net-snmp hands OIDs over either way). */
const withoutDot = (oid: string): Oid => (oid.charCodeAt(0) === 46 ? oid.slice(1) : oid);

/** net-snmp's raw varbind (SNMPv3) → core's decoded `SnmpVarbind`; v2c.ts decodes v2c datagrams to the same. */
export function decodeVarbind(vb: RawSnmpVarbind): SnmpVarbind {
  const oid = withoutDot(vb.oid);
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
      return { oid, type: 'ObjectIdentifier', value: withoutDot(String(v)) };
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

/**
 * Numeric comparison of dotted OIDs (negative, 0, positive; a prefix sorts first). Reads the digits in place: the walk
 * compares every row it receives, and splitting both strings for that was a visible part of a poll's CPU.
 */
export function compareOids(a: Oid, b: Oid): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    let x = 0;
    for (let c = a.charCodeAt(i); i < a.length && c !== 46; c = a.charCodeAt(++i)) x = x * 10 + (c - 48);
    let y = 0;
    for (let c = b.charCodeAt(j); j < b.length && c !== 46; c = b.charCodeAt(++j)) y = y * 10 + (c - 48);
    if (x !== y) return x - y;
    i++;
    j++;
  }
  return i < a.length ? 1 : j < b.length ? -1 : 0;
}

const isError = (vb: SnmpVarbind) => vb.type === 'NoSuchObject' || vb.type === 'NoSuchInstance' || vb.type === 'EndOfMibView';

export class SnmpClient {
  /** SNMPv3 goes through net-snmp (USM: keys, engine discovery, time windows)… */
  private readonly session: Session | undefined;
  /** …v2c through the lean codec of v2c.ts (the poller's hot path). */
  private readonly wire: V2cWire | undefined;
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
      this.wire = new V2cWire(target.address, target.port, s.community, {
        timeoutMs: options.timeoutMs,
        retries: options.retries,
        transport: common.transport,
      });
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
    this.session?.on('error', (err: unknown) => {
      this.malformed ??= err instanceof Error ? err : new Error(String(err));
      this.close();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wire?.close();
    try {
      this.session?.close();
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

  private call<T>(send: (session: Session, cb: (error: Error | null, result?: T) => void) => void): Promise<T> {
    if (this.closed || !this.session) return Promise.reject(this.classify(new Error('session closed')));
    const session = this.session;
    return new Promise<T>((resolve, reject) => {
      try {
        send(session, (error, result) => (error ? reject(this.classify(error)) : resolve(result as T)));
      } catch (err) {
        // Thrown synchronously: bad credentials for the crypto layer, a closed socket, an unknown host.
        reject(this.classify(err));
      }
    });
  }

  private async getOnce(oids: readonly Oid[]): Promise<SnmpVarbind[]> {
    if (this.closed) throw this.classify(new Error('session closed'));
    this.requests++;
    if (this.wire) return this.wire.get(oids);
    return (await this.call<RawVarbind[]>((session, cb) => session.get([...oids], cb))).map(decodeVarbind);
  }

  private async getBulk(oids: readonly Oid[], nonRepeaters: number, maxRepetitions: number): Promise<BulkAnswer> {
    if (this.closed) throw this.classify(new Error('session closed'));
    this.requests++;
    if (this.wire) return this.wire.getBulk(oids, nonRepeaters, maxRepetitions);
    const answer = await this.call<Array<RawVarbind | RawVarbind[]>>((session, cb) => session.getBulk([...oids], nonRepeaters, maxRepetitions, cb));
    const one = (raw: RawVarbind | RawVarbind[] | undefined) => (Array.isArray(raw) ? raw : raw ? [raw] : []).map(decodeVarbind);
    return {
      scalars: answer.slice(0, nonRepeaters).flatMap(one),
      columns: Array.from({ length: oids.length - nonRepeaters }, (_, i) => one(answer[nonRepeaters + i])),
    };
  }

  /** One Get per `oidsPerGet` OIDs; missing objects come back as `NoSuch*` entries, in request order. */
  async get(oids: readonly Oid[]): Promise<SnmpVarbind[]> {
    const per = this.options.oidsPerGet ?? 40;
    const out: SnmpVarbind[] = [];
    for (let i = 0; i < oids.length; i += per) out.push(...(await this.getOnce(oids.slice(i, i + per))));
    return out;
  }

  /**
   * `get(oids)` and `walk(roots, maxRepetitions)` in fewer round trips: the scalar OIDs (`….0`) are asked as
   * non-repeaters of the walk's first GetBulk. A non-repeater is a GetNext, and nothing sorts between `x` and `x.0`:
   * GetNext(`x`) answers `x.0` when the agent has it; any other answer means it has not, which is reported as
   * `NoSuchObject` as a Get would. Other OIDs (a table instance such as `x.1`) go in a Get, as do scalars the first
   * GetBulk could not carry (tooBig, an answer cut short).
   */
  async fetch(oids: readonly Oid[], roots: readonly Oid[], maxRepetitions = 20): Promise<{ got: SnmpVarbind[]; walked: SnmpVarbind[][] }> {
    if (roots.length === 0) return { got: oids.length ? await this.get(oids) : [], walked: [] };
    const scalars = oids.filter((o) => o.endsWith('.0') && o.length > 2);
    const rideable = scalars.length < Math.max(1, this.options.varbindsPerRequest ?? 60) ? scalars : [];
    const answered = new Map<Oid, SnmpVarbind>();
    const walked = await this.walkWith(roots, maxRepetitions, rideable, answered);
    const rest = oids.filter((o) => !answered.has(o));
    if (rest.length) for (const vb of await this.get(rest)) answered.set(vb.oid, vb);
    return {
      got: oids.map((o) => answered.get(o) ?? { oid: o, type: 'NoSuchObject' as const, value: null }),
      walked,
    };
  }

  /**
   * Every varbind under each root (strictly inside it), per root in root order, fetched with GetBulk several roots
   * at a time.
   */
  async walk(roots: readonly Oid[], maxRepetitions = 20): Promise<SnmpVarbind[][]> {
    return this.walkWith(roots, maxRepetitions, [], new Map());
  }

  /** `walk`, with `scalars` (`….0`) asked as non-repeaters of the first GetBulk; their answers go to `answered`. */
  private async walkWith(roots: readonly Oid[], maxRepetitions: number, scalars: readonly Oid[], answered: Map<Oid, SnmpVarbind>): Promise<SnmpVarbind[][]> {
    const results: SnmpVarbind[][] = roots.map(() => []);
    let budget = Math.max(1, this.options.varbindsPerRequest ?? 60);
    // Scalars still to ask (first request only); a tooBig drops them to a Get (see `fetch`).
    let riders = scalars;
    const maxVarbinds = this.options.maxVarbinds ?? 20_000;
    let total = 0;
    let active = roots.map((root, index) => ({ index, root, prefix: `${root}.`, next: root }));
    // As many roots per request as the budget allows, then as many rows as fit: the first request (one row of every
    // column) finds the empty columns and finishes the one-row tables; long tables then get more rows per request.
    let reps = 1;
    let width = 1;
    const plan = () => {
      const room = Math.max(1, budget - riders.length);
      width = Math.max(1, Math.min(active.length, room));
      reps = Math.max(1, Math.min(maxRepetitions, Math.floor(room / width)));
    };
    while (active.length > 0) {
      plan();
      const group = active.slice(0, width);
      const asked = riders;
      let answer: BulkAnswer;
      try {
        answer = await this.getBulk(
          // GetNext of `x` for the scalar `x.0`.
          [...asked.map((o) => o.slice(0, -2)), ...group.map((g) => g.next)],
          asked.length,
          reps,
        );
      } catch (err) {
        // tooBig (1): ask for less, down to one row of one column.
        if (err instanceof SnmpError && err.kind === 'error' && /TooBig/i.test(err.message) && (budget > 1 || riders.length > 0)) {
          riders = [];
          budget = Math.max(1, Math.floor(budget / 2));
          continue;
        }
        throw err;
      }
      if (asked.length) {
        riders = [];
        asked.forEach((oid, i) => {
          const vb = answer.scalars[i];
          if (!vb) return; // cut short: `fetch` asks it with a Get
          answered.set(oid, vb.oid === oid && !isError(vb) ? vb : { oid, type: 'NoSuchObject', value: null });
        });
      }
      const columns = answer.columns;
      const finished = new Set<number>();
      let nothing: boolean | undefined;
      group.forEach((g, i) => {
        const rows = columns[i] ?? [];
        let progressed = false;
        for (const vb of rows) {
          const oid = vb.oid;
          if (isError(vb) || !oid.startsWith(g.prefix)) {
            finished.add(g.index);
            break;
          }
          if (compareOids(oid, g.next) <= 0) {
            // Not increasing: a broken agent; stop this root rather than loop forever.
            finished.add(g.index);
            break;
          }
          results[g.index]?.push(vb);
          g.next = oid;
          progressed = true;
          total++;
        }
        // A truncated response may cut a column short; it continues from its last OID next round. A column that got
        // nothing while others did is retried; one that got nothing in a response with nothing at all ends.
        if (!progressed && !finished.has(g.index) && (nothing ??= columns.every((c) => c.length === 0))) finished.add(g.index);
      });
      if (total > maxVarbinds) throw new SnmpError('error', `more than ${maxVarbinds} varbinds in one poll; the walk was cut`);
      // Finished roots leave; the others of this request go to the back, so every root gets a turn when there are more
      // than `width`.
      active = [...active.slice(width), ...group.filter((g) => !finished.has(g.index))];
    }
    return results;
  }
}
