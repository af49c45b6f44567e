/**
 * The dns-sinkhole plugin's contract with the server: version, config errors with their key paths, start-up errors
 * naming the port, route access, and the KV key layout other code relies on.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createKernel, createMemoryKv, parseServerConfig } from '@rgz/core';
import { startTestServer } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import sinkholePlugin, { authoriseClient, clientAuthorisation, configSchema, dnsAuthKey, isClientAuthorised, revokeClient } from './index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
const base = { portalIpv4: '10.5.50.1', upstreams: ['127.0.0.1:53'] };

it("declares package.json's version and its name", () => {
  expect(sinkholePlugin.version).toBe(pkg.version);
  expect(sinkholePlugin.name).toBe('dns-sinkhole');
  expect(pkg.name).toBe('@rgz/plugin-dns-sinkhole');
});

it('defaults to 0.0.0.0:5353, a 5 s portal TTL and private client ranges', () => {
  const parsed = configSchema.parse(base);
  expect(parsed).toMatchObject({ host: '0.0.0.0', port: 5353, tcp: true, ttlSeconds: 5, defaultWalledGarden: true });
  expect(parsed.allowedClients).toEqual(expect.arrayContaining(['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '::1/128']));
  expect(configSchema.parse({ ...base, walledGarden: ['Pay.Example.COM.'] }).walledGarden).toEqual(['pay.example.com']);
});

describe('config errors name the key', () => {
  it.each([
    [{ upstreams: ['127.0.0.1'] }, 'plugins.dns-sinkhole.config.portalIpv4'],
    [{ ...base, portalIpv4: 'portal.local' }, 'plugins.dns-sinkhole.config.portalIpv4'],
    [{ portalIpv4: '10.5.50.1' }, 'plugins.dns-sinkhole.config.upstreams'],
    [{ ...base, upstreams: ['dns.google'] }, 'plugins.dns-sinkhole.config.upstreams.0'],
    [{ ...base, allowedClients: ['10.0.0.0/33'] }, 'plugins.dns-sinkhole.config.allowedClients.0'],
    [{ ...base, walledGarden: ['not a domain'] }, 'plugins.dns-sinkhole.config.walledGarden.0'],
  ])('%j → %s', async (config, path) => {
    // The kernel checks plugin config before it opens any storage, so no database is needed to see the error.
    const error = await createKernel({ config: parseServerConfig({ log: { level: 'silent' } }, {}), plugins: [{ plugin: sinkholePlugin, config }] }).then(
      () => new Error('the kernel accepted the config'),
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ code: 'config_invalid' });
    expect((error as Error).message).toContain(path);
  });
});

describe('dns-sinkhole in a server', () => {
  it('fails to start naming the port when it is taken, and serves its routes to NOC only', async () => {
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', () => resolve()));
    const taken = holder.address().port;
    try {
      await expect(startTestServer({ plugins: [{ plugin: sinkholePlugin, config: { ...base, host: '127.0.0.1', port: taken } }] })).rejects.toThrow(
        /plugins\.dns-sinkhole\.config\.port: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE/,
      );
    } finally {
      holder.close();
    }

    const server = await startTestServer({ plugins: [{ plugin: sinkholePlugin, config: { ...base, host: '127.0.0.1', port: 0 } }] });
    try {
      expect((await server.request('/api/dns-sinkhole/status')).status).toBe(401);
      const anonymous = await server.request('/api/dns-sinkhole/authorise', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(anonymous.status).toBe(401);
      const noc = { ...server.auth(server.nocToken), 'content-type': 'application/json' };
      const bad = await server.request('/api/dns-sinkhole/authorise', { method: 'POST', headers: noc, body: JSON.stringify({ ip: 'nope', ttl_seconds: 60 }) });
      expect(bad.status).toBe(400);
      // IPv6 and IPv4-mapped addresses land on one canonical key.
      const v6 = await server.request('/api/dns-sinkhole/authorise', {
        method: 'POST',
        headers: noc,
        body: JSON.stringify({ ip: 'FD00:0:0::0A', ttl_seconds: 60 }),
      });
      expect(await v6.json()).toMatchObject({ ip: 'fd00::a' });
      expect(await server.kernel.kv.get('rgz:dns:auth:fd00::a')).not.toBeNull();
      const doc = (await (await server.request('/openapi.json')).json()) as { paths: Record<string, Record<string, { 'x-rgz-access'?: unknown }>> };
      expect(doc.paths['/api/dns-sinkhole/authorise']?.post?.['x-rgz-access']).toEqual(['noc']);
      expect(doc.paths['/api/dns-sinkhole/authorise/{ip}']?.delete?.['x-rgz-access']).toEqual(['noc']);
    } finally {
      await server.close();
    }
  });
});

describe('authorisation keys', () => {
  it('writes rgz:dns:auth:{ip} with the TTL, for canonical addresses', async () => {
    const kv = createMemoryKv();
    try {
      expect(dnsAuthKey('::ffff:10.5.50.23')).toBe('rgz:dns:auth:10.5.50.23');
      await authoriseClient(kv, '10.5.50.23', { ttlSeconds: 90, subscriberId: 'sub-9' });
      expect(await kv.ttl('rgz:dns:auth:10.5.50.23')).toBeGreaterThan(85);
      expect(await isClientAuthorised(kv, '::ffff:10.5.50.23')).toBe(true);
      expect(await clientAuthorisation(kv, '10.5.50.23')).toMatchObject({ subscriberId: 'sub-9' });
      expect(await revokeClient(kv, '10.5.50.23')).toBe(true);
      expect(await isClientAuthorised(kv, '10.5.50.23')).toBe(false);
      await expect(authoriseClient(kv, '10.5.50.23', { ttlSeconds: 0 })).rejects.toMatchObject({ code: 'dns_auth_ttl_invalid' });
      await expect(authoriseClient(kv, 'x', { ttlSeconds: 5 })).rejects.toMatchObject({ code: 'dns_auth_ip_invalid' });
    } finally {
      await kv.close();
    }
  });
});
