/**
 * A small S3-compatible HTTP server for tests — NOT a real object store. Debian 12's only S3 server is Ceph's
 * radosgw, too heavy to start in CI, and no MinIO-like server is packaged; so this one follows the S3 REST API's
 * documented request and response formats (https://docs.aws.amazon.com/AmazonS3/latest/API/) for exactly the
 * operations `S3Target` uses, path-style only (`http://host:port/bucket/key`):
 *   CreateBucket (PUT /b), PutObject (PUT /b/k), GetObject (GET /b/k), HeadObject (HEAD /b/k),
 *   DeleteObject (DELETE /b/k), ListObjectsV2 (GET /b?list-type=2: prefix, max-keys, continuation-token, start-after),
 *   CreateMultipartUpload (POST /b/k?uploads), UploadPart (PUT /b/k?partNumber&uploadId),
 *   CompleteMultipartUpload (POST /b/k?uploadId), AbortMultipartUpload (DELETE /b/k?uploadId).
 * Anything else answers 501 NotImplemented. Every request must carry a valid AWS Signature Version 4 in the
 * Authorization header: the access key must be known, the signature is recomputed from the canonical request and
 * compared, `x-amz-date` must be within 15 minutes, and a signed payload hash must match the body (unsigned and
 * aws-chunked streaming payloads are refused). Presigned URLs, virtual-hosted style, versioning, ranges, ACLs and
 * delimiters are not implemented. Objects are kept in memory.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredObject {
  bytes: Buffer;
  metadata: Record<string, string>;
  lastModified: Date;
  etag: string;
}

export interface S3TestServerOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  buckets?: string[];
  /** Largest ListObjectsV2 page the server returns, whatever max-keys asks (S3: 1000). Small values test paging. */
  maxKeysCap?: number;
  /** S3 refuses parts under 5 MiB except the last; tests with small parts can lower this. */
  minPartSize?: number;
}

export interface S3TestServer {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** Bucket → key → object. */
  readonly buckets: Map<string, Map<string, StoredObject>>;
  /** Open multipart uploads (id → key), to check that failed uploads were aborted. */
  readonly uploads: Map<string, { bucket: string; key: string }>;
  /** Every request as `OPERATION key`, in order (tests assert which operations ran). */
  readonly log: string[];
  /** Requests refused for authentication, with the reason. */
  readonly authFailures: string[];
  close(): Promise<void>;
}

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startS3TestServer(options: S3TestServerOptions = {}): Promise<S3TestServer> {
  const accessKeyId = options.accessKeyId ?? 'RGZTESTACCESSKEY';
  const secretAccessKey = options.secretAccessKey ?? 'rgz-test-secret-key-0123456789abcdef';
  const region = options.region ?? 'us-east-1';
  const maxKeysCap = options.maxKeysCap ?? 1000;
  const minPartSize = options.minPartSize ?? 5 * 1024 * 1024;
  const buckets = new Map<string, Map<string, StoredObject>>((options.buckets ?? []).map((b) => [b, new Map()]));
  const uploads = new Map<string, { bucket: string; key: string; parts: Map<number, { bytes: Buffer; etag: string }>; metadata: Record<string, string> }>();
  const log: string[] = [];
  const authFailures: string[] = [];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      try {
        handle(req, res, body);
      } catch (err) {
        const e = err instanceof S3Error ? err : new S3Error(500, 'InternalError', (err as Error).message);
        sendError(res, e, req.url ?? '/');
      }
    });
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    authenticate(req, url, body);
    const [, bucketName = '', ...rest] = url.pathname.split('/');
    const bucket = decodeURIComponent(bucketName);
    const key = rest.map((s) => decodeURIComponent(s)).join('/');
    const q = url.searchParams;
    if (!bucket) throw new S3Error(501, 'NotImplemented', 'ListBuckets is not implemented by this test server');

    if (!key) {
      if (method === 'PUT' && [...q.keys()].filter((k) => k !== 'x-id').length === 0) {
        log.push(`CreateBucket ${bucket}`);
        if (!buckets.has(bucket)) buckets.set(bucket, new Map());
        res.writeHead(200, { location: `/${bucket}` }).end();
        return;
      }
      const objects = bucketOf(bucket);
      if (method === 'GET' && q.get('list-type') === '2') {
        if (q.has('delimiter')) throw new S3Error(501, 'NotImplemented', 'delimiter is not implemented by this test server');
        log.push(`ListObjectsV2 ${q.get('prefix') ?? ''}`);
        return listV2(res, bucket, objects, q);
      }
      throw new S3Error(501, 'NotImplemented', `${method} on a bucket with ${url.search || 'no query'} is not implemented by this test server`);
    }
    const objects = bucketOf(bucket);
    if (req.headers.range) throw new S3Error(501, 'NotImplemented', 'Range requests are not implemented by this test server');
    if (req.headers['x-amz-copy-source']) throw new S3Error(501, 'NotImplemented', 'CopyObject is not implemented by this test server');

    if (method === 'POST' && q.has('uploads')) {
      log.push(`CreateMultipartUpload ${key}`);
      const uploadId = randomBytes(12).toString('hex');
      uploads.set(uploadId, { bucket, key, parts: new Map(), metadata: metadataOf(req) });
      return xml(
        res,
        200,
        `<InitiateMultipartUploadResult xmlns="${NS}"><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
      );
    }
    if (q.has('uploadId')) {
      const uploadId = q.get('uploadId') as string;
      const upload = uploads.get(uploadId);
      if (!upload || upload.bucket !== bucket || upload.key !== key) throw new S3Error(404, 'NoSuchUpload', 'The specified multipart upload does not exist');
      if (method === 'PUT') {
        const n = Number(q.get('partNumber'));
        if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000');
        log.push(`UploadPart ${key} ${n}`);
        const etag = `"${md5(body)}"`;
        upload.parts.set(n, { bytes: body, etag });
        res.writeHead(200, { etag }).end();
        return;
      }
      if (method === 'POST') {
        log.push(`CompleteMultipartUpload ${key}`);
        const text = body.toString('utf8');
        const listed = [...text.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
          n: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(m[1] as string)?.[1]),
          etag: unesc(/<ETag>([^<]*)<\/ETag>/.exec(m[1] as string)?.[1] ?? ''),
        }));
        if (listed.length === 0) throw new S3Error(400, 'MalformedXML', 'CompleteMultipartUpload lists no part');
        const bytes: Buffer[] = [];
        const md5s: Buffer[] = [];
        listed.forEach((p, i) => {
          const part = upload.parts.get(p.n);
          if (!part || part.etag !== p.etag) throw new S3Error(400, 'InvalidPart', `part ${p.n} was not uploaded or its ETag differs`);
          if (i > 0 && p.n <= (listed[i - 1] as { n: number }).n) throw new S3Error(400, 'InvalidPartOrder', 'parts must be listed in ascending order');
          if (i < listed.length - 1 && part.bytes.length < minPartSize)
            throw new S3Error(400, 'EntityTooSmall', `part ${p.n} is smaller than the minimum allowed size`);
          bytes.push(part.bytes);
          md5s.push(Buffer.from(part.etag.slice(1, -1), 'hex'));
        });
        const etag = `"${md5(Buffer.concat(md5s))}-${listed.length}"`;
        objects.set(key, { bytes: Buffer.concat(bytes), metadata: upload.metadata, lastModified: new Date(), etag });
        uploads.delete(uploadId);
        return xml(
          res,
          200,
          `<CompleteMultipartUploadResult xmlns="${NS}"><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><ETag>${esc(etag)}</ETag></CompleteMultipartUploadResult>`,
        );
      }
      if (method === 'DELETE') {
        log.push(`AbortMultipartUpload ${key}`);
        uploads.delete(uploadId);
        res.writeHead(204).end();
        return;
      }
    }
    if (method === 'PUT') {
      log.push(`PutObject ${key}`);
      const etag = `"${md5(body)}"`;
      objects.set(key, { bytes: body, metadata: metadataOf(req), lastModified: new Date(), etag });
      res.writeHead(200, { etag }).end();
      return;
    }
    if (method === 'GET' || method === 'HEAD') {
      log.push(`${method === 'GET' ? 'GetObject' : 'HeadObject'} ${key}`);
      const o = objects.get(key);
      if (!o) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
      const headers: Record<string, string | number> = {
        'content-type': 'application/octet-stream',
        'content-length': o.bytes.length,
        etag: o.etag,
        'last-modified': o.lastModified.toUTCString(),
      };
      for (const [k, v] of Object.entries(o.metadata)) headers[`x-amz-meta-${k}`] = v;
      res.writeHead(200, headers);
      res.end(method === 'GET' ? o.bytes : undefined);
      return;
    }
    if (method === 'DELETE') {
      log.push(`DeleteObject ${key}`);
      objects.delete(key);
      res.writeHead(204).end();
      return;
    }
    throw new S3Error(501, 'NotImplemented', `${method} ${url.pathname}${url.search} is not implemented by this test server`);
  }

  function bucketOf(name: string): Map<string, StoredObject> {
    const b = buckets.get(name);
    if (!b) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    return b;
  }

  function listV2(res: ServerResponse, bucket: string, objects: Map<string, StoredObject>, q: URLSearchParams): void {
    const prefix = q.get('prefix') ?? '';
    const maxKeys = Math.min(Number(q.get('max-keys') ?? 1000), maxKeysCap);
    const token = q.get('continuation-token');
    const after = token ? Buffer.from(token, 'base64url').toString('utf8') : (q.get('start-after') ?? '');
    // S3 lists keys in ascending UTF-8 byte order.
    const keys = [...objects.keys()]
      .filter((k) => k.startsWith(prefix) && Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0)
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const page = keys.slice(0, maxKeys);
    const truncated = keys.length > page.length;
    const contents = page
      .map((k) => {
        const o = objects.get(k) as StoredObject;
        return `<Contents><Key>${esc(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${esc(o.etag)}</ETag><Size>${o.bytes.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join('');
    const next = truncated ? `<NextContinuationToken>${Buffer.from(page[page.length - 1] as string).toString('base64url')}</NextContinuationToken>` : '';
    xml(
      res,
      200,
      `<ListBucketResult xmlns="${NS}"><Name>${esc(bucket)}</Name><Prefix>${esc(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${token ? `<ContinuationToken>${esc(token)}</ContinuationToken>` : ''}${next}${contents}</ListBucketResult>`,
    );
  }

  /** AWS Signature Version 4, header form (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). */
  function authenticate(req: IncomingMessage, url: URL, body: Buffer) {
    const fail = (code: string, status: number, reason: string): never => {
      authFailures.push(`${code}: ${reason}`);
      throw new S3Error(status, code, reason);
    };
    const auth = req.headers.authorization ?? '';
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return fail('AccessDenied', 403, `missing or malformed SigV4 Authorization header: ${JSON.stringify(auth.slice(0, 60))}`);
    const [, keyId, date, reqRegion, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string];
    if (keyId !== accessKeyId) return fail('InvalidAccessKeyId', 403, `unknown access key ${keyId}`);
    if (reqRegion !== region) return fail('AuthorizationHeaderMalformed', 400, `region ${reqRegion} is wrong; expecting ${region}`);
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    if (!/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(date)) return fail('AccessDenied', 403, 'missing or inconsistent x-amz-date');
    const when = Date.UTC(
      +amzDate.slice(0, 4),
      +amzDate.slice(4, 6) - 1,
      +amzDate.slice(6, 8),
      +amzDate.slice(9, 11),
      +amzDate.slice(11, 13),
      +amzDate.slice(13, 15),
    );
    if (Math.abs(Date.now() - when) > 15 * 60_000) return fail('RequestTimeTooSkewed', 403, 'x-amz-date is more than 15 minutes away from the server time');
    const headerNames = signedHeaders.split(';');
    if (!headerNames.includes('host') || !headerNames.includes('x-amz-date')) return fail('AccessDenied', 403, 'host and x-amz-date must be signed');
    const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
    if (!/^[0-9a-f]{64}$/.test(payloadHash))
      return fail('NotImplemented', 501, `x-amz-content-sha256 ${JSON.stringify(payloadHash)}: only signed payloads are implemented by this test server`);
    if (createHash('sha256').update(body).digest('hex') !== payloadHash)
      return fail('XAmzContentSHA256Mismatch', 400, 'the body does not match x-amz-content-sha256');
    const canonicalHeaders = headerNames
      .map((h) => {
        const v = req.headers[h];
        const value = Array.isArray(v) ? v.join(',') : (v ?? '');
        return `${h}:${String(value).trim().replace(/\s+/g, ' ')}\n`;
      })
      .join('');
    const canonicalUri = url.pathname
      .split('/')
      .map((s) => awsEncode(decodeURIComponent(s)))
      .join('/');
    const canonicalQuery = [...url.searchParams.entries()]
      .map(([k, v]) => [awsEncode(k), awsEncode(v)] as const)
      .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
    const scope = `${date}/${reqRegion}/s3/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
    const kDate = hmac(`AWS4${secretAccessKey}`, date);
    const kSigning = hmac(hmac(hmac(kDate, reqRegion), 's3'), 'aws4_request');
    const expected = createHmac('sha256', kSigning).update(stringToSign).digest();
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return fail('SignatureDoesNotMatch', 403, 'the request signature does not match');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId,
    secretAccessKey,
    region,
    buckets,
    uploads: uploads as unknown as Map<string, { bucket: string; key: string }>,
    log,
    authFailures,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function metadataOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (k.startsWith('x-amz-meta-') && v !== undefined) out[k.slice('x-amz-meta-'.length)] = String(v);
  return out;
}

function xml(res: ServerResponse, status: number, body: string): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) }).end(text);
}

function sendError(res: ServerResponse, e: S3Error, resource: string): void {
  if (res.headersSent) return void res.destroy();
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  xml(
    res,
    e.status,
    `<Error><Code>${e.code}</Code><Message>${esc(e.message)}</Message><Resource>${esc(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`,
  );
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function unesc(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - . _ ~ is %XX (upper-case hex). */
function awsEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
