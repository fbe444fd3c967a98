import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Prefix of an encrypted value in flow.json: `enc:v1:` + base64(iv | tag | ciphertext). */
export const ENCRYPTED_PREFIX = 'enc:v1:';

/** The key file's name in the data directory. */
export const KEY_FILE = 'sensitive.key';

/**
 * Encrypts sensitive property and parameter values at rest with AES-256-GCM. The 256-bit key lives in
 * `<dataDir>/sensitive.key` (created on first start, mode 0600): back it up apart from the data
 * directory; without it the stored sensitive values cannot be read back (docs/security.md). Each
 * value is bound to where it belongs (component and property) as additional authenticated data, so
 * a ciphertext copied onto another property does not decrypt.
 */
export class SensitiveCipher {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the sensitive-value key must be 32 bytes');
    this.#key = key;
  }

  /**
   * Loads the key file of a data directory, creating it when there is none.
   * @throws {Error} when the file exists but does not hold a 64-hex-digit key.
   */
  static open(dataDir: string): SensitiveCipher {
    const path = join(dataDir, KEY_FILE);
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if (!(e instanceof Error && 'code' in e && e.code === 'ENOENT')) throw e;
    }
    if (text === undefined) {
      const key = randomBytes(32);
      try {
        // `wx`: two processes starting at once must not both create (and disagree on) the key.
        writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
        return new SensitiveCipher(key);
      } catch (e) {
        if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
        text = readFileSync(path, 'utf8');
      }
    }
    const hex = text.trim();
    if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`${path} does not hold a 256-bit key (64 hex digits)`);
    return new SensitiveCipher(Buffer.from(hex, 'hex'));
  }

  /** Whether a stored value is an encrypted one. */
  static isEncrypted(value: string): boolean {
    return value.startsWith(ENCRYPTED_PREFIX);
  }

  encrypt(plain: string, where: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(where, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ENCRYPTED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** @throws {Error} when the value was encrypted with another key, for another place, or altered. */
  decrypt(stored: string, where: string): string {
    const bytes = Buffer.from(stored.slice(ENCRYPTED_PREFIX.length), 'base64');
    if (bytes.length < 28) throw new Error(`the encrypted value of ${where} is truncated`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, 12));
      decipher.setAAD(Buffer.from(where, 'utf8'));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(
        `cannot decrypt the sensitive value of ${where}: ${KEY_FILE} is not the key it was encrypted with (restore the key file from its backup)`,
      );
    }
  }
}
