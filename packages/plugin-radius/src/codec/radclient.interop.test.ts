/**
 * Interop with the real peer: FreeRADIUS's radclient (Debian `freeradius-utils`) talks to a tiny UDP responder built
 * on this codec, on 127.0.0.1 only. radclient checks our Response Authenticator and Message-Authenticator and decodes
 * our attributes with its own dictionaries (VSAs, tags, Tunnel-Password); our side checks radclient's authenticators,
 * PAP/CHAP, and that re-encoding what it sent (Accounting/CoA/Disconnect) gives back its exact octets. Skipped when
 * radclient is not installed (`apt-get install freeradius-utils`).
 */

import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type AttributeInput, type RadiusAttribute } from './attributes.js';
import { verifyChap } from './crypto.js';
import { createDictionary } from './dictionary.js';
import {
  type RadiusPacket,
  PacketCode,
  authenticatorKind,
  chapChallenge,
  decode,
  encode,
  encodeResponse,
  verifyMessageAuthenticator,
  verifyRequestAuthenticator,
} from './packet.js';

const RADCLIENT = (() => {
  const found = spawnSync('sh', ['-c', 'command -v radclient'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
})();
if (RADCLIENT === undefined) console.warn('radclient not installed (apt-get install freeradius-utils): interop tests skipped');

const SECRET = 'testing123-interop';
const HOST = '127.0.0.1';

/** A tiny test vendor pair with the numbers radclient's own dictionaries use, so it names what we send. */
const DICTIONARY = createDictionary({
  vendors: [
    { id: 14_988, name: 'Mikrotik' },
    { id: 14_122, name: 'WISPr' },
  ],
  attributes: [
    { name: 'Mikrotik-Rate-Limit', vendorId: 14_988, type: 8, dataType: 'string' },
    { name: 'WISPr-Bandwidth-Max-Down', vendorId: 14_122, type: 8, dataType: 'integer' },
  ],
});

const VECTORS = (() => {
  const env = process.env.RGZ_CONFORMANCE_DIR;
  const candidates = env
    ? [join(env, 'radius'), env]
    : [join(dirname(fileURLToPath(import.meta.url)), '../../../../../shared/conformance/radius')];
  return candidates.find((d) => existsSync(join(d, 'v4-unit')));
})();

interface Seen {
  packet: RadiusPacket;
  raw: Buffer;
}

/** Run `fn` against a UDP responder on 127.0.0.1 (random port) answering with `handler`. */
async function withResponder(
  handler: (packet: RadiusPacket, raw: Buffer) => Buffer | undefined,
  fn: (port: number, seen: Seen[]) => Promise<void>,
): Promise<void> {
  const socket = createSocket('udp4');
  const seen: Seen[] = [];
  const errors: unknown[] = [];
  socket.on('message', (raw, peer) => {
    try {
      const packet = decode(raw, SECRET, { dictionary: DICTIONARY });
      seen.push({ packet, raw: packet.raw });
      const reply = handler(packet, packet.raw);
      if (reply) socket.send(reply, peer.port, peer.address);
    } catch (error) {
      errors.push(error);
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, HOST, resolve));
  try {
    await fn(socket.address().port, seen);
  } catch (error) {
    // A failed check on the server side is the real cause; radclient then only saw silence.
    throw errors[0] ?? error;
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
  if (errors.length > 0) throw errors[0];
}

interface RadclientRun {
  code: number | null;
  out: string;
  /** `Name = value` lines radclient printed for the reply it accepted. */
  reply: Map<string, string[]>;
}

function radclient(port: number, command: string, input: string): Promise<RadclientRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(RADCLIENT as string, ['-x', '-r', '1', '-t', '2', `${HOST}:${port}`, command, SECRET]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const reply = new Map<string, string[]>();
      const received = out.indexOf('Received ');
      if (received >= 0) {
        for (const line of out.slice(received).split('\n').slice(1)) {
          const m = /^\s+([\w.:-]+) = (.*)$/.exec(line);
          if (!m) continue;
          reply.set(m[1] as string, [...(reply.get(m[1] as string) ?? []), m[2] as string]);
        }
      }
      resolve({ code, out, reply });
    });
    child.stdin.end(`${input}\n`);
  });
}

/** Re-encode a decoded signed request from its attributes: must give radclient's octets back exactly. */
function reencode(packet: RadiusPacket): Buffer {
  const attributes: AttributeInput[] = packet.attributes.filter((a) => a.name !== 'Message-Authenticator');
  return encode(
    { code: packet.code, identifier: packet.identifier, attributes, messageAuthenticator: packet.has('Message-Authenticator') },
    SECRET,
    { dictionary: DICTIONARY },
  );
}

const accept = (request: RadiusPacket, attributes: AttributeInput[] = []) =>
  encodeResponse(request, { code: 'Access-Accept', attributes }, SECRET, { dictionary: DICTIONARY });

describe.skipIf(RADCLIENT === undefined)('radclient interop (127.0.0.1)', () => {
  it('PAP with Message-Authenticator: radclient accepts our Access-Accept and decodes its attributes', async () => {
    const password = 'correct horse battery staple!';
    await withResponder(
      (request) => {
        expect(verifyMessageAuthenticator(request.raw, SECRET)).toBe('valid');
        return accept(request, [
          { name: 'Session-Timeout', value: 3600 },
          { name: 'Acct-Interim-Interval', value: 300 },
          { name: 'Class', value: 'plan-a' },
          { name: 'Framed-IPv6-Prefix', value: '2001:db8:a0b::/48' },
          { name: 'Mikrotik-Rate-Limit', value: '2M/4M' },
          { name: 'WISPr-Bandwidth-Max-Down', value: 4_000_000 },
          { name: 'Tunnel-Password', value: 'vlan-key', tag: 1 },
          { name: 'Tunnel-Type', value: 'VLAN', tag: 1 },
        ]);
      },
      async (port, seen) => {
        const run = await radclient(port, 'auth', `User-Name = "alice", User-Password = "${password}", Message-Authenticator = 0x00`);
        expect(run.out).toContain('Received Access-Accept');
        expect(run.code, run.out).toBe(0);
        const request = seen[0]?.packet;
        expect(request?.get('User-Name')).toBe('alice');
        expect(request?.get('User-Password')).toBe(password);
        // FreeRADIUS decoded our VSAs with its own dictionaries, and revealed Tunnel-Password with the request authenticator.
        expect(run.reply.get('Mikrotik-Rate-Limit')).toEqual(['"2M/4M"']);
        expect(run.reply.get('WISPr-Bandwidth-Max-Down')).toEqual(['4000000']);
        expect(run.reply.get('Tunnel-Password:1')).toEqual(['"vlan-key"']);
        expect(run.reply.get('Tunnel-Type:1')).toEqual(['VLAN']);
        expect(run.reply.get('Framed-IPv6-Prefix')).toEqual(['2001:db8:a0b::/48']);
        expect(run.reply.get('Class')).toEqual([`0x${Buffer.from('plan-a').toString('hex')}`]);
        expect(run.reply.get('Session-Timeout')).toEqual(['3600']);
        expect(run.reply.has('Message-Authenticator')).toBe(true);
      },
    );
  });

  it('PAP without Message-Authenticator: the Accept still carries it first, and radclient accepts it', async () => {
    await withResponder(
      (request) => {
        expect(verifyMessageAuthenticator(request.raw, SECRET)).toBe('missing');
        const reply = accept(request);
        expect(reply[20]).toBe(80);
        return reply;
      },
      async (port, seen) => {
        const run = await radclient(port, 'auth', 'User-Name = "bob", User-Password = "hello"');
        expect(run.out).toContain('Received Access-Accept');
        expect(run.code, run.out).toBe(0);
        expect(seen[0]?.raw.length).toBe(43); // v4-radclient/auth_1.out: "length 43"
      },
    );
  });

  it.each([16, 17, 128])('PAP with a %i-octet password', async (size) => {
    const password = 'a'.repeat(size - 1) + 'Z';
    await withResponder(
      (request) => (request.get('User-Password') === password ? accept(request) : undefined),
      async (port) => {
        const run = await radclient(port, 'auth', `User-Name = "long", User-Password = "${password}", Message-Authenticator = 0x00`);
        expect(run.code, run.out).toBe(0);
      },
    );
  });

  it('a wrong password gets an Access-Reject that radclient accepts as a valid reply', async () => {
    await withResponder(
      (request) =>
        encodeResponse(
          request,
          { code: request.get('User-Password') === 'hello' ? 'Access-Accept' : 'Access-Reject', attributes: [{ name: 'Reply-Message', value: 'unknown user' }] },
          SECRET,
        ),
      async (port) => {
        const run = await radclient(port, 'auth', 'User-Name = "bob", User-Password = "wrong", Message-Authenticator = 0x00');
        expect(run.out).toContain('Received Access-Reject');
        expect(run.reply.get('Reply-Message')).toEqual(['"unknown user"']);
      },
    );
  });

  it('negative control: a reply signed with another secret is refused by radclient', async () => {
    await withResponder(
      (request) => encodeResponse(request, { code: 'Access-Accept' }, 'not-the-secret'),
      async (port) => {
        const run = await radclient(port, 'auth', 'User-Name = "bob", User-Password = "hello", Message-Authenticator = 0x00');
        expect(run.out).not.toContain('Received Access-Accept');
        expect(run.code).not.toBe(0);
      },
    );
  });

  it('CHAP computed by radclient verifies (CHAP-Challenge or Request Authenticator)', async () => {
    let usedChallengeAttribute: boolean | undefined;
    await withResponder(
      (request) => {
        usedChallengeAttribute = request.has('CHAP-Challenge');
        const ok = verifyChap(request.get('CHAP-Password') as Buffer, chapChallenge(request), 'hello');
        return encodeResponse(request, { code: ok ? 'Access-Accept' : 'Access-Reject' }, SECRET);
      },
      async (port) => {
        const run = await radclient(port, 'auth', 'User-Name = "bob", CHAP-Password = "hello"');
        expect(run.out).toContain('Received Access-Accept');
        expect(run.code, run.out).toBe(0);
      },
    );
    // radclient 3.2.1 sends no CHAP-Challenge: the challenge is the Request Authenticator.
    console.log(`radclient CHAP sent CHAP-Challenge: ${usedChallengeAttribute}`);
  });

  it('CHAP with an explicit CHAP-Challenge (v4-radclient/auth_chap_hex: chap-test / topsecret)', async () => {
    const file = VECTORS ? join(VECTORS, 'v4-radclient/auth_chap_hex.txt') : undefined;
    const input =
      file && existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter((l) => l.trim() !== '' && !l.startsWith('#'))
            .map((l) => l.replace(/,\s*$/, ''))
            .join(', ')
        : 'User-Name = "chap-test", CHAP-Challenge = 0x00112233445566778899aabbccddeeff, CHAP-Password = 0x57b8930fe5ed789effe92f74441a85b9bd';
    await withResponder(
      (request) => {
        const ok = verifyChap(request.get('CHAP-Password') as Buffer, chapChallenge(request), 'topsecret');
        return encodeResponse(request, { code: ok ? 'Access-Accept' : 'Access-Reject' }, SECRET);
      },
      async (port, seen) => {
        const run = await radclient(port, 'auth', input);
        expect(run.out).toContain('Received Access-Accept');
        expect(seen[0]?.packet.get('CHAP-Challenge')).toEqual(Buffer.from('00112233445566778899aabbccddeeff', 'hex'));
      },
    );
  });

  it('Status-Server with Message-Authenticator is answered with Access-Accept', async () => {
    await withResponder(
      (request) => {
        expect(request.code).toBe(PacketCode.StatusServer);
        expect(verifyMessageAuthenticator(request.raw, SECRET)).toBe('valid');
        return accept(request);
      },
      async (port) => {
        const run = await radclient(port, 'status', 'Message-Authenticator = 0x00');
        expect(run.out).toContain('Received Access-Accept');
        expect(run.code, run.out).toBe(0);
      },
    );
  });

  /** Accounting/CoA/Disconnect: check radclient's authenticators, rebuild its octets, answer. */
  function signedRequestResponder(reply: (request: RadiusPacket) => Buffer) {
    return (request: RadiusPacket, raw: Buffer) => {
      expect(authenticatorKind(request.code)).toBe('signed');
      expect(verifyRequestAuthenticator(raw, SECRET)).toBe(true);
      if (request.has('Message-Authenticator')) expect(verifyMessageAuthenticator(raw, SECRET)).toBe('valid');
      expect(reencode(request).toString('hex')).toBe(raw.toString('hex'));
      return reply(request);
    };
  }

  it('Accounting-Request (Interim-Update, Gigawords, Proxy-State, with M-A): verified, rebuilt byte for byte, answered', async () => {
    // A realistic record: v3.2.x-auth/modules_sql_acct_1_update.attrs when the vectors are present.
    const file = VECTORS ? join(VECTORS, 'v3.2.x-auth/modules_sql_acct_1_update.attrs') : undefined;
    const record =
      file && existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter((l) => l.trim() !== '' && !l.startsWith('#') && !l.startsWith('Response-Packet-Type'))
            .join(', ')
        : 'User-Name = "user1@example.org", Acct-Status-Type = Interim-Update, Acct-Session-Id = "00000001", Acct-Input-Octets = 10, Acct-Input-Gigawords = 1, Proxy-State = 0x323531';
    await withResponder(
      signedRequestResponder((request) => encodeResponse(request, { code: 'Accounting-Response' }, SECRET)),
      async (port, seen) => {
        // Message-Authenticator first in the input so radclient puts it where we do.
        const run = await radclient(port, 'acct', `Message-Authenticator = 0x00, ${record}`);
        expect(run.out).toContain('Received Accounting-Response');
        expect(run.code, run.out).toBe(0);
        const request = seen[0]?.packet as RadiusPacket;
        expect(request.find('Acct-Status-Type')).toMatchObject({ value: 3, valueName: 'Interim-Update' });
        expect(request.get('Acct-Input-Gigawords')).toBe(1);
        expect(request.get('Acct-Session-Id')).toBe('00000001');
        expect(request.get('Proxy-State')).toEqual(Buffer.from('251'));
        // The echoed Proxy-State is what radclient shows in the reply.
        expect(run.reply.get('Proxy-State')).toEqual(['0x323531']);
      },
    );
  });

  it('Accounting-Response Message-Authenticator: radclient 3.2 wants it keyed with zeros, not the request authenticator', async () => {
    for (const accountingResponseKey of ['zero', 'request'] as const) {
      await withResponder(
        signedRequestResponder((request) =>
          encodeResponse(request, { code: 'Accounting-Response', messageAuthenticator: true }, SECRET, { accountingResponseKey }),
        ),
        async (port) => {
          const run = await radclient(port, 'acct', 'Message-Authenticator = 0x00, User-Name = "a", Acct-Status-Type = Start');
          if (accountingResponseKey === 'zero') {
            expect(run.out).toContain('Received Accounting-Response');
          } else {
            // FreeRADIUS 3.x behaviour; FreeRADIUS 4 (and the spec's table) key it with the request authenticator.
            expect(run.out).toContain('invalid Message-Authenticator');
          }
        },
      );
    }
  });

  it('Accounting-Request carrying User-Password (v4-radclient/acct_1): hidden with 16 zeros', async () => {
    await withResponder(
      signedRequestResponder((request) => encodeResponse(request, { code: 'Accounting-Response' }, SECRET)),
      async (port, seen) => {
        const run = await radclient(port, 'acct', 'User-Name = "bob", User-Password = "hello"');
        expect(run.out).toContain('Received Accounting-Response');
        expect(seen[0]?.raw.length).toBe(43); // v4-radclient/acct_1.out: "length 43"
        expect(seen[0]?.packet.get('User-Password')).toBe('hello');
      },
    );
  });

  it.each([
    ['coa', 'CoA-ACK', []],
    ['disconnect', 'Disconnect-NAK', [{ name: 'Error-Cause', value: 'Session-Context-Not-Found' }]],
  ] as const)('%s request with M-A: verified, rebuilt byte for byte, answered %s', async (command, answer, attributes) => {
    await withResponder(
      signedRequestResponder((request) =>
        encodeResponse(request, { code: answer, attributes: [...attributes], messageAuthenticator: true }, SECRET, { dictionary: DICTIONARY }),
      ),
      async (port, seen) => {
        const run = await radclient(
          port,
          command,
          'Message-Authenticator = 0x00, User-Name = "alice", Acct-Session-Id = "80f00003", Event-Timestamp = "Nov 24 2026 23:34:42 UTC", Mikrotik-Rate-Limit = "1M/1M"',
        );
        expect(run.out).toContain(`Received ${answer}`);
        const request = seen[0]?.packet as RadiusPacket;
        expect(request.codeName).toBe(command === 'coa' ? 'CoA-Request' : 'Disconnect-Request');
        expect(request.get('Mikrotik-Rate-Limit')).toBe('1M/1M');
        expect(request.get('Event-Timestamp')).toBe(Date.UTC(2026, 10, 24, 23, 34, 42) / 1000);
        if (answer === 'Disconnect-NAK') expect(run.reply.get('Error-Cause')).toEqual(['Session-Context-Not-Found']);
      },
    );
  });

  it('CoA-Request without M-A: rebuilt byte for byte from its attributes', async () => {
    // Same id, attributes and secret → our encoder must produce radclient's octets (no randomness in these codes).
    await withResponder(
      signedRequestResponder((request) => encodeResponse(request, { code: 'CoA-ACK' }, SECRET)),
      async (port, seen) => {
        const run = await radclient(port, 'coa', 'User-Name = "coa", Acct-Session-Id = "1"');
        expect(run.out).toContain('Received CoA-ACK');
        const attrs: readonly RadiusAttribute[] = seen[0]?.packet.attributes ?? [];
        expect(attrs.map((a) => a.name)).toEqual(['User-Name', 'Acct-Session-Id']);
      },
    );
  });
});
