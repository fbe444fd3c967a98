import { formatDataSize, parseDataSize, parseTimePeriod } from '@sluice/api';
import { describe, expect, it } from 'vitest';

describe('time periods and data sizes', () => {
  it('parses the NiFi spellings users type', () => {
    expect(parseTimePeriod('30 sec')).toBe(30_000);
    expect(parseTimePeriod('1 min')).toBe(60_000);
    expect(parseTimePeriod('500 ms')).toBe(500);
    expect(parseTimePeriod('2 hours')).toBe(7_200_000);
    expect(parseTimePeriod('0 sec')).toBe(0);
    expect(parseDataSize('1 GB')).toBe(1024 ** 3);
    expect(parseDataSize('64 KB')).toBe(65_536);
    expect(parseDataSize('0.5 MB')).toBe(524_288);
  });

  it('names the bad value and shows an example', () => {
    expect(() => parseTimePeriod('soon')).toThrow(/"soon" is not a time period.*30 sec/);
    expect(() => parseDataSize('10 parsecs')).toThrow(/"10 parsecs" is not a data size/);
    expect(() => parseDataSize('1 __proto__')).toThrow(/not a data size/);
  });

  it('formats sizes for people', () => {
    expect(formatDataSize(512)).toBe('512 B');
    expect(formatDataSize(1536)).toBe('1.50 KB');
  });
});
