/**
 * Key order of the state stores: Unicode code point order, which is the byte order of the keys'
 * UTF-8 form and therefore SQLite's BINARY collation. Plain `<` on JS strings compares UTF-16 code
 * units and disagrees with it once supplementary characters meet U+E000..U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // Only when both units are >= U+D800 can the two orders differ: surrogates (code points
      // above U+FFFF) must sort after U+E000..U+FFFF, so shift them above that block.
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/**
 * The smallest key greater than every key that starts with `prefix`, or undefined when there is
 * none (the prefix is empty or made only of U+10FFFF).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = Array.from(prefix);
  for (let i = points.length - 1; i >= 0; i--) {
    const cp = points[i]?.codePointAt(0) ?? 0x10ffff;
    if (cp < 0x10ffff) {
      // U+D800..U+DFFF are not code points of well-formed text; the next one after U+D7FF is U+E000.
      const next = cp + 1 === 0xd800 ? 0xe000 : cp + 1;
      return points.slice(0, i).join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Throws when a key or value is not well-formed UTF-16: a lone surrogate would be stored as U+FFFD
 * by SQLite and read back different from what was written.
 * @throws {TypeError}
 */
export function assertWellFormed(text: string, what: string): void {
  if (LONE_SURROGATE.test(text)) throw new TypeError(`state ${what} contains a lone surrogate: ${JSON.stringify(text)}`);
}
