import { describe, expect, it } from 'vitest';
import { type Frame, SyslogFramer } from './framing.js';

function run(framer: SyslogFramer, chunks: Array<string | Buffer>, end = true): Frame[] {
  const out: Frame[] = [];
  for (const c of chunks) framer.push(Buffer.isBuffer(c) ? c : Buffer.from(c), (f) => out.push(f));
  if (end) framer.end((f) => out.push(f));
  return out;
}
const texts = (frames: Frame[]) => frames.map((f) => f.bytes.toString('utf8'));

describe('RFC 6587 framing', () => {
  it('LF framing, split anywhere', () => {
    const f = new SyslogFramer(100);
    expect(texts(run(f, ['<13>a\n<13', '>b\n<1', '3>c\n']))).toEqual(['<13>a', '<13>b', '<13>c']);
  });

  it('octet counting, split inside the length and inside the message, mixed with LF frames', () => {
    const f = new SyslogFramer(100);
    expect(texts(run(f, ['5 <13>a1', '5 <13>hello w', 'orld<13>lf\n', '3 <1>']))).toEqual(['<13>a', '<13>hello world', '<13>lf', '<1>']);
  });

  it('an over-long LF frame is cut (head kept, flagged) and its tail skipped', () => {
    const f = new SyslogFramer(10);
    const frames = run(f, ['<13>0123456789', 'ABCDEFGH', 'IJ\n<13>ok\n']);
    expect(texts(frames)).toEqual(['<13>012345', '<13>ok']);
    expect(frames[0]?.truncated).toBe(true);
    expect(frames[1]?.truncated).toBe(false);
  });

  it('an over-long octet-counted frame is skipped, not buffered', () => {
    const f = new SyslogFramer(8);
    const big = 'x'.repeat(1_000_000);
    const frames = run(f, [`1000000 ${big.slice(0, 400_000)}`, big.slice(400_000), '4 <1>y']);
    expect(frames.map((x) => [x.bytes.length, x.originalBytes, x.truncated])).toEqual([
      [8, 1_000_000, true],
      [4, 4, false],
    ]);
    expect(f.buffered).toBe(0);
  });

  it('a connection closing mid-frame delivers what arrived, flagged truncated', () => {
    const f = new SyslogFramer(100);
    const frames = run(f, ['20 <13>only ten']);
    expect(texts(frames)).toEqual(['<13>only ten']);
    expect(frames[0]?.truncated).toBe(true);
    // A final LF-less frame is a complete message for senders that close right after writing.
    const g = new SyslogFramer(100);
    expect(run(g, ['<13>no newline']).map((x) => [x.bytes.toString(), x.truncated])).toEqual([['<13>no newline', false]]);
  });

  it('NUL terminators and CRLF are accepted', () => {
    const f = new SyslogFramer(100);
    expect(texts(run(f, ['<13>a\u0000<13>b\r\n']))).toEqual(['<13>a', '<13>b\r']);
  });

  it('lf mode: a leading digit is data (JSON lines)', () => {
    const f = new SyslogFramer(100, 'lf');
    expect(texts(run(f, ['12 is a number\n{"a":1}\n']))).toEqual(['12 is a number', '{"a":1}']);
  });
});
