import { crc32 } from 'node:zlib';

/**
 * An incremental CRC-32 (the IEEE polynomial of `java.util.zip.CRC32`) over the uncompressed,
 * encoded packet stream. Both ends of a Site-to-Site transaction compute it and compare the
 * decimal strings, as NiFi does with `String.valueOf(crc.getValue())`.
 */
export class Crc32 {
  #value = 0;

  /** Adds bytes to the checksum. */
  update(data: Uint8Array): this {
    if (data.length > 0) this.#value = crc32(data, this.#value);
    return this;
  }

  /** The checksum so far, as an unsigned 32-bit number. */
  get value(): number {
    return this.#value;
  }

  /** The checksum as NiFi writes it on the wire: unsigned decimal. */
  toString(): string {
    return String(this.#value);
  }
}

/** Passes chunks through unchanged, adding each to `crc` as it goes by. */
export async function* tapCrc(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, crc: Crc32): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    crc.update(chunk);
    yield chunk;
  }
}
