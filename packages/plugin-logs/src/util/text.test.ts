import { describe, expect, it } from 'vitest';
import { decodeLine, truncateString, utf8Boundary } from './text.js';

describe('decodeLine', () => {
  it('replaces invalid UTF-8 and flags it', () => {
    const r = decodeLine(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), 100);
    expect(r).toEqual({ text: 'caf\uFFFD', truncated: false, bytes: 5, invalidUtf8: true });
  });
  it('cuts at a character boundary and keeps the original size', () => {
    const buf = Buffer.from('aé€😀'); // 1 + 2 + 3 + 4 bytes
    expect(decodeLine(buf, 4)).toMatchObject({ text: 'aé', truncated: true, bytes: 10, invalidUtf8: false });
    expect(decodeLine(buf, 6)).toMatchObject({ text: 'aé€', truncated: true });
    expect(utf8Boundary(buf, 2)).toBe(1);
  });
  it('drops trailing CR/LF/NUL only', () => {
    expect(decodeLine(Buffer.from('a b\r\n\u0000'), 100).text).toBe('a b');
  });
  it('truncateString', () => {
    expect(truncateString('héllo', 3)).toEqual({ text: 'hé', truncated: true });
    expect(truncateString('hello', 10)).toEqual({ text: 'hello', truncated: false });
  });
});
