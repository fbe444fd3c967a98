import { createHash } from 'node:crypto';
import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CryptographicHashContent } from './index.ts';

describe('CryptographicHashContent', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  it.each([
    ['SHA-256', 'sha256'],
    ['SHA-512', 'sha512'],
    ['SHA-1', 'sha1'],
    ['MD5', 'md5'],
    ['SHA3-256', 'sha3-256'],
    ['BLAKE2b-512', 'blake2b512'],
  ])('writes the %s digest of the content to content_%s', async (algorithm, node) => {
    runner = await TestRunner.create(CryptographicHashContent, { properties: { algorithm } });
    await runner.enqueue('hello, hashing');
    await runner.run();
    runner.assertAllTransferred('success', 1);
    expect(runner.transferred('success')[0]?.attribute(`content_${algorithm}`)).toBe(
      createHash(node).update('hello, hashing').digest('hex'),
    );
  });

  it('defaults to SHA-256 and leaves the content untouched', async () => {
    runner = await TestRunner.create(CryptographicHashContent);
    await runner.enqueue('abc');
    await runner.run();
    const out = runner.transferred('success')[0];
    expect(out?.attribute('content_SHA-256')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(out?.text()).toBe('abc');
  });

  it('streams large content (durable repository) to the same digest as hashing it whole', async () => {
    const large = Buffer.alloc(5 * 1024 * 1024 + 17);
    for (let i = 0; i < large.length; i++) large[i] = (i * 31) % 251;
    runner = await TestRunner.create(CryptographicHashContent, { durable: true, properties: { algorithm: 'SHA-512' } });
    await runner.enqueue(large);
    await runner.run();
    expect(runner.transferred('success')[0]?.attribute('content_SHA-512')).toBe(createHash('sha512').update(large).digest('hex'));
  });

  it('hashes empty content, or sends it to failure with a reason when told to', async () => {
    runner = await TestRunner.create(CryptographicHashContent);
    await runner.enqueue('');
    await runner.run();
    expect(runner.transferred('success')[0]?.attribute('content_SHA-256')).toBe(createHash('sha256').digest('hex'));
    await runner.setProperty('failWhenEmpty', 'true');
    await runner.enqueue('');
    await runner.enqueue('not empty');
    await runner.run();
    expect(runner.transferred('failure')).toHaveLength(1);
    expect(runner.transferred('failure')[0]?.attribute('hash.failure.reason')).toBe('the content is empty');
    expect(runner.transferred('success')).toHaveLength(2);
  });

  it('refuses an unknown algorithm with the allowed values', async () => {
    runner = await TestRunner.create(CryptographicHashContent, { properties: { algorithm: 'CRC32' } });
    expect(runner.validationErrors().join('\n')).toMatch(/CRC32.*SHA-256/);
  });
});
