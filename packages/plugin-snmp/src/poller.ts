/**
 * Poll one device: open a session, pick its profile (configured, cached from an earlier detection, or detected now
 * from sysObjectID/sysDescr and the profiles' probe OIDs, in one Get), fetch the profile's plan, parse it, and close
 * the session — always, and at the latest at the device deadline, so one unreachable CPE costs at most
 * `deviceTimeoutSeconds` of one worker and nothing of the others. `runPool` runs many with bounded concurrency.
 */
import type { CpeProbe, CpeProfile, CpeSample, Oid, SnmpCredentials } from '@rgz/core';
import { StandardOid } from '@rgz/core';
import { type ClientOptions, SnmpClient, SnmpError, type SnmpErrorKind } from './session.js';

export type PollResultKind = 'ok' | SnmpErrorKind | 'no_profile';
export const POLL_RESULTS: readonly PollResultKind[] = ['ok', 'timeout', 'malformed', 'auth', 'error', 'no_profile'];

export interface PollTarget {
  id: string;
  address: string;
  port: number;
  snmp: SnmpCredentials;
  /** CpeProfile id, or `auto`. */
  profile: string;
}

export interface PollOptions extends ClientOptions {
  /** Whole-device deadline, ms. */
  deviceTimeoutMs: number;
  /** Used when the profile's plan does not say. */
  maxRepetitions?: number;
  signal?: AbortSignal;
}

export interface PollOutcome {
  deviceId: string;
  /** When the plan's requests started (the sample's time). */
  polledAt: Date;
  durationMs: number;
  result: PollResultKind;
  error?: string;
  /** The profile used (or that would have been used). */
  profileId?: string;
  /** Set when this poll ran detection. */
  detected?: boolean;
  sample?: CpeSample;
  requests: number;
}

const decoder = new TextDecoder();

/** The profile that fits a device best (highest score > 0), from one Get of sysDescr, sysObjectID and every probe OID. */
export async function detectProfile(client: SnmpClient, profiles: ReadonlyMap<string, CpeProfile>): Promise<CpeProfile | undefined> {
  const probeOids: Oid[] = [...new Set([...profiles.values()].flatMap((p) => p.probeOids))].filter(
    (o) => o !== StandardOid.sysDescr && o !== StandardOid.sysObjectID,
  );
  const [descr, objectId, ...varbinds] = await client.get([StandardOid.sysDescr, StandardOid.sysObjectID, ...probeOids]);
  const probe: CpeProbe = {
    sysDescr: descr?.type === 'OctetString' ? decoder.decode(descr.value) : '',
    sysObjectID: objectId?.type === 'ObjectIdentifier' ? objectId.value : '',
    varbinds,
  };
  let best: { profile: CpeProfile; score: number } | undefined;
  for (const profile of [...profiles.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    let score = 0;
    try {
      score = profile.detect(probe);
    } catch {
      score = 0;
    }
    if (score > 0 && (!best || score > best.score)) best = { profile, score };
  }
  return best?.profile;
}

export async function pollDevice(
  target: PollTarget,
  profiles: ReadonlyMap<string, CpeProfile>,
  cachedProfileId: string | undefined,
  options: PollOptions,
): Promise<PollOutcome> {
  const started = performance.now();
  let polledAt = new Date();
  const base = () => ({ deviceId: target.id, polledAt, durationMs: Math.round(performance.now() - started) });
  if (options.signal?.aborted) return { ...base(), result: 'timeout', error: 'poll aborted', requests: 0 };

  const client = new SnmpClient(target, options);
  let deadline: NodeJS.Timeout | undefined;
  let timedOut = false;
  const onAbort = () => client.close();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let profile: CpeProfile | undefined;
  let detected = false;
  try {
    const work = (async (): Promise<PollOutcome> => {
      if (target.profile !== 'auto') {
        profile = profiles.get(target.profile);
        if (!profile) {
          return {
            ...base(),
            result: 'no_profile',
            error: `profile "${target.profile}" is not loaded (loaded: ${[...profiles.keys()].join(', ') || 'none'})`,
            requests: 0,
          };
        }
      } else {
        profile = cachedProfileId ? profiles.get(cachedProfileId) : undefined;
        if (!profile) {
          detected = true;
          profile = await detectProfile(client, profiles);
          if (!profile) return { ...base(), result: 'no_profile', error: 'no loaded profile recognises this device', requests: client.requests, detected };
        }
      }
      polledAt = new Date();
      const plan = profile.plan;
      const { got, walked } = await client.fetch(plan.get, plan.walk, plan.maxRepetitions ?? options.maxRepetitions ?? 20);
      let sample: CpeSample;
      try {
        sample = profile.parse({ varbinds: [...got, ...walked.flat()], polledAt });
      } catch (err) {
        return {
          ...base(),
          result: 'error',
          error: `profile ${profile.id} failed to parse: ${(err as Error).message}`,
          profileId: profile.id,
          requests: client.requests,
          detected,
        };
      }
      return { ...base(), result: 'ok', profileId: profile.id, sample, requests: client.requests, detected };
    })();
    const timer = new Promise<never>((_, reject) => {
      deadline = setTimeout(() => {
        timedOut = true;
        client.close();
        reject(new SnmpError('timeout', `device deadline of ${options.deviceTimeoutMs} ms passed`));
      }, options.deviceTimeoutMs);
    });
    return await Promise.race([work, timer]);
  } catch (err) {
    const e = err instanceof SnmpError ? err : new SnmpError('error', (err as Error)?.message ?? String(err));
    const kind: SnmpErrorKind = options.signal?.aborted || timedOut ? 'timeout' : e.kind;
    return {
      ...base(),
      result: kind,
      error: options.signal?.aborted ? 'poll aborted' : e.message,
      ...(profile ? { profileId: profile.id } : {}),
      requests: client.requests,
      detected,
    };
  } finally {
    clearTimeout(deadline);
    options.signal?.removeEventListener('abort', onAbort);
    client.close();
  }
}

/** Run `fn` over `items` with at most `concurrency` in flight; stops taking new items once `signal` aborts. */
export async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal?.aborted) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}
