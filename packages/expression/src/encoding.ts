import { fail, quote } from './errors.ts';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/** UTF-8 bytes of a string (lone surrogates become U+FFFD, as Java does). */
export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes UTF-8 bytes; malformed sequences become U+FFFD, as Java's `new String(bytes, UTF_8)`. */
export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard Base64 (with padding) of a string's UTF-8 bytes. */
export function base64Encode(text: string): string {
  const bytes = utf8(text);
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64.charAt(n >>> 18) + B64.charAt((n >>> 12) & 63) + B64.charAt((n >>> 6) & 63) + B64.charAt(n & 63);
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] ?? 0) << 16;
    out += `${B64.charAt(n >>> 18)}${B64.charAt((n >>> 12) & 63)}==`;
  } else if (rest === 2) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += `${B64.charAt(n >>> 18)}${B64.charAt((n >>> 12) & 63)}${B64.charAt((n >>> 6) & 63)}=`;
  }
  return out;
}

function b64Value(code: number): number {
  if (code >= 65 && code <= 90) return code - 65;
  if (code >= 97 && code <= 122) return code - 71;
  if (code >= 48 && code <= 57) return code + 4;
  if (code === 43 || code === 45) return 62; // '+' and URL-safe '-'
  if (code === 47 || code === 95) return 63; // '/' and URL-safe '_'
  return -1;
}

/** Decodes Base64 (padding optional, URL-safe letters accepted) to UTF-8 text; ElFailure on bad input. */
export function base64Decode(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61) end--;
  if (text.length - end > 2 || end % 4 === 1) throw fail(`cannot decode ${quote(text)}: it is not valid Base64`);
  const bytes = new Uint8Array(Math.floor((end * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const v = b64Value(text.charCodeAt(i));
    if (v < 0) throw fail(`cannot decode ${quote(text)}: "${text.charAt(i)}" is not a Base64 character`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[o++] = (acc >>> bits) & 0xff;
    }
  }
  return fromUtf8(bytes.subarray(0, o));
}

const HEX_UPPER = '0123456789ABCDEF';

/** Java `URLEncoder.encode(text, UTF-8)`: letters, digits and `.-*_` stay; space becomes `+`. */
export function urlEncode(text: string): string {
  let out = '';
  for (const byte of utf8(text)) {
    const safe =
      (byte >= 48 && byte <= 57) ||
      (byte >= 65 && byte <= 90) ||
      (byte >= 97 && byte <= 122) ||
      byte === 46 ||
      byte === 45 ||
      byte === 42 ||
      byte === 95;
    if (safe) out += String.fromCharCode(byte);
    else if (byte === 32) out += '+';
    else out += `%${HEX_UPPER.charAt(byte >>> 4)}${HEX_UPPER.charAt(byte & 15)}`;
  }
  return out;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Java `URLDecoder.decode(text, UTF-8)`: `+` is a space, `%XX` are UTF-8 bytes; ElFailure when malformed. */
export function urlDecode(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === '+') {
      out += ' ';
      i++;
    } else if (c === '%') {
      const bytes: number[] = [];
      while (text.charAt(i) === '%') {
        const hi = hexValue(text.charCodeAt(i + 1));
        const lo = hexValue(text.charCodeAt(i + 2));
        if (hi < 0 || lo < 0) throw fail(`cannot decode ${quote(text)}: "${text.slice(i, i + 3)}" is not a valid %XX escape`);
        bytes.push((hi << 4) | lo);
        i += 3;
      }
      out += fromUtf8(Uint8Array.from(bytes));
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function unicodeEscape(code: number): string {
  return `\\u${HEX_UPPER.charAt((code >>> 12) & 15)}${HEX_UPPER.charAt((code >>> 8) & 15)}${HEX_UPPER.charAt((code >>> 4) & 15)}${HEX_UPPER.charAt(code & 15)}`;
}

/** Commons Text `escapeJson`: quotes, backslash, `/`, control characters and non-ASCII as `\uXXXX`. */
export function escapeJson(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    switch (code) {
      case 34:
        out += '\\"';
        break;
      case 92:
        out += '\\\\';
        break;
      case 47:
        out += '\\/';
        break;
      case 8:
        out += '\\b';
        break;
      case 12:
        out += '\\f';
        break;
      case 10:
        out += '\\n';
        break;
      case 13:
        out += '\\r';
        break;
      case 9:
        out += '\\t';
        break;
      default:
        out += code < 32 || code > 0x7f ? unicodeEscape(code) : text.charAt(i);
    }
  }
  return out;
}

/** Reverses JSON string escapes (`\"`, `\\`, `\/`, `\n`, `\uXXXX`, ...); unknown escapes are kept. */
export function unescapeJson(text: string): string {
  if (!text.includes('\\')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c !== '\\' || i + 1 >= text.length) {
      out += c;
      i++;
      continue;
    }
    const e = text.charAt(i + 1);
    switch (e) {
      case '"':
      case '\\':
      case '/':
      case "'":
        out += e;
        i += 2;
        break;
      case 'b':
        out += '\b';
        i += 2;
        break;
      case 'f':
        out += '\f';
        i += 2;
        break;
      case 'n':
        out += '\n';
        i += 2;
        break;
      case 'r':
        out += '\r';
        i += 2;
        break;
      case 't':
        out += '\t';
        i += 2;
        break;
      case 'u': {
        let j = i + 2;
        while (text.charAt(j) === 'u') j++;
        const hex = text.slice(j, j + 4);
        let code = 0;
        let ok = hex.length === 4;
        for (let k = 0; k < hex.length; k++) {
          const v = hexValue(hex.charCodeAt(k));
          if (v < 0) ok = false;
          code = code * 16 + v;
        }
        if (!ok) throw fail(`cannot unescape ${quote(text)}: "\\u${hex}" is not a valid unicode escape`);
        out += String.fromCharCode(code);
        i = j + 4;
        break;
      }
      default:
        out += c;
        i++;
        break;
    }
  }
  return out;
}

/** Commons Text `escapeXml10`: the five XML entities; characters XML 1.0 forbids are dropped. */
export function escapeXml(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    switch (code) {
      case 38:
        out += '&amp;';
        break;
      case 60:
        out += '&lt;';
        break;
      case 62:
        out += '&gt;';
        break;
      case 34:
        out += '&quot;';
        break;
      case 39:
        out += '&apos;';
        break;
      default:
        if ((code < 32 && code !== 9 && code !== 10 && code !== 13) || code === 0xfffe || code === 0xffff) break;
        if ((code >= 0x7f && code <= 0x84) || (code >= 0x86 && code <= 0x9f)) out += `&#${code};`;
        else out += text.charAt(i);
    }
  }
  return out;
}

const BASIC_ENTITIES: readonly (readonly [string, number])[] = [
  ['quot', 34],
  ['amp', 38],
  ['lt', 60],
  ['gt', 62],
];

// ISO-8859-1 entities, in code point order from U+00A0 (HTML 3.2).
const ISO_8859_1_NAMES =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml'.split(
    ' ',
  );

// HTML 4.0 additions beyond ISO-8859-1, as name:codepoint.
const HTML40_EXTENDED =
  'fnof:402 Alpha:913 Beta:914 Gamma:915 Delta:916 Epsilon:917 Zeta:918 Eta:919 Theta:920 Iota:921 Kappa:922 Lambda:923 Mu:924 Nu:925 Xi:926 Omicron:927 Pi:928 Rho:929 Sigma:931 Tau:932 Upsilon:933 Phi:934 Chi:935 Psi:936 Omega:937 alpha:945 beta:946 gamma:947 delta:948 epsilon:949 zeta:950 eta:951 theta:952 iota:953 kappa:954 lambda:955 mu:956 nu:957 xi:958 omicron:959 pi:960 rho:961 sigmaf:962 sigma:963 tau:964 upsilon:965 phi:966 chi:967 psi:968 omega:969 thetasym:977 upsih:978 piv:982 bull:8226 hellip:8230 prime:8242 Prime:8243 oline:8254 frasl:8260 weierp:8472 image:8465 real:8476 trade:8482 alefsym:8501 larr:8592 uarr:8593 rarr:8594 darr:8595 harr:8596 crarr:8629 lArr:8656 uArr:8657 rArr:8658 dArr:8659 hArr:8660 forall:8704 part:8706 exist:8707 empty:8709 nabla:8711 isin:8712 notin:8713 ni:8715 prod:8719 sum:8721 minus:8722 lowast:8727 radic:8730 prop:8733 infin:8734 ang:8736 and:8743 or:8744 cap:8745 cup:8746 int:8747 there4:8756 sim:8764 cong:8773 asymp:8776 ne:8800 equiv:8801 le:8804 ge:8805 sub:8834 sup:8835 nsub:8836 sube:8838 supe:8839 oplus:8853 otimes:8855 perp:8869 sdot:8901 lceil:8968 rceil:8969 lfloor:8970 rfloor:8971 lang:9001 rang:9002 loz:9674 spades:9824 clubs:9827 hearts:9829 diams:9830 OElig:338 oelig:339 Scaron:352 scaron:353 Yuml:376 circ:710 tilde:732 ensp:8194 emsp:8195 thinsp:8201 zwnj:8204 zwj:8205 lrm:8206 rlm:8207 ndash:8211 mdash:8212 lsquo:8216 rsquo:8217 sbquo:8218 ldquo:8220 rdquo:8221 bdquo:8222 dagger:8224 Dagger:8225 permil:8240 lsaquo:8249 rsaquo:8250 euro:8364'
    .split(' ')
    .map((pair): readonly [string, number] => {
      const colon = pair.indexOf(':');
      return [pair.slice(0, colon), Number(pair.slice(colon + 1))];
    });

interface EntityTable {
  readonly byCode: ReadonlyMap<number, string>;
  readonly byName: ReadonlyMap<string, number>;
}

function entityTable(level: 3 | 4): EntityTable {
  const byCode = new Map<number, string>();
  const byName = new Map<string, number>();
  const add = (name: string, code: number) => {
    byCode.set(code, name);
    byName.set(name, code);
  };
  for (const [name, code] of BASIC_ENTITIES) add(name, code);
  ISO_8859_1_NAMES.forEach((name, i) => {
    add(name, 160 + i);
  });
  if (level === 4) for (const [name, code] of HTML40_EXTENDED) add(name, code);
  return { byCode, byName };
}

let html3: EntityTable | undefined;
let html4: EntityTable | undefined;

function table(level: 3 | 4): EntityTable {
  if (level === 3) {
    html3 ??= entityTable(3);
    return html3;
  }
  html4 ??= entityTable(4);
  return html4;
}

/** Commons Text `escapeHtml3` / `escapeHtml4`: named entities; the apostrophe is left alone. */
export function escapeHtml(text: string, level: 3 | 4): string {
  const { byCode } = table(level);
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const name = code < 34 ? undefined : byCode.get(code);
    out += name === undefined ? text.charAt(i) : `&${name};`;
  }
  return out;
}

/** Replaces named (per the level's table) and numeric (`&#39;`, `&#x27;`) character references. */
export function unescapeEntities(text: string, names: ReadonlyMap<string, number>): string {
  if (!text.includes('&')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    const semi = c === '&' ? text.indexOf(';', i + 1) : -1;
    if (semi < 0 || semi - i > 12) {
      out += c;
      i++;
      continue;
    }
    const body = text.slice(i + 1, semi);
    let code: number | undefined;
    if (body.startsWith('#x') || body.startsWith('#X')) code = body.length > 2 ? Number.parseInt(body.slice(2), 16) : undefined;
    else if (body.startsWith('#')) code = body.length > 1 ? Number.parseInt(body.slice(1), 10) : undefined;
    else code = names.get(body);
    if (code === undefined || Number.isNaN(code) || code > 0x10ffff) {
      out += c;
      i++;
      continue;
    }
    out += String.fromCodePoint(code);
    i = semi + 1;
  }
  return out;
}

/** Reverses escapeHtml3 / escapeHtml4. */
export function unescapeHtml(text: string, level: 3 | 4): string {
  return unescapeEntities(text, table(level).byName);
}

const XML_ENTITIES: ReadonlyMap<string, number> = new Map([
  ['quot', 34],
  ['amp', 38],
  ['lt', 60],
  ['gt', 62],
  ['apos', 39],
]);

/** Reverses escapeXml: the five XML entities and numeric references. */
export function unescapeXml(text: string): string {
  return unescapeEntities(text, XML_ENTITIES);
}

/** RFC 4180 CSV escaping: wrap in quotes (doubling inner quotes) when the text holds `,`, `"`, CR or LF. */
export function escapeCsv(text: string): string {
  let special = false;
  for (let i = 0; i < text.length && !special; i++) {
    const c = text.charAt(i);
    special = c === ',' || c === '"' || c === '\r' || c === '\n';
  }
  return special ? `"${text.split('"').join('""')}"` : text;
}

/** Reverses escapeCsv: a quoted value holding special characters is unwrapped, `""` becomes `"`. */
export function unescapeCsv(text: string): string {
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return text;
  const inner = text.slice(1, -1);
  let special = false;
  for (let i = 0; i < inner.length && !special; i++) {
    const c = inner.charAt(i);
    special = c === ',' || c === '"' || c === '\r' || c === '\n';
  }
  return special ? inner.split('""').join('"') : text;
}

/** Lowercase hex of bytes. */
export function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16);
  return out;
}
