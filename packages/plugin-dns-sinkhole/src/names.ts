/**
 * Which names an unauthorised client may resolve for real. Two lists, and the order between them matters:
 * - the walled garden (suffix match): hosts the portal's pages need before login (the payment widget) and hosts the
 *   server side needs whatever its resolver (the SMS gateway);
 * - the OS captive-portal probe hosts (exact match) must get the PORTAL address, or the phone never shows its
 *   "sign in to network" sheet. They win over the walled garden, so an operator who adds `gstatic.com` for fonts
 *   or `apple.com` does not silently break detection on Android or iOS.
 * Windows is the exception: NCSI checks that `dns.msftncsi.com` resolves to Microsoft's real address and, when it
 * does not, reports "no Internet" instead of showing the portal; so that name is in the walled garden.
 */

/**
 * Built-in walled garden. KKiaPay's widget hosts (from the captive-portal reference; 3-D Secure pages, fonts and
 * websocket hosts inside the widget are not known yet, hence the whole `kkiapay.me` suffix), Letexto's API host, and
 * Windows' NCSI DNS probe name.
 */
export const DEFAULT_WALLED_GARDEN: readonly string[] = ['kkiapay.me', 'letexto.com', 'dns.msftncsi.com'];

/**
 * HTTP connectivity probes of common OSes and browsers. Not from the RGZ references (they say nothing on probes):
 * the hosts the OS vendors' captive-portal detection is widely reported to fetch; extend with `probeHosts`.
 */
export const DEFAULT_PROBE_HOSTS: readonly string[] = [
  // Android / Chrome OS
  'connectivitycheck.gstatic.com',
  'connectivitycheck.android.com',
  'clients1.google.com',
  'clients3.google.com',
  'www.google.com',
  // Apple
  'captive.apple.com',
  'www.apple.com',
  'www.appleiphonecell.com',
  'www.itools.info',
  'www.ibook.info',
  'www.airport.us',
  'www.thinkdifferent.us',
  // Windows (HTTP probe; its DNS probe dns.msftncsi.com is in the walled garden)
  'www.msftconnecttest.com',
  'ipv6.msftconnecttest.com',
  'www.msftncsi.com',
  'ipv6.msftncsi.com',
  // Firefox, Linux desktops
  'detectportal.firefox.com',
  'connectivity-check.ubuntu.com',
  'nmcheck.gnome.org',
  'network-test.debian.org',
  // Android OEM variants
  'connect.rom.miui.com',
  'connectivitycheck.platform.hicloud.com',
  'connectivitycheck.smartisan.com',
];

/** Lower-case, no trailing dot. */
export function canonicalName(name: string): string {
  return name.trim().toLowerCase().replace(/\.+$/, '');
}

/** A list of domains matched as themselves or any name below them (`kkiapay.me` matches `api.kkiapay.me`). */
export class DomainSuffixSet {
  private readonly domains: Set<string>;

  constructor(domains: Iterable<string>) {
    this.domains = new Set([...domains].map(canonicalName).filter((d) => d.length > 0));
  }

  has(name: string): boolean {
    let candidate = canonicalName(name);
    // Walk up the labels: api.kkiapay.me, kkiapay.me, me. Bounded by the label count (≤ 127).
    for (;;) {
      if (this.domains.has(candidate)) return true;
      const dot = candidate.indexOf('.');
      if (dot < 0) return false;
      candidate = candidate.slice(dot + 1);
    }
  }

  list(): string[] {
    return [...this.domains].sort();
  }
}

/** A list of exact names. */
export class ExactNameSet {
  private readonly names: Set<string>;
  constructor(names: Iterable<string>) {
    this.names = new Set([...names].map(canonicalName).filter((d) => d.length > 0));
  }
  has(name: string): boolean {
    return this.names.has(canonicalName(name));
  }
  list(): string[] {
    return [...this.names].sort();
  }
}
