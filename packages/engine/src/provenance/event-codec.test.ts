import { describe, expect, it } from 'vitest';
import { attributesToJson } from '../flowfile/flowfile-record.ts';
import { extractFilename, filenameHash } from './event-codec.ts';

describe('extractFilename', () => {
  const json = (entries: [string, string][]): string => attributesToJson(new Map(entries));

  it('reads the compact form without parsing', () => {
    expect(
      extractFilename(
        json([
          ['path', './'],
          ['filename', 'a.txt'],
        ]),
      ),
    ).toBe('a.txt');
    expect(extractFilename(json([['path', './']]))).toBeUndefined();
    expect(extractFilename('{}')).toBeUndefined();
  });

  it('is not fooled by the key text inside values or other keys', () => {
    expect(
      extractFilename(
        json([
          ['note', '"filename":"evil"'],
          ['filename', 'good'],
        ]),
      ),
    ).toBe('good');
    expect(extractFilename(json([['note', '"filename":"evil"']]))).toBeUndefined();
    expect(extractFilename(json([['myfilename', 'x']]))).toBeUndefined();
    expect(
      extractFilename(
        json([
          ['a', 'filename'],
          ['b', 'c'],
        ]),
      ),
    ).toBeUndefined();
  });

  it('falls back to JSON.parse for escapes and spacing', () => {
    expect(extractFilename(json([['filename', 'a"b\\c\nd']]))).toBe('a"b\\c\nd');
    expect(extractFilename('{ "filename" : "spaced.txt" }')).toBe('spaced.txt');
    expect(extractFilename('{"filename": 3}')).toBeUndefined();
    expect(extractFilename('{"filename": "broken')).toBeUndefined();
  });
});

describe('filenameHash', () => {
  it('is a stable unsigned 32-bit FNV-1a', () => {
    expect(filenameHash('')).toBe(0x811c9dc5);
    expect(filenameHash('a')).toBe(0xe40c292c);
    expect(filenameHash('보고서.csv')).toBe(filenameHash('보고서.csv'));
    expect(filenameHash('a.txt')).not.toBe(filenameHash('b.txt'));
  });
});
