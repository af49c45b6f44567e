/**
 * The regulator's side in the tests: a node:http server taking multipart/form-data POSTs, parsed with the platform's
 * own multipart parser (undici's `Response.formData()`), answering a scripted status per request.
 */
import { createServer, type Server } from 'node:http';

export interface ReceivedUpload {
  headers: Record<string, string | string[] | undefined>;
  fields: Record<string, string>;
  files: Array<{ field: string; name: string; type: string; bytes: Buffer }>;
}

export interface UploadServer {
  url: string;
  readonly uploads: ReceivedUpload[];
  /** Statuses to answer the next requests with (then 201). */
  respond(...statuses: number[]): void;
  close(): Promise<void>;
}

export async function startUploadServer(): Promise<UploadServer> {
  const uploads: ReceivedUpload[] = [];
  const script: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const status = script.shift() ?? 201;
      try {
        const form = await new Response(Buffer.concat(chunks), { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
        const fields: Record<string, string> = {};
        const files: ReceivedUpload['files'] = [];
        for (const [field, value] of form.entries()) {
          if (typeof value === 'string') fields[field] = value;
          else files.push({ field, name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) });
        }
        uploads.push({ headers: req.headers, fields, files });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status < 300 ? { receipt: `ARCEP-RCPT-${uploads.length}` } : { error: 'try later' }));
      } catch (err) {
        res.writeHead(400);
        res.end(String(err));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/depot`,
    uploads,
    respond: (...s) => script.push(...s),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
