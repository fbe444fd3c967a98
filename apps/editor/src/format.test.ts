import { describe, expect, it } from 'vitest';
import { fillLevel, formatBytes, hexDump, prettyJson } from './format.ts';

describe('format', () => {
  it('shows sizes in binary multiples', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.50 KB');
    expect(formatBytes(1024 ** 3)).toBe('1.00 GB');
    expect(formatBytes(150 * 1024 * 1024)).toBe('150 MB');
  });

  it('colours queue fill as NiFi does', () => {
    expect(fillLevel(0)).toBe('green');
    expect(fillLevel(0.59)).toBe('green');
    expect(fillLevel(0.6)).toBe('yellow');
    expect(fillLevel(0.85)).toBe('red');
    expect(fillLevel(1)).toBe('red');
  });

  it('dumps bytes as offset, hex and printable ASCII', () => {
    const dump = hexDump(new TextEncoder().encode('{"a":1}\n0123456789abcdef'));
    expect(dump.split('\n')).toEqual([
      '00000000  7b 22 61 22 3a 31 7d 0a 30 31 32 33 34 35 36 37  {"a":1}.01234567',
      '00000010  38 39 61 62 63 64 65 66                          89abcdef',
    ]);
  });

  it('pretty-prints JSON, or says it cannot', () => {
    expect(prettyJson('{"a":[1,2]}')).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}');
    expect(prettyJson('not json')).toBeUndefined();
  });
});
