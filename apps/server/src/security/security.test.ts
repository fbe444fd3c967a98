import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generatePassword, hashPassword, verifyPassword } from './passwords.ts';
import { LoginRateLimiter } from './rate-limit.ts';
import { SensitiveCipher } from './sensitive-cipher.ts';
import { SessionManager } from './sessions.ts';
import { UserStore } from './user-store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-security-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('sensitive value encryption', () => {
  it('round-trips, binds each value to its place, and refuses another key', () => {
    const cipher = SensitiveCipher.open(dir);
    const stored = cipher.encrypt('s3cret', 'processor:a/password');
    expect(SensitiveCipher.isEncrypted(stored)).toBe(true);
    expect(stored).not.toContain('s3cret');
    expect(cipher.encrypt('s3cret', 'processor:a/password')).not.toBe(stored); // random IV
    expect(cipher.decrypt(stored, 'processor:a/password')).toBe('s3cret');
    expect(() => cipher.decrypt(stored, 'processor:b/password')).toThrow(/cannot decrypt/);
    expect(SensitiveCipher.open(dir).decrypt(stored, 'processor:a/password')).toBe('s3cret'); // same key file
    const other = mkdtempSync(join(tmpdir(), 'sluice-key-'));
    try {
      expect(() => SensitiveCipher.open(other).decrypt(stored, 'processor:a/password')).toThrow(/sensitive\.key/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses a damaged key file', () => {
    writeFileSync(join(dir, 'sensitive.key'), 'not a key');
    expect(() => SensitiveCipher.open(dir)).toThrow(/64 hex digits/);
  });
});

describe('passwords and users', () => {
  it('hashes with scrypt and verifies in constant time', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash.startsWith('scrypt$32768$8$1$')).toBe(true);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('wrong horse battery', hash)).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
    expect(generatePassword()).toMatch(/^[A-Za-z2-9]{24}$/);
  });

  it('creates one admin on first open, and picks up changes made by another process', async () => {
    const first = await UserStore.open(dir);
    expect(first.generated?.username).toBe('admin');
    const again = await UserStore.open(dir);
    expect(again.generated).toBeUndefined();
    await again.store.set('admin', { password: 'changed-password-1' });
    // The first store sees the file change at the next login.
    expect(await first.store.authenticate('admin', 'changed-password-1')).toEqual({ username: 'admin', role: 'admin' });
    expect(await first.store.authenticate('admin', first.generated?.password ?? '')).toBeUndefined();
  });
});

describe('sessions and rate limiting', () => {
  it('expires sessions by idle time and by age', () => {
    let now = 0;
    const sessions = new SessionManager({ idleTimeoutMs: 100, maxAgeMs: 250, now: () => now });
    const ended: string[] = [];
    sessions.onEnd((_s, reason) => ended.push(reason));
    const s = sessions.create('a', 'viewer');
    now = 90;
    expect(sessions.get(s.id)).toBeDefined();
    now = 180;
    expect(sessions.get(s.id)).toBeDefined();
    now = 260;
    expect(sessions.get(s.id)).toBeUndefined();
    expect(ended).toEqual(['expired']);
    expect(SessionManager.csrfMatches(s, s.csrfToken)).toBe(true);
    expect(SessionManager.csrfMatches(s, `${s.csrfToken}x`)).toBe(false);
  });

  it('limits attempts per address and failures per user, in windows', () => {
    let now = 0;
    const limiter = new LoginRateLimiter({ perAddress: 3, failuresPerUser: 2, windowMs: 1000, now: () => now });
    expect(limiter.attempt('ip1', 'u')).toBeUndefined();
    limiter.result('u', false);
    expect(limiter.attempt('ip2', 'u')).toBeUndefined();
    limiter.result('u', false);
    expect(limiter.attempt('ip3', 'u')).toBe(1); // the username is locked for the window, from any address
    expect(limiter.attempt('ip1', 'v')).toBeUndefined();
    expect(limiter.attempt('ip1', 'w')).toBeUndefined();
    expect(limiter.attempt('ip1', 'x')).toBe(1); // the address used its three attempts
    now = 1000;
    expect(limiter.attempt('ip1', 'u')).toBeUndefined();
  });
});
