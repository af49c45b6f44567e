/**
 * A TCP proxy between a server and its PostgreSQL: `cut()` drops every connection and stops listening (the network
 * between this replica and the database is gone: connections fail at once), `restore()` listens again on the same port.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** postgres URL `url` rewritten to go through the proxy. */
  via(url: string): string;
  /** Drop every connection and refuse new ones (the database host went away). */
  cut(): Promise<void>;
  /**
   * Stop forwarding bytes on the open connections (held, not dropped) and refuse new ones: a network partition. Queries
   * in flight hang instead of failing, so no client sees its connection die mid-query.
   */
  blackhole(): Promise<void>;
  /** Forward again (held bytes flow) and accept new connections on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let held = false;
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = createConnection(target.port, target.host);
        sockets.add(client);
        sockets.add(upstream);
        const pair = { client, upstream };
        pairs.add(pair);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
          pairs.delete(pair);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream);
        upstream.pipe(client);
        if (held) {
          client.pause();
          upstream.pause();
        }
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        const address = s.address();
        port = typeof address === 'object' && address ? address.port : port;
        server = s;
        resolve();
      });
    });
  const stopListening = async () => {
    const s = server;
    server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  const cut = async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    pairs.clear();
    await stopListening();
  };
  const blackhole = async () => {
    held = true;
    for (const { client, upstream } of pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
    // server.close() waits for open connections: do not await it while they are held.
    const s = server;
    server = undefined;
    s?.close();
  };
  await listen();
  return {
    get port() {
      return port;
    },
    via(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut,
    blackhole,
    async restore() {
      if (held) {
        held = false;
        for (const { client, upstream } of pairs) {
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
          upstream.resume();
        }
      }
      if (!server) await listen();
    },
    close: cut,
  };
}
