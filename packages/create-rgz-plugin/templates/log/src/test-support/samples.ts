/**
 * Sample messages for the LogParser contract. All synthetic: written in the format of hostapd's logs (`hostapd`
 * 2.x, `wpa_auth` and `sta_info` lines), not captured from a device. Replace or extend them with real captures.
 */
import type { LogParserSample } from '@rgz/core/testing';

const receivedAt = new Date('2026-11-24T10:00:05Z');
const timestamp = new Date('2026-11-24T10:00:04Z');

export const samples: readonly LogParserSample[] = [
  {
    name: 'synthetic: hostapd association (RFC 3164)',
    message: {
      format: 'rfc3164',
      facility: 3,
      severity: 6,
      timestamp,
      hostname: 'ap-cotonou-1',
      appName: 'hostapd',
      message: 'wlan0: STA 24:A4:3C:01:02:03 IEEE 802.11: associated (aid 1)',
      receivedAt,
      sourceAddress: '10.0.0.21',
    },
    expect: {
      kind: 'wifi.associated',
      severity: 6,
      host: 'ap-cotonou-1',
      time: timestamp,
      subject: { mac: '24:a4:3c:01:02:03' },
      fields: { interface: 'wlan0' },
    },
  },
  {
    name: 'synthetic: hostapd disassociation, raw line without envelope',
    message: { format: 'raw', message: 'ath0: STA 30:39:26:86:cc:ea IEEE 802.11: disassociated', receivedAt },
    expect: { kind: 'wifi.disassociated', severity: 6, time: receivedAt, subject: { mac: '30:39:26:86:cc:ea' }, fields: { interface: 'ath0' } },
  },
  {
    name: 'synthetic: WPA handshake',
    message: {
      format: 'rfc5424',
      severity: 5,
      timestamp,
      hostname: 'ap-porto-novo-2',
      appName: 'hostapd',
      message: 'wlan1: STA 24:a4:3c:0a:0b:0c WPA: pairwise key handshake completed (RSN)',
      receivedAt,
    },
    expect: { kind: 'wifi.handshake_completed', severity: 5, subject: { mac: '24:a4:3c:0a:0b:0c' }, fields: { interface: 'wlan1' } },
  },
  {
    name: 'synthetic: hostapd line without an event of interest',
    message: {
      format: 'rfc3164',
      severity: 7,
      timestamp,
      hostname: 'ap-cotonou-1',
      appName: 'hostapd',
      message: 'wlan0: interface state UNINITIALIZED->ENABLED',
      receivedAt,
    },
    expect: null,
  },
];
