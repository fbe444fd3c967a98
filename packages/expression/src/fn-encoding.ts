import {
  base64Decode,
  base64Encode,
  escapeCsv,
  escapeHtml,
  escapeJson,
  escapeXml,
  hex,
  unescapeCsv,
  unescapeHtml,
  unescapeJson,
  unescapeXml,
  urlDecode,
  urlEncode,
  utf8,
} from './encoding.ts';
import { fail, quote } from './errors.ts';
import { eager } from './fn-text.ts';
import { ArgFailure, type EagerSpec, type FunctionSpec } from './function-types.ts';
import { canonicalHashAlgorithm, digest, HASH_ALGORITHMS, md5, sha1 } from './hash.ts';
import { asString } from './values.ts';

function encoder(name: string, description: string, fn: (s: string) => string): EagerSpec {
  return eager({
    name,
    group: 'encoding',
    description,
    returns: 'string',
    eval: (_ctx, s) => {
      const text = asString(s);
      return text === null ? null : fn(text);
    },
  });
}

function parseUuid(text: string): Uint8Array {
  const hexDigits = text.trim().split('-').join('');
  if (hexDigits.length !== 32 || !/^[0-9a-fA-F]+$/.test(hexDigits)) {
    throw fail(`needs a UUID such as 6ba7b810-9dad-11d1-80b4-00c04fd430c8 as the namespace, but got ${quote(text)}`);
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = Number.parseInt(hexDigits.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** RFC 4122 name-based UUID (version 3 with MD5, version 5 with SHA-1). */
function nameUuid(version: 3 | 5, name: string, namespace: string | null): string {
  const nameBytes = utf8(name);
  let input = nameBytes;
  if (namespace !== null) {
    const ns = parseUuid(namespace);
    input = new Uint8Array(16 + nameBytes.length);
    input.set(ns);
    input.set(nameBytes, 16);
  }
  const hash = (version === 3 ? md5(input) : sha1(input)).slice(0, 16);
  hash[6] = ((hash[6] ?? 0) & 0x0f) | (version << 4);
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const h = hex(hash);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function uuidFunction(version: 3 | 5): EagerSpec {
  return eager({
    name: `UUID${version}`,
    group: 'encoding',
    description: `A name-based UUID version ${version} (${version === 3 ? 'MD5' : 'SHA-1'}) of the subject within an optional namespace UUID.`,
    returns: 'string',
    params: [{ name: 'namespace', kind: 'string', optional: true }],
    check: (args) => {
      const ns = args[0]?.literal;
      if (typeof ns === 'string') {
        try {
          parseUuid(ns);
        } catch (e) {
          throw new ArgFailure(0, e instanceof Error ? e.message : String(e));
        }
      }
    },
    eval: (_ctx, s, args) => {
      const text = asString(s);
      if (text === null) return null;
      return nameUuid(version, text, args.length > 0 ? asString(args[0] ?? null) : null);
    },
  });
}

function unknownAlgorithm(name: string): string {
  return `does not know the algorithm ${quote(name)}; use one of ${HASH_ALGORITHMS.join(', ')}`;
}

/** Encoding and decoding functions. */
export const ENCODING_FUNCTIONS: readonly FunctionSpec[] = [
  encoder('escapeJson', 'Escapes the subject for use inside a JSON string.', escapeJson),
  encoder('unescapeJson', 'Reverses escapeJson.', unescapeJson),
  encoder('escapeXml', 'Escapes the subject for use in XML (&amp; &lt; &gt; &quot; &apos;).', escapeXml),
  encoder('unescapeXml', 'Reverses escapeXml.', unescapeXml),
  encoder('escapeCsv', 'Quotes the subject for a CSV field when it holds commas, quotes or line breaks (RFC 4180).', escapeCsv),
  encoder('unescapeCsv', 'Reverses escapeCsv.', unescapeCsv),
  encoder('escapeHtml3', 'Escapes the subject with HTML 3.2 entities.', (s) => escapeHtml(s, 3)),
  encoder('escapeHtml4', 'Escapes the subject with HTML 4.0 entities.', (s) => escapeHtml(s, 4)),
  encoder('unescapeHtml3', 'Reverses escapeHtml3.', (s) => unescapeHtml(s, 3)),
  encoder('unescapeHtml4', 'Reverses escapeHtml4.', (s) => unescapeHtml(s, 4)),
  encoder('urlEncode', 'URL-encodes the subject (form encoding: space becomes +).', urlEncode),
  encoder('urlDecode', 'Decodes URL-encoded text.', urlDecode),
  encoder('base64Encode', 'The Base64 encoding of the subject (UTF-8).', base64Encode),
  encoder('base64Decode', 'Decodes Base64 text (UTF-8).', base64Decode),
  eager({
    name: 'hash',
    group: 'encoding',
    description: `The hex digest of the subject (UTF-8) with an algorithm: ${HASH_ALGORITHMS.join(', ')}.`,
    returns: 'string',
    params: [{ name: 'algorithm', kind: 'string' }],
    check: (args) => {
      const alg = args[0]?.literal;
      if (typeof alg === 'string' && canonicalHashAlgorithm(alg) === undefined) throw new ArgFailure(0, unknownAlgorithm(alg));
    },
    eval: (ctx, s, args) => {
      const text = asString(s);
      if (text === null) return null;
      const requested = asString(args[0] ?? null) ?? '';
      const algorithm = canonicalHashAlgorithm(requested);
      if (algorithm === undefined) throw fail(unknownAlgorithm(requested));
      const fromHook = ctx.hash?.(algorithm, text);
      if (fromHook !== undefined) return fromHook;
      const bytes = digest(algorithm, utf8(text));
      if (bytes === undefined) throw fail(unknownAlgorithm(requested));
      return hex(bytes);
    },
  }),
  uuidFunction(3),
  uuidFunction(5),
];
