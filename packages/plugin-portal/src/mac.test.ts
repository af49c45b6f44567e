import { expect, it } from 'vitest';
import { normaliseMac } from './mac.js';

it('normalises CoovaChilli, MikroTik, Cisco and bare MACs to lower-case colon form', () => {
  for (const raw of ['AA-BB-CC-DD-EE-0F', 'aa:bb:cc:dd:ee:0f', 'AABB.CCDD.EE0F', 'aabbccddee0f', ' AA:BB:CC:DD:EE:0F ']) {
    expect(normaliseMac(raw), raw).toBe('aa:bb:cc:dd:ee:0f');
  }
});

it('refuses malformed, mixed-separator, zero and broadcast MACs', () => {
  for (const raw of [
    '',
    'zz:bb:cc:dd:ee:ff',
    'aa:bb:cc:dd:ee',
    'aa:bb-cc:dd:ee:ff',
    'aa:bb:cc:dd:ee:ff:00',
    '00:00:00:00:00:00',
    'FF-FF-FF-FF-FF-FF',
    '<script>',
  ]) {
    expect(normaliseMac(raw), raw).toBeNull();
  }
});
