import { createHash } from 'node:crypto';
import { compile } from '@sluice/expression';
import { describe, expect, it } from 'vitest';
import { context, errorOf, ev } from './context.test-helper.ts';

describe('escaping', () => {
  it('escapeJson / unescapeJson', () => {
    const attrs = { m: 'He didn\'t say, "Stop!"\\/\n\té\u0001' };
    expect(ev('${m:escapeJson()}', attrs)).toBe('He didn\'t say, \\"Stop!\\"\\\\\\/\\n\\t\\u00E9\\u0001');
    expect(ev('${m:escapeJson():unescapeJson()}', attrs)).toBe(attrs.m);
    expect(ev("${literal('\\\\u0041\\\\u00e9'):unescapeJson()}")).toBe('Aé');
    expect(ev('${missing:escapeJson()}')).toBe('');
  });

  it('escapeXml / unescapeXml', () => {
    expect(ev('${m:escapeXml()}', { m: '"bread" & \'butter\' <b>' })).toBe(
      '&quot;bread&quot; &amp; &apos;butter&apos; &lt;b&gt;',
    );
    expect(ev('${m:escapeXml()}', { m: 'a\u0001b\u007fc' })).toBe('ab&#127;c');
    expect(ev('${m:unescapeXml()}', { m: '&quot;bread&quot; &amp; &#65;&#x42; &unknown; &amp' })).toBe(
      '"bread" & AB &unknown; &amp',
    );
  });

  it('escapeCsv / unescapeCsv (RFC 4180)', () => {
    expect(ev('${m:escapeCsv()}', { m: 'But finally, she left' })).toBe('"But finally, she left"');
    expect(ev('${m:escapeCsv()}', { m: 'say "hi"' })).toBe('"say ""hi"""');
    expect(ev('${m:escapeCsv()}', { m: 'plain' })).toBe('plain');
    expect(ev('${m:unescapeCsv()}', { m: '"But finally, she left"' })).toBe('But finally, she left');
    expect(ev('${m:unescapeCsv()}', { m: '"say ""hi"""' })).toBe('say "hi"');
    expect(ev('${m:unescapeCsv()}', { m: '"plain"' })).toBe('"plain"');
  });

  it('escapeHtml3 / escapeHtml4 and their reverses', () => {
    const m = { m: '"bread" & <butter> © é α € \'q\'' };
    expect(ev('${m:escapeHtml3()}', m)).toBe("&quot;bread&quot; &amp; &lt;butter&gt; &copy; &eacute; α € 'q'");
    expect(ev('${m:escapeHtml4()}', m)).toBe("&quot;bread&quot; &amp; &lt;butter&gt; &copy; &eacute; &alpha; &euro; 'q'");
    expect(ev('${m:escapeHtml4():unescapeHtml4()}', m)).toBe(m.m);
    expect(ev('${m:unescapeHtml3()}', { m: '&alpha;&nbsp;&yuml;&#8364;' })).toBe('&alpha;\u00a0ÿ€');
    expect(ev('${m:unescapeHtml4()}', { m: '&alpha;&hearts;&Yuml;' })).toBe('α♥Ÿ');
  });

  it('urlEncode / urlDecode like Java URLEncoder', () => {
    expect(ev('${u:urlEncode()}', { u: 'a b&c=d/é~*._-' })).toBe('a+b%26c%3Dd%2F%C3%A9%7E*._-');
    expect(ev('${u:urlEncode():urlDecode()}', { u: 'https://nifi.apache.org/some value with spaces' })).toBe(
      'https://nifi.apache.org/some value with spaces',
    );
    expect(ev('${u:urlDecode()}', { u: 'some%20value+here%E2%82%AC' })).toBe('some value here€');
    expect(() => ev('${u:urlDecode()}', { u: '100%' })).toThrow(
      /"urlDecode" cannot decode "100%": "%" is not a valid %XX escape/,
    );
  });

  it('base64Encode / base64Decode (UTF-8)', () => {
    expect(ev('${p:base64Encode()}', { p: 'admin:admin' })).toBe('YWRtaW46YWRtaW4=');
    expect(ev('${p:base64Decode()}', { p: 'YWRtaW46YWRtaW4=' })).toBe('admin:admin');
    expect(ev('${p:base64Encode():base64Decode()}', { p: '한국어 ✓ 😀' })).toBe('한국어 ✓ 😀');
    expect(ev('${p:base64Encode()}', { p: '' })).toBe('');
    for (const text of ['a', 'ab', 'abc', 'abcd']) {
      expect(ev('${p:base64Encode()}', { p: text })).toBe(Buffer.from(text).toString('base64'));
    }
    expect(ev('${p:base64Decode()}', { p: 'YWI' })).toBe('ab');
    expect(() => ev('${p:base64Decode()}', { p: 'Y!==' })).toThrow(/"!" is not a Base64 character/);
  });
});

describe('hash', () => {
  const algorithms: [string, string][] = [
    ['MD5', 'md5'],
    ['SHA-1', 'sha1'],
    ['SHA-224', 'sha224'],
    ['SHA-256', 'sha256'],
    ['SHA-384', 'sha384'],
    ['SHA-512', 'sha512'],
    ['SHA-512/224', 'sha512-224'],
    ['SHA-512/256', 'sha512-256'],
    ['SHA3-224', 'sha3-224'],
    ['SHA3-256', 'sha3-256'],
    ['SHA3-384', 'sha3-384'],
    ['SHA3-512', 'sha3-512'],
  ];
  const inputs = [
    '',
    'abc',
    'a'.repeat(55),
    'b'.repeat(56),
    'c'.repeat(111),
    'd'.repeat(112),
    'e'.repeat(136),
    'héllo wörld ✓',
    'x'.repeat(1000),
  ];

  it('matches node:crypto for every algorithm, in pure JS', () => {
    for (const [name, nodeName] of algorithms) {
      const t = compile(`\${v:hash('${name}')}`);
      for (const v of inputs) {
        expect(t.evaluate(context({ v })), `${name} of ${v.length} chars`).toBe(
          createHash(nodeName).update(v, 'utf8').digest('hex'),
        );
      }
    }
  });

  it('accepts Java aliases in any case and a run-time algorithm name', () => {
    expect(ev("${v:hash('sha256')}", { v: 'abc' })).toBe(createHash('sha256').update('abc').digest('hex'));
    expect(ev("${v:hash('sha')}", { v: 'abc' })).toBe(createHash('sha1').update('abc').digest('hex'));
    expect(ev('${v:hash(${alg})}', { v: 'abc', alg: 'md5' })).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(() => ev('${v:hash(${alg})}', { v: 'abc', alg: 'CRC32' })).toThrow(/"hash" does not know the algorithm "CRC32"/);
    expect(ev("${missing:hash('MD5')}")).toBe('');
  });

  it('uses the context hook when it answers, and pure JS when it does not', () => {
    const calls: string[] = [];
    const hook = (algorithm: string, text: string) => {
      calls.push(`${algorithm}:${text}`);
      return algorithm === 'SHA-256' ? 'from-hook' : undefined;
    };
    expect(ev("${v:hash('sha-256')}", { v: 'x' }, { hash: hook })).toBe('from-hook');
    expect(ev("${v:hash('MD5')}", { v: 'abc' }, { hash: hook })).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(calls).toEqual(['SHA-256:x', 'MD5:abc']);
  });
});

describe('UUID3 / UUID5', () => {
  it('produce RFC 4122 name-based UUIDs (same as Python uuid3/uuid5)', () => {
    const dns = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
    const url = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';
    expect(ev(`\${n:UUID3('${dns}')}`, { n: 'python.org' })).toBe('6fa459ea-ee8a-3ca4-894e-db77e160355e');
    expect(ev(`\${n:UUID5('${dns}')}`, { n: 'python.org' })).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
    expect(ev(`\${n:UUID3('${url}')}`, { n: 'hello wörld' })).toBe('e6ea0e7e-16c9-3158-acf8-a345744b321a');
    expect(ev(`\${n:UUID5('${url}')}`, { n: 'hello wörld' })).toBe('365eb10e-d43c-5fae-8717-fe7ecc69aaf6');
    // Without a namespace: Java's UUID.nameUUIDFromBytes.
    expect(ev('${n:UUID3()}', { n: 'abc' })).toBe('90015098-3cd2-3fb0-9696-3f7d28e17f72');
  });

  it('rejects a namespace that is not a UUID', () => {
    const error = errorOf(() => compile("${n:UUID5('nope')}"));
    expect(error.message).toMatch(/"UUID5" needs a UUID .* as the namespace, but got "nope" \(at position 10\)/);
    expect(error.position).toBe(10);
  });
});
