/**
 * One-time codes and their rate limits in KV, under the seed's key names:
 *
 * | key | value | TTL |
 * |---|---|---|
 * | `rgz:otp:{phone}` | JSON `{id, hash, attempts: 0, created_at}` (hash = HMAC of the code, never the code) | otp.ttlSeconds |
 * | `rgz:otp:attempts:{phone}` | wrong-code counter (INCR), the live attempt count | what is left of the OTP's life |
 * | `rgz:rate:{phone}` | counter: codes sent in the current window | rateLimit.resendSeconds |
 * | `rgz:rate:ip:{ip}` | set of the phones this IP asked codes for | 60 s from the first |
 * | `rgz:rate:ip:{ip}:count` | counter: requests from this IP, never fewer than the set holds (read in O(1)) | 61 s, extended when a set opens |
 * | `rgz:rate:day:{phone}` | counter: codes sent to this phone | 86400 s from the first |
 */

import { randomBytes } from 'node:crypto';
import { httpErrors, type Kv, kvKeys, type RgzError } from '@rgz/core';
import type { PortalConfig } from './config.js';
import { codeMatches, generateCode, hashCode, type OtpKeys } from './otp-crypto.js';

export const portalKeys = {
  otp: kvKeys.otp,
  otpAttempts: (phone: string) => `rgz:otp:attempts:${phone}`,
  rate: kvKeys.rate,
  rateIp: (ip: string) => `rgz:rate:ip:${ip || 'unknown'}`,
  rateIpCount: (ip: string) => `rgz:rate:ip:${ip || 'unknown'}:count`,
  rateDay: (phone: string) => `rgz:rate:day:${phone}`,
  session: kvKeys.session,
  devices: kvKeys.devices,
} as const;

export interface OtpRecord {
  /** Random id: ties the SMS task to this code (a replaced or used code is not sent). */
  id: string;
  /** HMAC-SHA256 of phone ‖ ':' ‖ code, hex. */
  hash: string;
  /** Attempts when the record was written (always 0); the live count is `rgz:otp:attempts:{phone}`. */
  attempts: number;
  created_at: string;
}

export type RequestOutcome = { status: 'code_already_sent'; expiresIn: number } | { status: 'code_sent'; expiresIn: number; otpId: string; code: string };

const IP_WINDOW_SECONDS = 60;
const DAY_SECONDS = 86_400;

export class OtpStore {
  constructor(
    private readonly kv: Kv,
    private readonly keys: OtpKeys,
    private readonly config: PortalConfig,
  ) {}

  async readRecord(phone: string): Promise<OtpRecord | null> {
    const raw = await this.kv.get(portalKeys.otp(phone));
    if (!raw) return null;
    try {
      return JSON.parse(raw) as OtpRecord;
    } catch {
      return null;
    }
  }

  /**
   * Decide whether to send a code, in this order: per-IP limit (distinct phones), a live code for this phone
   * (answered without sending, unless `resend`), per-phone window, per-phone day. Creates the OTP when a code is
   * to be sent; the caller enqueues the SMS and calls `undo` if that fails.
   */
  async request(phone: string, ip: string, resend: boolean): Promise<RequestOutcome> {
    // The read goes out with the IP check (same connection, no waiting for it); a refused IP discards it unread.
    const [, live] = await Promise.all([this.checkIp(ip, phone), this.readRecord(phone)]);
    if (live && !resend) {
      const ttl = await this.kv.ttl(portalKeys.otp(phone));
      if (ttl > 0) return { status: 'code_already_sent', expiresIn: ttl };
    }
    const sent = await this.kv.incr(portalKeys.rate(phone), this.config.rateLimit.resendSeconds);
    if (sent > 1) {
      const retry = await this.retryAfter(portalKeys.rate(phone), this.config.rateLimit.resendSeconds);
      throw rateLimited(
        'rate_limited_phone',
        `a code was sent to this number less than ${this.config.rateLimit.resendSeconds} s ago; wait before asking again`,
        retry,
      );
    }
    const today = await this.kv.incr(portalKeys.rateDay(phone), DAY_SECONDS);
    if (today > this.config.rateLimit.perPhonePerDay) {
      const retry = await this.retryAfter(portalKeys.rateDay(phone), DAY_SECONDS);
      throw rateLimited(
        'rate_limited_daily',
        `this number has received ${this.config.rateLimit.perPhonePerDay} codes in the last 24 hours; try again later`,
        retry,
      );
    }
    const code = generateCode();
    const record: OtpRecord = {
      id: randomBytes(9).toString('base64url'),
      hash: hashCode(this.keys, phone, code),
      attempts: 0,
      created_at: new Date().toISOString(),
    };
    // One connection, so Redis still runs DEL before SET; only the wait for the first reply is saved.
    await Promise.all([this.kv.del(portalKeys.otpAttempts(phone)), this.kv.set(portalKeys.otp(phone), JSON.stringify(record), this.config.otp.ttlSeconds)]);
    return { status: 'code_sent', expiresIn: this.config.otp.ttlSeconds, otpId: record.id, code };
  }

  /** Take back a code whose SMS could not be queued, so the subscriber can ask again at once. */
  async undo(phone: string, otpId: string): Promise<void> {
    const live = await this.readRecord(phone);
    if (live?.id === otpId) await this.kv.del(portalKeys.otp(phone));
    await this.kv.del(portalKeys.rate(phone));
  }

  /**
   * Check a code. Throws `otp_expired` (none live), `otp_invalid` (wrong, with attempts_left) or `otp_burned`
   * (the last allowed wrong code, or any code once burned). On success the OTP is consumed: a second verify
   * with the same code fails.
   */
  async verify(phone: string, code: string): Promise<void> {
    const otpKey = portalKeys.otp(phone);
    const attemptsKey = portalKeys.otpAttempts(phone);
    // Both reads in one round trip: the attempt count is only used when the record exists.
    const [record, attemptsRaw] = await Promise.all([this.readRecord(phone), this.kv.get(attemptsKey)]);
    if (!record) throw httpErrors.badRequest('otp_expired', 'no code is waiting for this number (expired, used or never sent); ask for a new code');
    const max = this.config.otp.maxAttempts;
    const already = Number(attemptsRaw ?? 0);
    if (already >= max) {
      await this.kv.del(otpKey, attemptsKey);
      throw burned();
    }
    if (!codeMatches(this.keys, phone, code, record.hash)) {
      const ttl = Math.max(1, await this.kv.ttl(otpKey));
      const attempts = await this.kv.incr(attemptsKey, ttl);
      if (attempts >= max) {
        await this.kv.del(otpKey, attemptsKey);
        throw burned();
      }
      throw httpErrors.badRequest('otp_invalid', 'wrong code', { attempts_left: max - attempts });
    }
    // Consume: of two concurrent right answers, only the one whose DEL removed the key wins.
    const [removed] = await Promise.all([this.kv.del(otpKey), this.kv.del(attemptsKey)]);
    if (removed === 0) throw httpErrors.badRequest('otp_expired', 'this code has just been used or has expired; ask for a new code');
  }

  /**
   * Distinct phones per IP per minute. The set says whether this phone is new; a counter beside it says how many
   * requests it has had, because reading the set back (SMEMBERS, O(size)) for every new phone dominated the request
   * under load (bench/portal-otp.mjs): behind a hotspot's NAT thousands of phones share one IP. Every request counts
   * (the counter goes out with the SADD, in the same round trip, instead of after its answer), so the counter never
   * counts fewer than the set holds (it is created or extended to outlive the set whenever a set is opened): a count
   * within the limit is a pass; over the limit, the set's real size decides, as before. A phone already in the set
   * always passes.
   */
  private async checkIp(ip: string, phone: string): Promise<void> {
    const key = portalKeys.rateIp(ip);
    const countKey = portalKeys.rateIpCount(ip);
    const [added, ttl, count] = await Promise.all([this.kv.sadd(key, phone), this.kv.ttl(key), this.kv.incr(countKey, IP_WINDOW_SECONDS + 1)]);
    if (ttl === -1) await Promise.all([this.kv.expire(key, IP_WINDOW_SECONDS), this.kv.expire(countKey, IP_WINDOW_SECONDS + 1)]);
    if (added === 0) return;
    if (count > this.config.rateLimit.perIpPerMinute && (await this.kv.smembers(key)).length > this.config.rateLimit.perIpPerMinute) {
      await this.kv.srem(key, phone);
      const retry = await this.retryAfter(key, IP_WINDOW_SECONDS);
      throw rateLimited(
        'rate_limited_ip',
        `this device has asked codes for ${this.config.rateLimit.perIpPerMinute} different numbers in the last minute; wait before trying another`,
        retry,
      );
    }
  }

  private async retryAfter(key: string, fallback: number): Promise<number> {
    const ttl = await this.kv.ttl(key);
    return ttl > 0 ? ttl : fallback;
  }
}

function rateLimited(code: string, message: string, retryAfter: number): RgzError {
  return httpErrors.tooManyRequests(code, message, retryAfter);
}

function burned(): RgzError {
  return httpErrors.badRequest('otp_burned', 'too many wrong codes: this code no longer works; ask for a new code', { attempts_left: 0 });
}
