/**
 * Events the captive portal publishes about client devices, declared in core so the plugins that react to them
 * (the DNS sinkhole, a firewall driver) never import the portal plugin, and the portal never imports them.
 */
import { defineEvent } from '../events/event-bus.js';

export interface PortalClientAuthorised {
  /** The device's IP address as the NAS reports it (IPv4 dotted quad or IPv6). */
  ip: string;
  subscriberId: string;
  /** How long the authorisation lasts: the session's remaining lifetime, in seconds. */
  ttlSeconds: number;
}

/**
 * Published when a device behind the NAS gets a session (OTP verified, voucher redeemed, payment credited), so
 * per-client services stop treating it as captive (e.g. the DNS sinkhole resolves real addresses for it).
 */
export const portalClientAuthorised = defineEvent<PortalClientAuthorised>('portal.client-authorised');
