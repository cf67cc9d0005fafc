import { describe, expect, it } from 'vitest';
import { LineCutter, MAX_LINE_BYTES } from './line-cutter.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('LineCutter', () => {
  it('cuts at LF and CRLF and keeps a partial last line until its end comes', () => {
    const cutter = new LineCutter();
    expect(cutter.push(bytes('one\ntwo\r\nthr'))).toEqual(['one', 'two']);
    expect(cutter.push(bytes('ee'))).toEqual([]);
    expect(cutter.push(bytes('\r'))).toEqual([]);
    expect(cutter.push(bytes('\n\n'))).toEqual(['three', '']);
    expect(cutter.flush()).toBeNull();
    cutter.push(bytes('tail'));
    expect(cutter.flush()).toBe('tail');
    expect(cutter.flush()).toBeNull();
  });

  it('joins a character split across two reads, and shows invalid UTF-8 as U+FFFD', () => {
    const cutter = new LineCutter();
    const euro = bytes('€'); // e2 82 ac
    expect(cutter.push(Buffer.concat([bytes('price '), euro.subarray(0, 1)]))).toEqual([]);
    expect(cutter.push(Buffer.concat([euro.subarray(1), bytes('5\n')]))).toEqual(['price €5']);
    expect(cutter.push(Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a]))).toEqual(['a\ufffd\ufffdb']);
  });

  it('cuts a 1 MB line to 8 KiB, says how much it dropped, and keeps the next line whole', () => {
    const cutter = new LineCutter();
    const big = Buffer.alloc(1024 * 1024, 'x');
    const out: string[] = [];
    // As a file reader yields it: 64 KiB at a time, the newline and the next line in the last read.
    for (let at = 0; at < big.length; at += 65_536) out.push(...cutter.push(big.subarray(at, at + 65_536)));
    out.push(...cutter.push(bytes('\r\nnext\n')));
    expect(out).toHaveLength(2);
    expect(out[0]).toBe(`${'x'.repeat(MAX_LINE_BYTES)}… (cut: ${1024 * 1024 - MAX_LINE_BYTES} bytes)`);
    expect(out[1]).toBe('next');
  });

  it('cuts a long line on a character boundary, never through a character', () => {
    const cutter = new LineCutter(10);
    // 'aaaaaaaaa' is 9 bytes; the 10th byte is the first of 'é' (2 bytes), which goes whole to the cut part.
    const [line] = cutter.push(bytes('aaaaaaaaaéz\n'));
    expect(line).toBe('aaaaaaaaa… (cut: 3 bytes)');
  });

  it('strips ANSI colours and § codes and shows other control characters as U+FFFD, keeping TAB', () => {
    const cutter = new LineCutter();
    const [line] = cutter.push(bytes('\u001b[32;1mgreen\u001b[0m §6gold§r\tend\u0007\u0000\u009b\u001b\n'));
    expect(line).toBe('green gold\tend\ufffd\ufffd\ufffd\ufffd');
  });
});
