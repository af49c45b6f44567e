// Precomputed RADIUS datagrams for bench/radius-auth.mjs, built with RGZ's own codec (packages/plugin-radius/src/codec)
// into one SharedArrayBuffer the load-generator worker reads without copying. Needs the TypeScript loader (tsx).
import { encode } from '../../packages/plugin-radius/src/codec/index.ts';

export const NAS_IDENTIFIER = 'bench-nas';

/** Packet j: Identifier (j / sockets) % 256, for socket j % sockets (see loadgen.mjs). */
const identifier = (j, sockets) => Math.floor(j / sockets) % 256;

function pack(count, build) {
  const parts = [];
  let total = 0;
  for (let j = 0; j < count; j++) {
    const p = build(j);
    parts.push(p);
    total += p.length;
  }
  const packets = new SharedArrayBuffer(total);
  const offsets = new SharedArrayBuffer((count + 1) * 4);
  const bytes = new Uint8Array(packets);
  const offs = new Int32Array(offsets);
  let at = 0;
  for (let j = 0; j < count; j++) {
    offs[j] = at;
    bytes.set(parts[j], at);
    at += parts[j].length;
  }
  offs[count] = at;
  return { packets, offsets, count };
}

/** Access-Requests (PAP + Message-Authenticator), user j % users.length, each with a fresh Request Authenticator. */
export function accessRequests(count, users, secret, sockets) {
  return pack(count, (j) => {
    const u = users[j % users.length];
    return encode(
      {
        code: 'Access-Request',
        identifier: identifier(j, sockets),
        attributes: [
          { name: 'User-Name', value: u.ref },
          { name: 'User-Password', value: u.token },
          { name: 'NAS-Identifier', value: NAS_IDENTIFIER },
          { name: 'NAS-IP-Address', value: '127.0.0.1' },
          { name: 'NAS-Port-Type', value: 19 },
          { name: 'Calling-Station-Id', value: u.mac },
        ],
      },
      secret,
    );
  });
}

/** Accounting-Request Start records, each a new session (`prefix-j`) of user j % users.length. */
export function accountingStarts(count, users, secret, sockets, prefix) {
  return pack(count, (j) => {
    const u = users[j % users.length];
    return encode(
      {
        code: 'Accounting-Request',
        identifier: identifier(j, sockets),
        attributes: [
          { name: 'Acct-Status-Type', value: 1 },
          { name: 'Acct-Session-Id', value: `${prefix}-${j}` },
          { name: 'User-Name', value: u.ref },
          { name: 'NAS-Identifier', value: NAS_IDENTIFIER },
          { name: 'NAS-IP-Address', value: '127.0.0.1' },
          { name: 'NAS-Port-Type', value: 19 },
          { name: 'Calling-Station-Id', value: u.mac },
          { type: 25, dataType: 'octets', value: Buffer.from(`rgz:${u.id}`) },
          { name: 'Acct-Input-Octets', value: 0 },
          { name: 'Acct-Output-Octets', value: 0 },
        ],
      },
      secret,
    );
  });
}

/** One Access-Request with its authenticator, for readiness checks. */
export function oneAccessRequest(user, secret) {
  return encode(
    {
      code: 'Access-Request',
      identifier: 7,
      attributes: [
        { name: 'User-Name', value: user.ref },
        { name: 'User-Password', value: user.token },
        { name: 'NAS-Identifier', value: NAS_IDENTIFIER },
        { name: 'NAS-IP-Address', value: '127.0.0.1' },
        { name: 'Calling-Station-Id', value: user.mac },
      ],
    },
    secret,
  );
}
