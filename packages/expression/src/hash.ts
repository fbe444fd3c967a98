// Pure-JS message digests so `hash()` works in the browser editor too. The engine may plug in
// node:crypto through EvaluationContext.hash for speed. Round constants are derived exactly (integer
// roots over bigint) rather than typed in, so a typo cannot silently break a digest.

const MASK32 = 0xffffffffn;
const MASK64 = 0xffffffffffffffffn;

function firstPrimes(count: number): number[] {
  const out: number[] = [];
  for (let n = 2; out.length < count; n++) {
    if (out.every((p) => n % p !== 0)) out.push(n);
  }
  return out;
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

function icbrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 3));
  for (;;) {
    const y = (2n * x + n / (x * x)) / 3n;
    if (y >= x) break;
    x = y;
  }
  while (x * x * x > n) x--;
  while ((x + 1n) * (x + 1n) * (x + 1n) <= n) x++;
  return x;
}

/** Pads a message Merkle–Damgård style; `lengthBytes` is 8 (MD5/SHA-1/SHA-256) or 16 (SHA-512). */
function mdPad(message: Uint8Array, blockSize: number, lengthBytes: number, littleEndian: boolean): Uint8Array {
  const total = Math.ceil((message.length + 1 + lengthBytes) / blockSize) * blockSize;
  const out = new Uint8Array(total);
  out.set(message);
  out[message.length] = 0x80;
  let bits = BigInt(message.length) * 8n;
  for (let i = 0; i < 8; i++) {
    const pos = littleEndian ? total - lengthBytes + i : total - 1 - i;
    out[pos] = Number(bits & 0xffn);
    bits >>= 8n;
  }
  return out;
}

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

function rotr(x: number, n: number): number {
  return (x >>> n) | (x << (32 - n));
}

let md5K: Int32Array | undefined;
const MD5_S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/** MD5 digest (16 bytes). */
export function md5(message: Uint8Array): Uint8Array {
  if (md5K === undefined) {
    md5K = new Int32Array(64);
    for (let i = 0; i < 64; i++) md5K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;
  }
  const K = md5K;
  const data = mdPad(message, 64, 8, true);
  const view = new DataView(data.buffer);
  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  const M = new Int32Array(16);
  for (let off = 0; off < data.length; off += 64) {
    for (let j = 0; j < 16; j++) M[j] = view.getInt32(off + j * 4, true);
    let A = a0;
    let B = b0;
    let C = c0;
    let D = d0;
    for (let i = 0; i < 64; i++) {
      let F: number;
      let g: number;
      if (i < 16) {
        F = (B & C) | (~B & D);
        g = i;
      } else if (i < 32) {
        F = (D & B) | (~D & C);
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        F = B ^ C ^ D;
        g = (3 * i + 5) % 16;
      } else {
        F = C ^ (B | ~D);
        g = (7 * i) % 16;
      }
      F = (F + A + (K[i] ?? 0) + (M[g] ?? 0)) | 0;
      A = D;
      D = C;
      C = B;
      B = (B + rotl(F, MD5_S[(i >> 4) * 4 + (i % 4)] ?? 0)) | 0;
    }
    a0 = (a0 + A) | 0;
    b0 = (b0 + B) | 0;
    c0 = (c0 + C) | 0;
    d0 = (d0 + D) | 0;
  }
  const out = new Uint8Array(16);
  const ov = new DataView(out.buffer);
  ov.setInt32(0, a0, true);
  ov.setInt32(4, b0, true);
  ov.setInt32(8, c0, true);
  ov.setInt32(12, d0, true);
  return out;
}

/** SHA-1 digest (20 bytes). */
export function sha1(message: Uint8Array): Uint8Array {
  const data = mdPad(message, 64, 8, false);
  const view = new DataView(data.buffer);
  const H = [0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0];
  const W = new Int32Array(80);
  for (let off = 0; off < data.length; off += 64) {
    for (let t = 0; t < 16; t++) W[t] = view.getInt32(off + t * 4);
    for (let t = 16; t < 80; t++) W[t] = rotl((W[t - 3] ?? 0) ^ (W[t - 8] ?? 0) ^ (W[t - 14] ?? 0) ^ (W[t - 16] ?? 0), 1);
    let [a, b, c, d, e] = H as [number, number, number, number, number];
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const temp = (rotl(a, 5) + f + e + k + (W[t] ?? 0)) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    H[0] = ((H[0] ?? 0) + a) | 0;
    H[1] = ((H[1] ?? 0) + b) | 0;
    H[2] = ((H[2] ?? 0) + c) | 0;
    H[3] = ((H[3] ?? 0) + d) | 0;
    H[4] = ((H[4] ?? 0) + e) | 0;
  }
  return wordsToBytes(H, 20);
}

function wordsToBytes(words: readonly number[], length: number): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => {
    view.setInt32(i * 4, w);
  });
  return out.subarray(0, length);
}

interface Sha2Constants {
  readonly k256: Int32Array;
  readonly h256: readonly number[];
  readonly h224: readonly number[];
  readonly k512: readonly bigint[];
  readonly h512: readonly bigint[];
  readonly h384: readonly bigint[];
}

let sha2: Sha2Constants | undefined;

function sha2Constants(): Sha2Constants {
  if (sha2 === undefined) {
    const primes = firstPrimes(80).map(BigInt);
    const k256 = new Int32Array(64);
    primes.slice(0, 64).forEach((p, i) => {
      k256[i] = Number(icbrt(p << 96n) & MASK32) | 0;
    });
    sha2 = {
      k256,
      h256: primes.slice(0, 8).map((p) => Number(isqrt(p << 64n) & MASK32) | 0),
      h224: primes.slice(8, 16).map((p) => Number(isqrt(p << 128n) & MASK32) | 0),
      k512: primes.map((p) => icbrt(p << 192n) & MASK64),
      h512: primes.slice(0, 8).map((p) => isqrt(p << 128n) & MASK64),
      h384: primes.slice(8, 16).map((p) => isqrt(p << 128n) & MASK64),
    };
  }
  return sha2;
}

function sha256Core(message: Uint8Array, initial: readonly number[], outLength: number): Uint8Array {
  const { k256: K } = sha2Constants();
  const data = mdPad(message, 64, 8, false);
  const view = new DataView(data.buffer);
  const H = [...initial];
  const W = new Int32Array(64);
  for (let off = 0; off < data.length; off += 64) {
    for (let t = 0; t < 16; t++) W[t] = view.getInt32(off + t * 4);
    for (let t = 16; t < 64; t++) {
      const w15 = W[t - 15] ?? 0;
      const w2 = W[t - 2] ?? 0;
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
      W[t] = ((W[t - 16] ?? 0) + s0 + (W[t - 7] ?? 0) + s1) | 0;
    }
    let [a, b, c, d, e, f, g, h] = H as [number, number, number, number, number, number, number, number];
    for (let t = 0; t < 64; t++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + (K[t] ?? 0) + (W[t] ?? 0)) | 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    const add = [a, b, c, d, e, f, g, h];
    for (let i = 0; i < 8; i++) H[i] = ((H[i] ?? 0) + (add[i] ?? 0)) | 0;
  }
  return wordsToBytes(H, outLength);
}

function rotr64(x: bigint, n: bigint): bigint {
  return ((x >> n) | (x << (64n - n))) & MASK64;
}

function sha512Core(message: Uint8Array, initial: readonly bigint[], outLength: number): Uint8Array {
  const { k512: K } = sha2Constants();
  const data = mdPad(message, 128, 16, false);
  const view = new DataView(data.buffer);
  const H = [...initial];
  const W: bigint[] = new Array<bigint>(80).fill(0n);
  for (let off = 0; off < data.length; off += 128) {
    for (let t = 0; t < 16; t++) W[t] = view.getBigUint64(off + t * 8);
    for (let t = 16; t < 80; t++) {
      const w15 = W[t - 15] ?? 0n;
      const w2 = W[t - 2] ?? 0n;
      const s0 = rotr64(w15, 1n) ^ rotr64(w15, 8n) ^ (w15 >> 7n);
      const s1 = rotr64(w2, 19n) ^ rotr64(w2, 61n) ^ (w2 >> 6n);
      W[t] = ((W[t - 16] ?? 0n) + s0 + (W[t - 7] ?? 0n) + s1) & MASK64;
    }
    let [a, b, c, d, e, f, g, h] = H as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
    for (let t = 0; t < 80; t++) {
      const S1 = rotr64(e, 14n) ^ rotr64(e, 18n) ^ rotr64(e, 41n);
      const ch = (e & f) ^ (~e & MASK64 & g);
      const t1 = (h + S1 + ch + (K[t] ?? 0n) + (W[t] ?? 0n)) & MASK64;
      const S0 = rotr64(a, 28n) ^ rotr64(a, 34n) ^ rotr64(a, 39n);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      h = g;
      g = f;
      f = e;
      e = (d + t1) & MASK64;
      d = c;
      c = b;
      b = a;
      a = (t1 + S0 + maj) & MASK64;
    }
    const add = [a, b, c, d, e, f, g, h];
    for (let i = 0; i < 8; i++) H[i] = ((H[i] ?? 0n) + (add[i] ?? 0n)) & MASK64;
  }
  const out = new Uint8Array(64);
  const ov = new DataView(out.buffer);
  H.forEach((w, i) => {
    ov.setBigUint64(i * 8, w);
  });
  return out.subarray(0, outLength);
}

const sha512tIvs = new Map<number, readonly bigint[]>();

/** SHA-512/t initial values (FIPS 180-4 §5.3.6): SHA-512 of "SHA-512/t" under a modified IV. */
function sha512tIv(t: number): readonly bigint[] {
  const cached = sha512tIvs.get(t);
  if (cached !== undefined) return cached;
  const modified = sha2Constants().h512.map((h) => h ^ 0xa5a5a5a5a5a5a5a5n);
  const digest = sha512Core(new TextEncoder().encode(`SHA-512/${t}`), modified, 64);
  const view = new DataView(digest.buffer, digest.byteOffset, 64);
  const iv = Array.from({ length: 8 }, (_, i) => view.getBigUint64(i * 8));
  sha512tIvs.set(t, iv);
  return iv;
}

let keccak: { rc: readonly bigint[]; rot: readonly number[] } | undefined;

function keccakConstants(): { rc: readonly bigint[]; rot: readonly number[] } {
  if (keccak === undefined) {
    const rcBit = (t: number): number => {
      if (t % 255 === 0) return 1;
      let r = 1;
      for (let i = 1; i <= t % 255; i++) {
        r <<= 1;
        if (r & 0x100) r ^= 0x171;
      }
      return r & 1;
    };
    const rc: bigint[] = [];
    for (let round = 0; round < 24; round++) {
      let value = 0n;
      for (let j = 0; j <= 6; j++) if (rcBit(j + 7 * round)) value |= 1n << BigInt(2 ** j - 1);
      rc.push(value);
    }
    const rot = new Array<number>(25).fill(0);
    let x = 1;
    let y = 0;
    for (let t = 0; t < 24; t++) {
      rot[x + 5 * y] = (((t + 1) * (t + 2)) / 2) % 64;
      [x, y] = [y, (2 * x + 3 * y) % 5];
    }
    keccak = { rc, rot };
  }
  return keccak;
}

function rotl64(x: bigint, n: number): bigint {
  if (n === 0) return x;
  const s = BigInt(n);
  return ((x << s) | (x >> (64n - s))) & MASK64;
}

function keccakF(A: bigint[]): void {
  const { rc, rot } = keccakConstants();
  const C: bigint[] = new Array<bigint>(5).fill(0n);
  const B: bigint[] = new Array<bigint>(25).fill(0n);
  for (let round = 0; round < 24; round++) {
    for (let x = 0; x < 5; x++)
      C[x] = (A[x] ?? 0n) ^ (A[x + 5] ?? 0n) ^ (A[x + 10] ?? 0n) ^ (A[x + 15] ?? 0n) ^ (A[x + 20] ?? 0n);
    for (let x = 0; x < 5; x++) {
      const D = (C[(x + 4) % 5] ?? 0n) ^ rotl64(C[(x + 1) % 5] ?? 0n, 1);
      for (let y = 0; y < 25; y += 5) A[x + y] = (A[x + y] ?? 0n) ^ D;
    }
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) B[y + 5 * ((2 * x + 3 * y) % 5)] = rotl64(A[x + 5 * y] ?? 0n, rot[x + 5 * y] ?? 0);
    }
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 25; y += 5) {
        A[x + y] = (B[x + y] ?? 0n) ^ (~(B[((x + 1) % 5) + y] ?? 0n) & MASK64 & (B[((x + 2) % 5) + y] ?? 0n));
      }
    }
    A[0] = (A[0] ?? 0n) ^ (rc[round] ?? 0n);
  }
}

/** SHA-3 (FIPS 202) with an output length in bytes (28, 32, 48, 64). */
function sha3(message: Uint8Array, outLength: number): Uint8Array {
  const rate = 200 - 2 * outLength;
  const padded = new Uint8Array(Math.ceil((message.length + 1) / rate) * rate);
  padded.set(message);
  padded[message.length] = (padded[message.length] ?? 0) ^ 0x06;
  padded[padded.length - 1] = (padded[padded.length - 1] ?? 0) ^ 0x80;
  const view = new DataView(padded.buffer);
  const A: bigint[] = new Array<bigint>(25).fill(0n);
  for (let off = 0; off < padded.length; off += rate) {
    for (let i = 0; i < rate / 8; i++) A[i] = (A[i] ?? 0n) ^ view.getBigUint64(off + i * 8, true);
    keccakF(A);
  }
  const out = new Uint8Array(200);
  const ov = new DataView(out.buffer);
  A.forEach((lane, i) => {
    ov.setBigUint64(i * 8, lane, true);
  });
  return out.subarray(0, outLength);
}

/** Digest functions by canonical algorithm name (Java MessageDigest names). */
const DIGESTS = new Map<string, (message: Uint8Array) => Uint8Array>([
  ['MD5', md5],
  ['SHA-1', sha1],
  ['SHA-224', (m) => sha256Core(m, sha2Constants().h224, 28)],
  ['SHA-256', (m) => sha256Core(m, sha2Constants().h256, 32)],
  ['SHA-384', (m) => sha512Core(m, sha2Constants().h384, 48)],
  ['SHA-512', (m) => sha512Core(m, sha2Constants().h512, 64)],
  ['SHA-512/224', (m) => sha512Core(m, sha512tIv(224), 28)],
  ['SHA-512/256', (m) => sha512Core(m, sha512tIv(256), 32)],
  ['SHA3-224', (m) => sha3(m, 28)],
  ['SHA3-256', (m) => sha3(m, 32)],
  ['SHA3-384', (m) => sha3(m, 48)],
  ['SHA3-512', (m) => sha3(m, 64)],
]);

const ALIASES = new Map<string, string>([
  ['SHA', 'SHA-1'],
  ['SHA1', 'SHA-1'],
  ['SHA224', 'SHA-224'],
  ['SHA256', 'SHA-256'],
  ['SHA384', 'SHA-384'],
  ['SHA512', 'SHA-512'],
]);

/** The canonical name of a supported digest algorithm (case-insensitive, Java aliases), or undefined. */
export function canonicalHashAlgorithm(name: string): string | undefined {
  const upper = name.trim().toUpperCase();
  const canonical = ALIASES.get(upper) ?? upper;
  return DIGESTS.has(canonical) ? canonical : undefined;
}

/** Names of the digest algorithms available without a context hook. */
export const HASH_ALGORITHMS: readonly string[] = [...DIGESTS.keys()];

/** Digest of bytes with a canonical algorithm name; undefined when unsupported. */
export function digest(algorithm: string, message: Uint8Array): Uint8Array | undefined {
  const canonical = canonicalHashAlgorithm(algorithm);
  const fn = canonical === undefined ? undefined : DIGESTS.get(canonical);
  return fn === undefined ? undefined : fn(message);
}
