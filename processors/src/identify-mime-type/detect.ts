/**
 * Content sniffing for IdentifyMimeType: magic numbers for common binary formats, then a look at
 * the text (JSON, NDJSON, XML, HTML, SVG, CSV, TSV, plain), then the file name to refine a generic
 * answer. No dependency: the table below covers what flows carry most often.
 */

/** A detected type: MIME type and the usual extension (with its dot; empty when there is none). */
export interface MimeType {
  readonly mimeType: string;
  readonly extension: string;
}

/** How many leading bytes are inspected (tar's magic sits at byte 257; text checks want a few lines). */
export const SNIFF_BYTES = 8192;

const OCTET_STREAM: MimeType = { mimeType: 'application/octet-stream', extension: '' };
const PLAIN_TEXT: MimeType = { mimeType: 'text/plain', extension: '.txt' };

interface Magic {
  readonly offset: number;
  readonly bytes: readonly number[];
  readonly type: MimeType;
  /** Further bytes that must match too (e.g. RIFF containers). */
  readonly also?: { readonly offset: number; readonly bytes: readonly number[] };
}

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

const MAGIC: readonly Magic[] = [
  { offset: 0, bytes: ascii('NiFiFF3'), type: { mimeType: 'application/flowfile-v3', extension: '.pkg' } },
  { offset: 0, bytes: ascii('%PDF-'), type: { mimeType: 'application/pdf', extension: '.pdf' } },
  { offset: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], type: { mimeType: 'image/png', extension: '.png' } },
  { offset: 0, bytes: [0xff, 0xd8, 0xff], type: { mimeType: 'image/jpeg', extension: '.jpg' } },
  { offset: 0, bytes: ascii('GIF87a'), type: { mimeType: 'image/gif', extension: '.gif' } },
  { offset: 0, bytes: ascii('GIF89a'), type: { mimeType: 'image/gif', extension: '.gif' } },
  {
    offset: 0,
    bytes: ascii('RIFF'),
    also: { offset: 8, bytes: ascii('WEBP') },
    type: { mimeType: 'image/webp', extension: '.webp' },
  },
  {
    offset: 0,
    bytes: ascii('RIFF'),
    also: { offset: 8, bytes: ascii('WAVE') },
    type: { mimeType: 'audio/wav', extension: '.wav' },
  },
  { offset: 0, bytes: [0x49, 0x49, 0x2a, 0x00], type: { mimeType: 'image/tiff', extension: '.tiff' } },
  { offset: 0, bytes: [0x4d, 0x4d, 0x00, 0x2a], type: { mimeType: 'image/tiff', extension: '.tiff' } },
  { offset: 0, bytes: ascii('BM'), also: { offset: 6, bytes: [0, 0, 0, 0] }, type: { mimeType: 'image/bmp', extension: '.bmp' } },
  { offset: 0, bytes: [0x50, 0x4b, 0x03, 0x04], type: { mimeType: 'application/zip', extension: '.zip' } },
  { offset: 0, bytes: [0x50, 0x4b, 0x05, 0x06], type: { mimeType: 'application/zip', extension: '.zip' } },
  { offset: 0, bytes: [0x50, 0x4b, 0x07, 0x08], type: { mimeType: 'application/zip', extension: '.zip' } },
  { offset: 0, bytes: [0x1f, 0x8b], type: { mimeType: 'application/gzip', extension: '.gz' } },
  { offset: 0, bytes: ascii('BZh'), type: { mimeType: 'application/x-bzip2', extension: '.bz2' } },
  { offset: 0, bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], type: { mimeType: 'application/x-xz', extension: '.xz' } },
  { offset: 0, bytes: [0x28, 0xb5, 0x2f, 0xfd], type: { mimeType: 'application/zstd', extension: '.zst' } },
  {
    offset: 0,
    bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c],
    type: { mimeType: 'application/x-7z-compressed', extension: '.7z' },
  },
  { offset: 257, bytes: ascii('ustar'), type: { mimeType: 'application/x-tar', extension: '.tar' } },
  { offset: 0, bytes: ascii('Obj\u0001'), type: { mimeType: 'application/avro-binary', extension: '.avro' } },
  { offset: 0, bytes: ascii('PAR1'), type: { mimeType: 'application/vnd.apache.parquet', extension: '.parquet' } },
  {
    offset: 0,
    bytes: ascii('SQLite format 3\u0000'),
    type: { mimeType: 'application/vnd.sqlite3', extension: '.sqlite' },
  },
  { offset: 0, bytes: ascii('OggS'), type: { mimeType: 'audio/ogg', extension: '.ogg' } },
  { offset: 0, bytes: ascii('ID3'), type: { mimeType: 'audio/mpeg', extension: '.mp3' } },
  { offset: 4, bytes: ascii('ftyp'), type: { mimeType: 'video/mp4', extension: '.mp4' } },
  { offset: 0, bytes: [0x7f, 0x45, 0x4c, 0x46], type: { mimeType: 'application/x-executable', extension: '' } },
  { offset: 0, bytes: [0x00, 0x61, 0x73, 0x6d], type: { mimeType: 'application/wasm', extension: '.wasm' } },
  { offset: 0, bytes: [0xca, 0xfe, 0xba, 0xbe], type: { mimeType: 'application/java-vm', extension: '.class' } },
];

/** Types by file extension, used to refine a generic sniff (text or bytes) and zip-based containers. */
const BY_EXTENSION: ReadonlyMap<string, string> = new Map([
  ['.txt', 'text/plain'],
  ['.log', 'text/plain'],
  ['.csv', 'text/csv'],
  ['.tsv', 'text/tab-separated-values'],
  ['.json', 'application/json'],
  ['.ndjson', 'application/x-ndjson'],
  ['.jsonl', 'application/x-ndjson'],
  ['.xml', 'application/xml'],
  ['.html', 'text/html'],
  ['.htm', 'text/html'],
  ['.svg', 'image/svg+xml'],
  ['.yaml', 'application/yaml'],
  ['.yml', 'application/yaml'],
  ['.md', 'text/markdown'],
  ['.js', 'text/javascript'],
  ['.css', 'text/css'],
  ['.sql', 'application/sql'],
  ['.br', 'application/x-brotli'],
  ['.deflate', 'application/deflate'],
  ['.zlib', 'application/zlib'],
  ['.jar', 'application/java-archive'],
  ['.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  ['.pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
  ['.odt', 'application/vnd.oasis.opendocument.text'],
  ['.ods', 'application/vnd.oasis.opendocument.spreadsheet'],
  ['.apk', 'application/vnd.android.package-archive'],
  ['.epub', 'application/epub+zip'],
]);

/** Zip-based formats a file name may reveal once the bytes say "zip". */
const ZIP_CONTAINERS = new Set(['.jar', '.docx', '.xlsx', '.pptx', '.odt', '.ods', '.apk', '.epub']);

const matches = (head: Uint8Array, offset: number, bytes: readonly number[]): boolean =>
  head.length >= offset + bytes.length && bytes.every((b, i) => head[offset + i] === b);

/** The extension of a file name, lowercased with its dot ("" when there is none). */
function extensionOf(filename: string | undefined): string {
  if (filename === undefined) return '';
  const base = filename.slice(filename.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot).toLowerCase();
}

/**
 * Detects the type of content from its first bytes (`head`, at most {@link SNIFF_BYTES}), knowing
 * whether `head` is the whole content, and optionally the file name.
 */
export function detectMimeType(head: Uint8Array, complete: boolean, filename?: string): MimeType {
  const extension = extensionOf(filename);
  for (const magic of MAGIC) {
    if (!matches(head, magic.offset, magic.bytes)) continue;
    if (magic.also !== undefined && !matches(head, magic.also.offset, magic.also.bytes)) continue;
    if (magic.type.mimeType === 'application/zip' && ZIP_CONTAINERS.has(extension)) {
      return { mimeType: BY_EXTENSION.get(extension) ?? magic.type.mimeType, extension };
    }
    return magic.type;
  }
  if (head.length === 0) return byName(extension) ?? OCTET_STREAM;
  const text = decodeText(head, complete);
  if (text === undefined) return byName(extension) ?? OCTET_STREAM;
  const sniffed = sniffText(text, complete);
  if (sniffed !== PLAIN_TEXT) return sniffed;
  // Plain text is the weakest answer: a name saying .csv, .json, .yaml... knows better.
  return byName(extension) ?? PLAIN_TEXT;
}

function byName(extension: string): MimeType | undefined {
  const mimeType = BY_EXTENSION.get(extension);
  return mimeType === undefined ? undefined : { mimeType, extension };
}

/**
 * The head as text, or undefined when it looks binary: invalid UTF-8 (a character cut at the end of
 * an incomplete head is fine), or control characters other than tab, newlines and form feed.
 */
function decodeText(head: Uint8Array, complete: boolean): string | undefined {
  let bytes = head;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  else if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    // A UTF-16 byte-order mark: text, though not what the text checks below can read.
    return '';
  }
  let text: string;
  try {
    // `stream: !complete` holds back a multi-byte character cut by the sniff window instead of failing.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: !complete });
  } catch {
    return undefined;
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) return undefined;
    if (c === 0x7f) return undefined;
  }
  return text;
}

function sniffText(text: string, complete: boolean): MimeType {
  const trimmed = text.trimStart();
  if (trimmed === '') return PLAIN_TEXT;
  const first = trimmed[0];
  if (first === '{' || first === '[') {
    const json = sniffJson(trimmed, complete);
    if (json !== undefined) return json;
  }
  if (first === '<') {
    const lower = trimmed.slice(0, 512).toLowerCase();
    if (lower.startsWith('<!doctype html') || lower.startsWith('<html')) return { mimeType: 'text/html', extension: '.html' };
    if (lower.startsWith('<?xml')) {
      if (lower.includes('<svg')) return { mimeType: 'image/svg+xml', extension: '.svg' };
      return { mimeType: 'application/xml', extension: '.xml' };
    }
    if (lower.startsWith('<svg')) return { mimeType: 'image/svg+xml', extension: '.svg' };
    if (/^<[A-Za-z_][\w.:-]*[\s/>]/.test(trimmed)) return { mimeType: 'application/xml', extension: '.xml' };
  }
  return sniffDelimited(text, complete) ?? PLAIN_TEXT;
}

function sniffJson(text: string, complete: boolean): MimeType | undefined {
  const json: MimeType = { mimeType: 'application/json', extension: '.json' };
  if (complete) {
    if (parses(text)) return json;
    const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
    if (lines.length > 1 && lines.every(parses)) return { mimeType: 'application/x-ndjson', extension: '.ndjson' };
    return undefined;
  }
  // Only the start is known: several complete lines that each parse are NDJSON; otherwise the
  // opening of an object or array is taken as JSON (as Tika does).
  const lines = text.split(/\r?\n/);
  lines.pop(); // possibly cut short
  const full = lines.filter((l) => l.trim() !== '');
  if (full.length > 1 && full.every(parses)) return { mimeType: 'application/x-ndjson', extension: '.ndjson' };
  return /^(\{\s*("|\})|\[\s*(["{[\]\-\d]|true|false|null))/.test(text) ? json : undefined;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const DELIMITED: ReadonlyArray<{ readonly separator: string; readonly type: MimeType }> = [
  { separator: ',', type: { mimeType: 'text/csv', extension: '.csv' } },
  { separator: '\t', type: { mimeType: 'text/tab-separated-values', extension: '.tsv' } },
];

/**
 * CSV or TSV when at least two lines are seen and every complete line (quotes respected) has the
 * same, non-zero number of separators.
 */
function sniffDelimited(text: string, complete: boolean): MimeType | undefined {
  const lines = text.split(/\r?\n/);
  if (!complete) lines.pop();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2) return undefined;
  for (const { separator, type } of DELIMITED) {
    const counts = lines.slice(0, 50).map((l) => countSeparators(l, separator));
    const firstCount = counts[0];
    if (firstCount !== undefined && firstCount > 0 && counts.every((c) => c === firstCount)) return type;
  }
  return undefined;
}

function countSeparators(line: string, separator: string): number {
  let count = 0;
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === separator && !quoted) count++;
  }
  return count;
}
