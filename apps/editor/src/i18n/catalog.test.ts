import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { en } from './en.ts';
import { ko } from './ko.ts';

function keys(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([k, v]) => (typeof v === 'string' ? [`${prefix}${k}`] : keys(v, `${prefix}${k}.`)));
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.test.ts') ? [path] : [];
  });
}

function lookup(catalog: object, key: string): unknown {
  let node: unknown = catalog;
  for (const part of key.split('.')) {
    node = typeof node === 'object' && node !== null ? new Map(Object.entries(node)).get(part) : undefined;
  }
  return node;
}

describe('catalogs', () => {
  it('Korean has every English key, each translated (not empty)', () => {
    expect(keys(ko).sort()).toEqual(keys(en).sort());
    for (const key of keys(ko)) expect(String(lookup(ko, key)).trim(), key).not.toBe('');
  });

  it('every literal key the editor passes to t() exists', () => {
    const root = join(import.meta.dirname, '..');
    const used = new Set<string>();
    for (const file of sources(root)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([a-zA-Z.]+)'/g))
        if (match[1] !== undefined) used.add(match[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    const missing = [...used].filter((key) => typeof lookup(en, key) !== 'string');
    expect(missing).toEqual([]);
  });
});
