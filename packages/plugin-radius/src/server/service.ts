/**
 * Authentication and accounting as one service, shared by the two ways requests arrive: the native UDP server
 * (radius-server.ts, after the NAS, the packet and its authenticators are checked) and the rlm_rest backend
 * (rest/routes.ts, after FreeRADIUS did those checks). Same decision, same stored record, same metrics and log line.
 */

import type { Logger } from '@rgz/core';
import type { NasEntry } from '../nas/registry.js';
import { parseAccounting } from './accounting.js';
import type { AccountingWriter } from './accounting-writer.js';
import { type AuthDeps, type AuthOutcome, authenticate } from './auth.js';
import type { RadiusMetrics } from './metrics.js';
import type { RequestAttributes } from './request.js';

/** How the request reached RGZ (a field of the log line). */
export type Transport = 'udp' | 'rest';

export interface RadiusServiceDeps {
  auth: AuthDeps;
  writer: AccountingWriter;
  metrics: RadiusMetrics;
  log: Logger;
}

/** An accounting record that was not stored: the NAS must get no Accounting-Response (RFC 2866 §2) and retries. */
export class AccountingNotStored extends Error {
  constructor(
    /** `invalid_accounting`: the record is malformed; `store_failed`: the database did not commit it. */
    readonly code: 'invalid_accounting' | 'store_failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AccountingNotStored';
  }
}

/** Control characters out, length bounded: the User-Name comes from the network and goes into a log line. */
const printable = (text: string) => [...text.slice(0, 128)].map((ch) => ((ch.codePointAt(0) ?? 0) < 0x20 || ch === '\u007f' ? '?' : ch)).join('');

const secondsSince = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e9;

export class RadiusService {
  constructor(private readonly deps: RadiusServiceDeps) {}

  /** Decide an Access-Request; counts it and writes the authentication log line. */
  async access(nas: NasEntry, request: RequestAttributes, via: Transport, started = process.hrtime.bigint()): Promise<AuthOutcome> {
    const outcome = await authenticate(this.deps.auth, nas, request);
    this.deps.metrics.request('access', outcome.accepted ? 'accept' : 'reject', secondsSince(started));
    this.#logAuth(nas, request, outcome, via);
    return outcome;
  }

  /**
   * Store an Accounting-Request; resolves once it is committed (`ok`) or when its status type is not stored
   * (`ignored`). Throws `AccountingNotStored` otherwise.
   */
  async accounting(
    nas: NasEntry,
    request: Pick<RequestAttributes, 'get' | 'find'>,
    receivedAt: Date,
    started = process.hrtime.bigint(),
  ): Promise<'ok' | 'ignored'> {
    const parsed = parseAccounting(nas, request, receivedAt);
    if (!parsed.ok) {
      this.deps.log.warn({ nas: nas.identifier, reason: parsed.reason }, 'Accounting-Request dropped');
      throw new AccountingNotStored('invalid_accounting', parsed.reason);
    }
    if (parsed.record !== null) {
      try {
        await this.deps.writer.submit(parsed.record);
      } catch (err) {
        throw new AccountingNotStored('store_failed', 'the accounting record could not be stored', { cause: err });
      }
    }
    const result = parsed.record === null ? 'ignored' : 'ok';
    this.deps.metrics.request('accounting', result, secondsSince(started));
    return result;
  }

  /** One line per authentication, in the seed's radius_logs shape, as structured JSON. */
  #logAuth(nas: NasEntry, request: RequestAttributes, outcome: AuthOutcome, via: Transport): void {
    const nasIdValue = request.get('NAS-Identifier');
    const nasId = printable(typeof nasIdValue === 'string' ? nasIdValue : nas.identifier);
    const user = printable(outcome.user);
    const calling = request.get('Calling-Station-Id');
    const fields = {
      event: 'radius_auth',
      result: outcome.accepted ? 'success' : 'failure',
      user,
      nas_id: nasId,
      nas: nas.id,
      nas_address: nas.address,
      mode: outcome.mode,
      method: request.has('CHAP-Password') ? 'chap' : 'pap',
      via,
      ...(typeof calling === 'string' ? { calling_station_id: printable(calling) } : {}),
      ...(outcome.subscriberId ? { subscriber_id: outcome.subscriberId } : {}),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(outcome.unsupported ? { unsupported: outcome.unsupported } : {}),
    };
    if (outcome.accepted) {
      this.deps.log.info(fields, `[Auth] [Success] User=${user}, NAS-ID=${nasId}`);
      if (outcome.vendorMissing)
        this.deps.log.warn(
          { nas: nas.identifier, vendor: nas.vendor },
          'NAS vendor dialect not loaded: Accept carries standard attributes only (no rate or quota)',
        );
    } else {
      this.deps.log.info(fields, `[Auth] [Failure] User=${user}, NAS-ID=${nasId}, reason=${outcome.reason}`);
    }
  }
}
