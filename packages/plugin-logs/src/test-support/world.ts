/**
 * Test fixtures for the logs plugin: a real server (core's startTestServer) with the plugin on random ports of
 * 127.0.0.1, the three vendor parsers, a fresh data directory, and optionally a wire-compatible bulk test server as the
 * cluster.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RgzPlugin } from '@rgz/core';
import { startTestServer, type TestServer } from '@rgz/core/testing';
import cambium from '@rgz/logparser-cambium-epmp';
import freeradius from '@rgz/logparser-freeradius';
import airos from '@rgz/logparser-ubiquiti-airos';
import logs, { type LogsHandle, logsService } from '../index.js';

export interface World {
  server: TestServer;
  logs: LogsHandle;
  dataDir: string;
  syslogUdp: number;
  syslogTcp: number;
  close(): Promise<void>;
}

export interface WorldOptions {
  /** Extra `plugins.logs.config` keys (shallow-merged over the defaults below). */
  config?: Record<string, unknown>;
  parsers?: boolean;
  /** More plugins to load before logs (test parsers). */
  extraPlugins?: RgzPlugin[];
  dataDir?: string;
  keepDataDir?: boolean;
  /** Start as a CLI command does (`rgz logs search` beside the server): no serve hooks. */
  serve?: boolean;
}

export function tempDir(prefix = 'rgz-logs-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const dataDir = options.dataDir ?? tempDir();
  const base: Record<string, unknown> = {
    dataDir,
    syslog: { host: '127.0.0.1', udpPort: 0, tcpPort: 0 },
    local: { flushMs: 20 },
    tail: { pollMs: 20 },
  };
  const parsers = [
    ...(options.parsers === false ? [] : [{ plugin: freeradius }, { plugin: airos }, { plugin: cambium }]),
    ...(options.extraPlugins ?? []).map((plugin) => ({ plugin })),
  ];
  const server = await startTestServer({
    plugins: [...parsers, { plugin: logs, config: { ...base, ...options.config } }],
    ...(options.serve === undefined ? {} : { serve: options.serve }),
  });
  const handle = server.get(logsService);
  const status = handle.status();
  return {
    server,
    logs: handle,
    dataDir,
    syslogUdp: status.listeners.syslogUdp?.port ?? 0,
    syslogTcp: status.listeners.syslogTcp?.port ?? 0,
    async close() {
      await server.close();
      if (!options.keepDataDir && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Sum of a counter's values with these labels, read from the server's registry. */
export async function metricValue(server: TestServer, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = server.kernel.metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  return data.values
    .filter((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val))
    .reduce((s, v) => s + v.value, 0);
}
