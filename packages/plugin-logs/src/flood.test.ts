/**
 * Under a flood: the ingest queue stays bounded; UDP lines that find it full are dropped and counted (every received
 * line is either processed or counted as dropped); TCP senders are slowed down (the socket is paused) instead, so
 * nothing sent over TCP is lost; heap growth stays small whatever the volume.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { definePlugin, LogParsers } from '@rgz/core';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, startWorld, type World } from './test-support/world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const line = (i: number) =>
  `<14>Nov 25 13:05:02 ap-${i % 50} hostapd: ath0: STA 24:a4:3c:${hex(i >> 16)}:${hex(i >> 8)}:${hex(i)} IEEE 802.11: associated ${'p'.repeat(80)}`;
const hex = (n: number) => (n & 255).toString(16).padStart(2, '0');

/** Blast `total` datagrams from a child process, in bursts that only wait for the socket's send queue. */
function runSender(port: number, total: number): Promise<void> {
  const code = `
    const dgram = require('node:dgram');
    const s = dgram.createSocket('udp4');
    const hex = (n) => (n & 255).toString(16).padStart(2, '0');
    const pad = 'p'.repeat(80);
    const line = (i) => '<14>Nov 25 13:05:02 ap-' + (i % 50) + ' hostapd: ath0: STA 24:a4:3c:' + hex(i >> 16) + ':' + hex(i >> 8) + ':' + hex(i) + ' IEEE 802.11: associated ' + pad;
    let i = 0;
    const burst = () => {
      for (let k = 0; k < 500 && i < ${total}; k++, i++) s.send(line(i), ${port}, '127.0.0.1');
      if (i < ${total}) setImmediate(burst); else setTimeout(() => s.close(), 100);
    };
    burst();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`sender exited ${c}: ${err}`))));
  });
}

describe('flood', () => {
  it('UDP: every datagram sent is accounted for — read and processed, dropped by our queue, or dropped by the kernel', async () => {
    w = await startWorld({ config: { queue: { maxRecords: 500, maxBytes: 1024 * 1024 }, syslog: { host: '127.0.0.1', udpPort: 0, tcpPort: null } } });
    const total = 150_000;
    await runSender(w.syslogUdp, total);
    await new Promise((r) => setTimeout(r, 300));
    await w.logs.flush();
    const received = await metricValue(w.server, 'logs_lines_received_total', { source: 'syslog_udp' });
    const dropped = await metricValue(w.server, 'logs_records_dropped_total', { reason: 'queue_full' });
    const status = w.logs.status();
    const kernel = status.listeners.udpKernelDrops ?? 0;
    expect(status.queue.processed + dropped).toBe(received);
    // On loopback the kernel's per-socket drop counter accounts for the rest exactly.
    if (status.listeners.udpKernelDrops !== null) expect(received + kernel).toBe(total);
    expect(await metricValue(w.server, 'logs_udp_kernel_drops', { listener: 'syslog' })).toBe(kernel);
  });

  it('UDP with a slow consumer: the queue stays bounded, drops are counted, heap growth stays small', async () => {
    // A deliberately slow parser (1 ms per line) makes processing slower than receiving. (With real parsers the event
    // loop reads datagrams more slowly than the pipeline processes them, and a flood overflows the kernel's buffer
    // first: the test above.)
    const slow = definePlugin({
      name: 'logparser-slow',
      version: '0.0.0',
      core: '^0.1.0',
      setup(ctx) {
        ctx.contribute(LogParsers, {
          id: 'slow',
          provider: 'test',
          appNames: [],
          parse() {
            const until = performance.now() + 1;
            while (performance.now() < until) {}
            return null;
          },
        });
      },
    });
    w = await startWorld({
      parsers: false,
      extraPlugins: [slow],
      config: { queue: { maxRecords: 100, maxBytes: 1024 * 1024 }, syslog: { host: '127.0.0.1', udpPort: 0, tcpPort: null } },
    });
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let maxDepth = 0;
    const sampler = setInterval(() => {
      maxDepth = Math.max(maxDepth, w?.logs.status().queue.depth ?? 0);
    }, 2);
    await runSender(w.syslogUdp, 50_000);
    clearInterval(sampler);
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    await new Promise((r) => setTimeout(r, 300));
    await w.logs.flush();
    const received = await metricValue(w.server, 'logs_lines_received_total', { source: 'syslog_udp' });
    const dropped = await metricValue(w.server, 'logs_records_dropped_total', { reason: 'queue_full' });
    expect(dropped).toBeGreaterThan(0);
    expect(await metricValue(w.server, 'logs_records_total', { index: 'syslog', outcome: 'dropped' })).toBe(dropped);
    expect(w.logs.status().queue.processed + dropped).toBe(received);
    expect(await metricValue(w.server, 'logs_records_total', { outcome: 'stored' })).toBe(w.logs.status().queue.processed);
    expect(maxDepth).toBeLessThanOrEqual(100);
    expect(heapGrowthMb).toBeLessThan(64);
  });

  it('TCP: the sender is paused instead, and every line arrives', async () => {
    w = await startWorld({ config: { queue: { maxRecords: 200, maxBytes: 1024 * 1024 }, syslog: { host: '127.0.0.1', udpPort: null, tcpPort: 0 } } });
    const port = w.syslogTcp;
    const total = 30_000;
    await new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      s.on('error', reject);
      let i = 0;
      const write = () => {
        while (i < total) {
          const ok = s.write(`${line(i++)}\n`);
          if (!ok) {
            s.once('drain', write);
            return;
          }
        }
        s.end();
      };
      s.on('connect', write);
      s.on('close', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 200));
    await w.logs.flush();
    const received = await metricValue(w.server, 'logs_lines_received_total', { source: 'syslog_tcp' });
    expect(received).toBe(total);
    expect(await metricValue(w.server, 'logs_records_dropped_total')).toBe(0);
    expect(w.logs.status().queue.processed).toBe(total);
    expect(await metricValue(w.server, 'logs_records_total', { outcome: 'stored', index: 'cpe' })).toBe(total);
  });
});
