import { randomFillSync } from 'node:crypto';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const pool = new Uint8Array(16 * 1024);
let poolOffset = pool.length;
let lastMs = 0;
let sequence = 0;

/**
 * A time-ordered UUIDv7 (RFC 9562): 48-bit Unix ms, then a 12-bit counter that keeps ids generated
 * in the same millisecond ordered, then random bits. Time-ordered ids keep the B-tree indexes of
 * the provenance store appending instead of splitting pages.
 */
export function uuidv7(now: number = Date.now()): string {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let ms = now;
  if (ms <= lastMs) {
    ms = lastMs;
    sequence++;
    if (sequence > 0xfff) {
      ms = ++lastMs;
      sequence = 0;
    }
  } else {
    sequence = pool[poolOffset] ?? 0;
    sequence &= 0x3ff; // leave headroom before the counter overflows into the next ms
  }
  lastMs = ms;
  const b = pool;
  const o = poolOffset;
  poolOffset += 10;
  const hi = Math.floor(ms / 0x10000);
  const lo = ms & 0xffff;
  return (
    (hi >>> 0).toString(16).padStart(8, '0') +
    '-' +
    lo.toString(16).padStart(4, '0') +
    '-' +
    (0x7000 | sequence).toString(16) +
    '-' +
    HEX[0x80 | ((b[o] ?? 0) & 0x3f)] +
    HEX[b[o + 1] ?? 0] +
    '-' +
    HEX[b[o + 2] ?? 0] +
    HEX[b[o + 3] ?? 0] +
    HEX[b[o + 4] ?? 0] +
    HEX[b[o + 5] ?? 0] +
    HEX[b[o + 6] ?? 0] +
    HEX[b[o + 7] ?? 0]
  );
}
