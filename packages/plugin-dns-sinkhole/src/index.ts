/**
 * @rgz/plugin-dns-sinkhole: the `dns-sinkhole` plugin (the seed's `rgz-dns`). A DNS resolver for the subscriber
 * network that answers the portal's address to devices without a session, so any page they open lands on the
 * portal, and forwards to the real resolvers for devices with a session and for walled-garden names (payment
 * widget). Sessions reach it as KV keys `rgz:dns:auth:{ip}`, written on the portal's `portal.client-authorised`
 * event or through `POST /api/dns-sinkhole/authorise`.
 */
import { isIP } from 'node:net';
import { ConfigError, definePlugin, defineRoute, httpErrors, LATENCY_BUCKETS, portalClientAuthorised, z } from '@rgz/core';
import { authoriseClient, clientAuthorisation, isClientAuthorised, MAX_AUTHORISATION_SECONDS, revokeClient } from './authorisation.js';
import { DEFAULT_ALLOWED_CLIENTS, normaliseIp, parseCidr, SubnetSet } from './ip.js';
import { canonicalName, DEFAULT_PROBE_HOSTS, DEFAULT_WALLED_GARDEN, DomainSuffixSet, ExactNameSet } from './names.js';
import { type Decision, DnsSinkhole } from './server.js';
import { Forwarder, parseUpstream, type Upstream } from './upstream.js';

export {
  authoriseClient,
  type ClientAuthorisation,
  clientAuthorisation,
  dnsAuthKey,
  isClientAuthorised,
  MAX_AUTHORISATION_SECONDS,
  revokeClient,
} from './authorisation.js';
export { DEFAULT_ALLOWED_CLIENTS, normaliseIp, parseCidr, SubnetSet } from './ip.js';
export { DEFAULT_PROBE_HOSTS, DEFAULT_WALLED_GARDEN, DomainSuffixSet, ExactNameSet } from './names.js';
export { type Decision, DnsSinkhole, type DnsSinkholeOptions, type ListenAddress } from './server.js';
export { Forwarder, parseUpstream, type Upstream, UpstreamError } from './upstream.js';

const ipAddress = (family: 4 | 6) => z.string().refine((v) => isIP(v) === family, `an IPv${family} address`);
const cidr = z.string().refine((v) => parseCidr(v) !== null, 'an IP address or CIDR subnet (10.0.0.0/8, fc00::/7)');
const domain = z
  .string()
  .transform(canonicalName)
  .refine((v) => /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(v) && v.length <= 253, 'a domain name (example.com)');

/** `plugins[].config` of `dns-sinkhole`. */
export const configSchema = z.object({
  /** Address to listen on. 0.0.0.0 (or ::) for every interface; best: the subscriber-side address only. */
  host: z
    .string()
    .refine((v) => isIP(v) !== 0, 'an IP address (0.0.0.0, ::, 10.5.50.1)')
    .default('0.0.0.0'),
  /** Port for UDP and TCP. 53 needs root or CAP_NET_BIND_SERVICE (see README); 0 picks a free port. */
  port: z.coerce.number().int().min(0).max(65_535).default(5353),
  /** Serve TCP too (needed for truncated answers and by some clients). */
  tcp: z.boolean().default(true),
  /** The portal's IPv4 address: the A answer unauthorised clients get. */
  portalIpv4: ipAddress(4),
  /** The portal's IPv6 address, for AAAA answers; without it AAAA gets an empty NOERROR and clients use IPv4. */
  portalIpv6: ipAddress(6).optional(),
  /** TTL of the portal answers, in seconds: short, so a device that just logged in soon gets real addresses. */
  ttlSeconds: z.coerce.number().int().min(0).max(300).default(5),
  /** Real resolvers, tried in order: `10.0.0.1`, `10.0.0.1:5300`, `[2001:db8::1]:53`. */
  upstreams: z
    .array(z.string().refine((v) => parseUpstream(v) !== null, 'an IP address with an optional port (10.0.0.1:53, [::1]:53)'))
    .min(1, 'at least one upstream resolver (the ISP resolver, or a local unbound)'),
  /** Deadline of one upstream attempt, in ms. */
  upstreamTimeoutMs: z.coerce.number().int().min(50).max(30_000).default(2_000),
  /** Extra walled-garden domains (suffix match: `example.com` covers `www.example.com`). */
  walledGarden: z.array(domain).default([]),
  /** Include the built-in walled garden (KKiaPay, Letexto, Windows NCSI DNS probe). */
  defaultWalledGarden: z.boolean().default(true),
  /** Extra OS captive-portal probe hosts (exact names) that must get the portal even if the walled garden covers them. */
  probeHosts: z.array(domain).default([]),
  /** Clients allowed to query; others get REFUSED. Default: loopback, private, CGNAT and link-local ranges. */
  allowedClients: z
    .array(cidr)
    .min(1)
    .default([...DEFAULT_ALLOWED_CLIENTS]),
  /** Clients forwarded without a session (the NAS, RGZ's own servers, a staff LAN). */
  trustedClients: z.array(cidr).default([]),
});

export type DnsSinkholeConfig = z.output<typeof configSchema>;

const DECISIONS: readonly Decision[] = ['portal', 'walled_garden', 'forwarded', 'refused', 'malformed'];

const Authorisation = z.object({
  ip: z.string(),
  authorised: z.boolean(),
  ttl_seconds: z.number().int().nullable(),
  subscriber_id: z.string().nullable(),
});
const problem = { 'application/problem+json': { schema: z.object({ code: z.string() }) } };

export default definePlugin({
  name: 'dns-sinkhole',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'DNS sinkhole: clients without a session resolve every name to the portal, a walled garden resolves upstream',
  config: configSchema,

  setup(ctx) {
    const { config, kv } = ctx;
    const queries = ctx.metrics.counter({
      name: 'dns_queries_total',
      help: 'DNS messages by decision: portal (answered the portal address), walled_garden and forwarded (relayed upstream), refused (client outside allowedClients), malformed (dropped, or FORMERR/NOTIMP)',
      labelNames: ['decision'],
    });
    for (const decision of DECISIONS) queries.inc({ decision }, 0);
    const upstreamLatency = ctx.metrics.histogram({
      name: 'dns_upstream_duration_seconds',
      help: 'Time of one upstream resolver attempt, by upstream, transport (udp, tcp) and outcome (ok, timeout, error, bad_answer)',
      labelNames: ['upstream', 'transport', 'outcome'],
      buckets: LATENCY_BUCKETS,
    });

    const upstreams = config.upstreams.map((u) => parseUpstream(u) as Upstream);
    const walledGarden = new DomainSuffixSet([...(config.defaultWalledGarden ? DEFAULT_WALLED_GARDEN : []), ...config.walledGarden]);
    const probeHosts = new ExactNameSet([...DEFAULT_PROBE_HOSTS, ...config.probeHosts]);
    const allowedClients = new SubnetSet(config.allowedClients);
    const trustedClients = new SubnetSet(config.trustedClients);
    const sinkhole = new DnsSinkhole({
      host: config.host,
      port: config.port,
      tcp: config.tcp,
      portal: { ipv4: config.portalIpv4, ipv6: config.portalIpv6 ?? null, ttlSeconds: config.ttlSeconds },
      forwarder: new Forwarder({
        upstreams,
        timeoutMs: config.upstreamTimeoutMs,
        observe: ({ upstream, transport, outcome, seconds }) => upstreamLatency.observe({ upstream: upstream.label, transport, outcome }, seconds),
      }),
      allowedClients,
      trustedClients,
      walledGarden,
      probeHosts,
      isAuthorised: (ip) => isClientAuthorised(kv, ip),
      log: ctx.log,
      count: (decision) => queries.inc({ decision }),
    });

    ctx.on(portalClientAuthorised, async ({ ip, subscriberId, ttlSeconds }) => {
      try {
        await authoriseClient(kv, ip, { ttlSeconds, subscriberId });
        ctx.log.debug({ client: ip, subscriber_id: subscriberId, ttl_seconds: ttlSeconds }, 'dns client authorised');
      } catch (err) {
        ctx.log.warn({ err, client: ip, subscriber_id: subscriberId }, 'portal.client-authorised ignored');
      }
    });

    const router = ctx.router();
    const IpParam = z.object({
      ip: z
        .string()
        .refine((v) => normaliseIp(v) !== null, 'an IP address')
        .openapi({ param: { name: 'ip', in: 'path' }, example: '10.5.50.23' }),
    });

    router.add(
      defineRoute({
        method: 'post',
        path: '/authorise',
        access: ['noc'],
        tags: [ctx.name],
        summary: 'Treat a client IP as having a session for ttl_seconds: its DNS queries are then forwarded upstream',
        request: {
          body: {
            content: {
              'application/json': {
                schema: z.object({
                  ip: z
                    .string()
                    .refine((v) => normaliseIp(v) !== null, 'an IP address')
                    .openapi({ example: '10.5.50.23' }),
                  ttl_seconds: z.number().int().min(1).max(MAX_AUTHORISATION_SECONDS).openapi({ example: 3600 }),
                  subscriber_id: z.string().max(100).optional(),
                }),
              },
            },
          },
        },
        responses: {
          200: { description: 'Authorised', content: { 'application/json': { schema: Authorisation } } },
          400: { description: 'Invalid', content: problem },
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const ip = normaliseIp(body.ip) as string;
        await authoriseClient(kv, ip, { ttlSeconds: body.ttl_seconds, subscriberId: body.subscriber_id ?? null });
        await ctx.audit(c.get('principal'), { action: 'dns.authorise', targetType: 'client_ip', targetId: ip, details: { ttl_seconds: body.ttl_seconds } });
        return c.json({ ip, authorised: true, ttl_seconds: body.ttl_seconds, subscriber_id: body.subscriber_id ?? null }, 200);
      },
    );

    router.add(
      defineRoute({
        method: 'get',
        path: '/authorise/{ip}',
        access: ['noc'],
        tags: [ctx.name],
        summary: 'Whether a client IP is authorised, and for how long',
        request: { params: IpParam },
        responses: { 200: { description: 'The authorisation', content: { 'application/json': { schema: Authorisation } } } },
      }),
      async (c) => {
        const ip = normaliseIp(c.req.valid('param').ip) as string;
        const found = await clientAuthorisation(kv, ip);
        return c.json({ ip, authorised: found !== null, ttl_seconds: found?.ttlSeconds ?? null, subscriber_id: found?.subscriberId ?? null }, 200);
      },
    );

    router.add(
      defineRoute({
        method: 'delete',
        path: '/authorise/{ip}',
        access: ['noc'],
        tags: [ctx.name],
        summary: 'Send a client IP back to the portal (its DNS answers become the portal address again)',
        request: { params: IpParam },
        responses: { 204: { description: 'Revoked' }, 404: { description: 'Was not authorised', content: problem } },
      }),
      async (c) => {
        const ip = normaliseIp(c.req.valid('param').ip) as string;
        if (!(await revokeClient(kv, ip))) throw httpErrors.notFound('dns_client_not_authorised', `${ip} is not authorised`);
        await ctx.audit(c.get('principal'), { action: 'dns.revoke', targetType: 'client_ip', targetId: ip });
        return c.body(null, 204);
      },
    );

    router.add(
      defineRoute({
        method: 'get',
        path: '/status',
        access: ['noc'],
        tags: [ctx.name],
        summary: 'Where the sinkhole listens and what it lets through',
        responses: {
          200: {
            description: 'Listening address and lists',
            content: {
              'application/json': {
                schema: z.object({
                  listening: z.object({ host: z.string(), udp_port: z.number().int(), tcp_port: z.number().int().nullable() }).nullable(),
                  portal: z.object({ ipv4: z.string(), ipv6: z.string().nullable(), ttl_seconds: z.number().int() }),
                  upstreams: z.array(z.string()),
                  walled_garden: z.array(z.string()),
                  probe_hosts: z.array(z.string()),
                  allowed_clients: z.array(z.string()),
                  trusted_clients: z.array(z.string()),
                }),
              },
            },
          },
        },
      }),
      (c) => {
        const at = sinkhole.address();
        return c.json(
          {
            listening: at ? { host: at.host, udp_port: at.udpPort, tcp_port: at.tcpPort } : null,
            portal: { ipv4: config.portalIpv4, ipv6: config.portalIpv6 ?? null, ttl_seconds: config.ttlSeconds },
            upstreams: upstreams.map((u) => u.label),
            walled_garden: walledGarden.list(),
            probe_hosts: probeHosts.list(),
            allowed_clients: [...allowedClients.cidrs],
            trusted_clients: [...trustedClients.cidrs],
          },
          200,
        );
      },
    );

    // Listeners only in a serving process (`rgz start`), not in CLI commands next to a running server.
    ctx.onServe(async () => {
      let at: Awaited<ReturnType<DnsSinkhole['start']>>;
      try {
        at = await sinkhole.start();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        const hint =
          code === 'EACCES'
            ? '; ports below 1024 need CAP_NET_BIND_SERVICE (setcap cap_net_bind_service=+ep $(which node)) or an iptables/nft redirect from 53 to 5353'
            : code === 'EADDRINUSE'
              ? '; another DNS server (systemd-resolved, dnsmasq) holds it: stop it or choose another port'
              : code === 'EADDRNOTAVAIL'
                ? '; no interface has that address'
                : '';
        throw new ConfigError(`plugins.${ctx.name}.config.port`, `cannot listen on ${config.host}:${config.port} (${code}: ${(err as Error).message})${hint}`);
      }
      ctx.log.info(
        { host: at.host, udp_port: at.udpPort, tcp_port: at.tcpPort, upstreams: upstreams.map((u) => u.label), portal: config.portalIpv4 },
        'dns sinkhole listening',
      );
    });
    ctx.onStop(() => sinkhole.stop());
  },
});
