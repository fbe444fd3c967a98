/**
 * Content of a merged FlowFile in the formats that need more than the session's concatenation:
 * NiFi's FlowFile Stream v3 and ZIP. Both stream their sources one at a time, so a bin's content
 * is never held in memory whole.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type FlowFile, type ProcessSession, packFlowFileV3Header } from '@sluice/api';
import { Zip, ZipDeflate, type ZipInputFile, ZipPassThrough } from 'fflate';

/** Sources up to this size are read in one call; larger ones are streamed. */
const IN_MEMORY_SOURCE = 1024 * 1024;
/** Output is handed over in pieces of at least this size (fewer, larger writes for small entries). */
const OUTPUT_PIECE = 256 * 1024;
/** Deflate works on the event loop (fflate): it gets this much input at a time... */
const DEFLATE_SLICE = 64 * 1024;
/** ...and the event loop gets a turn after this much. */
const DEFLATE_TURN = 512 * 1024;
/** ZIP without the ZIP64 extension (which fflate does not write) counts sizes and offsets in 32 bits. */
export const ZIP_MAX_BYTES = 0xffffffff;
/** ...and entries in 16 bits. */
export const ZIP_MAX_ENTRIES = 0xffff;

/** Collects small buffers and releases them as larger pieces. */
class Pieces {
  #parts: Uint8Array[] = [];
  #length = 0;

  add(part: Uint8Array): void {
    if (part.length === 0) return;
    this.#parts.push(part);
    this.#length += part.length;
  }

  get ready(): boolean {
    return this.#length >= OUTPUT_PIECE;
  }

  take(): Uint8Array | undefined {
    if (this.#length === 0) return undefined;
    const out = this.#parts.length === 1 ? this.#parts[0] : Buffer.concat(this.#parts, this.#length);
    this.#parts = [];
    this.#length = 0;
    return out;
  }
}

/** Each source's content, streamed or read whole depending on its size. */
async function* contentOf(session: ProcessSession, flowFile: FlowFile): AsyncGenerator<Uint8Array> {
  if (flowFile.size === 0) return;
  if (flowFile.size <= IN_MEMORY_SOURCE) {
    yield session.read(flowFile);
    return;
  }
  for await (const chunk of session.readStream(flowFile)) {
    if (chunk instanceof Uint8Array) yield chunk;
  }
}

/** NiFi's FlowFile Stream v3: every source packaged with all its attributes, one after another. */
export async function* flowFileStreamV3(session: ProcessSession, sources: readonly FlowFile[]): AsyncGenerator<Uint8Array> {
  const pieces = new Pieces();
  for (const source of sources) {
    pieces.add(packFlowFileV3Header(source.attributes, source.size));
    for await (const chunk of contentOf(session, source)) {
      pieces.add(chunk);
      if (pieces.ready) {
        const piece = pieces.take();
        if (piece !== undefined) yield piece;
      }
    }
  }
  const last = pieces.take();
  if (last !== undefined) yield last;
}

/**
 * A ZIP archive with one entry per source, named by `names` (one per source, already unique).
 * Level 0 stores the entries; 1-9 deflates them (fflate, a chunk at a time between reads).
 * @throws {Error} when the archive would need ZIP64 (more than 65,535 entries or 4 GiB).
 */
export async function* zipArchive(
  session: ProcessSession,
  sources: readonly FlowFile[],
  names: readonly string[],
  level: number,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  for (const source of sources) total += source.size;
  if (sources.length > ZIP_MAX_ENTRIES) {
    throw new Error(`a ZIP archive holds at most ${ZIP_MAX_ENTRIES} entries here (no ZIP64); this bin has ${sources.length}`);
  }
  if (total >= ZIP_MAX_BYTES) throw new Error('a ZIP archive holds at most 4 GiB here (no ZIP64); this bin is larger');
  const pieces = new Pieces();
  let failure: Error | undefined;
  const zip = new Zip((error, data) => {
    if (error !== null) failure = error;
    else pieces.add(data);
  });
  const check = (): void => {
    if (failure !== undefined) throw failure;
  };
  let sinceTurn = 0;
  for (const [i, source] of sources.entries()) {
    const name = names[i] ?? source.uuid;
    const entry: ZipInputFile & { push(chunk: Uint8Array, final?: boolean): void } =
      level === 0 ? new ZipPassThrough(name) : new ZipDeflate(name, { level: clampLevel(level) });
    zip.add(entry);
    for await (const chunk of contentOf(session, source)) {
      // Deflating is synchronous CPU work: in slices, with turns for the event loop in between, so
      // a large archive never holds it for more than a few milliseconds.
      for (let offset = 0; offset < chunk.length; offset += DEFLATE_SLICE) {
        const slice = chunk.subarray(offset, Math.min(chunk.length, offset + DEFLATE_SLICE));
        entry.push(slice, false);
        check();
        sinceTurn += slice.length;
        if (level > 0 && sinceTurn >= DEFLATE_TURN) {
          sinceTurn = 0;
          await nextTurn();
        }
      }
      if (pieces.ready) {
        const piece = pieces.take();
        if (piece !== undefined) yield piece;
      }
    }
    entry.push(new Uint8Array(0), true);
    check();
  }
  zip.end();
  check();
  const last = pieces.take();
  if (last !== undefined) yield last;
}

function clampLevel(level: number): 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 {
  switch (Math.round(level)) {
    case 1:
      return 1;
    case 2:
      return 2;
    case 3:
      return 3;
    case 4:
      return 4;
    case 5:
      return 5;
    case 6:
      return 6;
    case 7:
      return 7;
    case 8:
      return 8;
    default:
      return 9;
  }
}

/**
 * ZIP entry names from the sources' filename attributes: no leading slash, no "." or ".." segments
 * (so the archive cannot write outside the directory it is unpacked in), and unique (a repeated
 * name gets "-1", "-2"... before its extension instead of silently overwriting on extraction).
 */
export function zipEntryNames(sources: readonly FlowFile[]): string[] {
  const used = new Set<string>();
  return sources.map((source) => {
    const raw = source.getAttribute('filename') ?? source.uuid;
    const cleaned = raw
      .replaceAll('\\', '/')
      .split('/')
      .filter((segment) => segment !== '' && segment !== '.' && segment !== '..')
      .join('/');
    const base = cleaned === '' ? source.uuid : cleaned;
    let name = base;
    const dot = base.lastIndexOf('.');
    const slash = base.lastIndexOf('/');
    const stem = dot > slash + 1 ? base.slice(0, dot) : base;
    const extension = dot > slash + 1 ? base.slice(dot) : '';
    for (let n = 1; used.has(name); n++) name = `${stem}-${n}${extension}`;
    used.add(name);
    return name;
  });
}
