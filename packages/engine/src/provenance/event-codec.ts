import type { ContentClaim } from '../flowfile/claim.ts';
import { attributesFromJson } from '../flowfile/flowfile-record.ts';
import { isObject, own } from '../util/parse.ts';
import {
  PROVENANCE_EVENT_TYPES,
  type ProvenanceEventInput,
  type ProvenanceEventRecord,
  type ProvenanceEventType,
} from './types.ts';

/*
 * Binary layout of one event in the journal (little-endian):
 *
 *   0  u32  record length in bytes (this header included)
 *   4  u8   event type (index in PROVENANCE_EVENT_TYPES)
 *   5  u8   0 (reserved)
 *   6  u16  flags: which optional fields are present (F_* below)
 *   8  f64  eventTime          16 f64 fileSize
 *  24  f64  lineageStartDate   32 f64 flowFileEntryDate
 *  40  u32  number of parent uuids   44 u32 number of child uuids
 *  48  f64 × n  optional numbers, in flag order: duration, previous size, claim offset+length,
 *               previous claim offset+length
 *   …  u32 × k  lengths, in UTF-16 code units, of the k strings below
 *   …  UTF-8 of all strings concatenated: uuid, componentId, componentType, the optional strings in
 *      flag order, claim resource id, previous claim resource id, parents, children, attributes
 *      JSON, previous attributes JSON.
 *
 * Why one concatenated UTF-8 run with lengths in code units: the hot path then makes a single
 * Buffer.write per event (one native call, no per-string byte-length computation), and a reader
 * decodes the run once and slices it. Attribute JSON text is copied as it arrives, never re-serialized.
 */

const F_DURATION = 1 << 0;
const F_PREVIOUS_SIZE = 1 << 1;
const F_CLAIM = 1 << 2;
const F_PREVIOUS_CLAIM = 1 << 3;
const F_COMPONENT_NAME = 1 << 4;
const F_TRANSIT_URI = 1 << 5;
const F_SOURCE_SYSTEM_ID = 1 << 6;
const F_ALTERNATE_URI = 1 << 7;
const F_DETAILS = 1 << 8;
const F_RELATIONSHIP = 1 << 9;
const F_SOURCE_QUEUE = 1 << 10;
const F_PREVIOUS_ATTRIBUTES = 1 << 11;

/** Bytes of the fixed part of an event record. */
export const EVENT_FIXED_BYTES = 48;

const TYPE_INDEX: ReadonlyMap<string, number> = new Map(PROVENANCE_EVENT_TYPES.map((type, index) => [type, index]));
const EMPTY: readonly string[] = [];

/** Index of an event type in {@link PROVENANCE_EVENT_TYPES}. @throws {TypeError} for an unknown type. */
export function eventTypeIndex(type: string): number {
  const index = TYPE_INDEX.get(type);
  if (index === undefined) throw new TypeError(`unknown provenance event type: ${type}`);
  return index;
}

/** The event type stored at an index. @throws {RangeError} for an index out of range (a corrupt record). */
export function eventTypeAt(index: number): ProvenanceEventType {
  const type = PROVENANCE_EVENT_TYPES[index];
  if (type === undefined) throw new RangeError(`corrupt provenance record: event type ${index}`);
  return type;
}

/** Whether an event type links FlowFiles to one another (the lineage walks through these). */
export function isSpawnType(type: ProvenanceEventType): boolean {
  return type === 'FORK' || type === 'JOIN' || type === 'CLONE' || type === 'REPLAY';
}

/** A growable byte buffer that events are encoded into. */
export class EncodeBuffer {
  buf: Buffer;
  view: DataView;
  length = 0;

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Makes room for `bytes` more bytes after {@link length}. */
  ensure(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** Drops the content, and a buffer grown past `keepBytes` (after a burst), keeping memory flat. */
  reset(keepBytes: number): void {
    this.length = 0;
    if (this.buf.length > keepBytes) {
      this.buf = Buffer.allocUnsafe(keepBytes);
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
  }
}

/**
 * Appends one event record to `out`. Synchronous and allocation-light: this is the hot path.
 * @throws {TypeError} for an unknown event type.
 */
export function encodeEvent(out: EncodeBuffer, e: ProvenanceEventInput): void {
  const type = eventTypeIndex(e.eventType);
  const parents = e.parentUuids ?? EMPTY;
  const children = e.childUuids ?? EMPTY;
  const duration = e.eventDurationMs;
  const previousSize = e.previousFileSize;
  const claim = e.contentClaim ?? null;
  const previousClaim = e.previousContentClaim ?? null;
  let flags = 0;
  let numbers = 0;
  let strings = 4 + parents.length + children.length;
  if (duration !== undefined) {
    flags |= F_DURATION;
    numbers++;
  }
  if (previousSize !== undefined) {
    flags |= F_PREVIOUS_SIZE;
    numbers++;
  }
  if (claim !== null) {
    flags |= F_CLAIM;
    numbers += 2;
    strings++;
  }
  if (previousClaim !== null) {
    flags |= F_PREVIOUS_CLAIM;
    numbers += 2;
    strings++;
  }
  if (e.componentName !== undefined) {
    flags |= F_COMPONENT_NAME;
    strings++;
  }
  if (e.transitUri !== undefined) {
    flags |= F_TRANSIT_URI;
    strings++;
  }
  if (e.sourceSystemFlowFileId !== undefined) {
    flags |= F_SOURCE_SYSTEM_ID;
    strings++;
  }
  if (e.alternateIdentifierUri !== undefined) {
    flags |= F_ALTERNATE_URI;
    strings++;
  }
  if (e.details !== undefined) {
    flags |= F_DETAILS;
    strings++;
  }
  if (e.relationship !== undefined) {
    flags |= F_RELATIONSHIP;
    strings++;
  }
  if (e.sourceQueueId !== undefined) {
    flags |= F_SOURCE_QUEUE;
    strings++;
  }
  if (e.previousAttributesJson !== undefined) {
    flags |= F_PREVIOUS_ATTRIBUTES;
    strings++;
  }

  const tableBytes = EVENT_FIXED_BYTES + numbers * 8 + strings * 4;
  out.ensure(tableBytes);
  const start = out.length;
  let v = out.view;
  v.setUint8(start + 4, type);
  v.setUint8(start + 5, 0);
  v.setUint16(start + 6, flags, true);
  v.setFloat64(start + 8, e.eventTime, true);
  v.setFloat64(start + 16, e.fileSize, true);
  v.setFloat64(start + 24, e.lineageStartDate, true);
  v.setFloat64(start + 32, e.flowFileEntryDate, true);
  v.setUint32(start + 40, parents.length, true);
  v.setUint32(start + 44, children.length, true);
  let p = start + EVENT_FIXED_BYTES;
  if (duration !== undefined) {
    v.setFloat64(p, duration, true);
    p += 8;
  }
  if (previousSize !== undefined) {
    v.setFloat64(p, previousSize, true);
    p += 8;
  }
  if (claim !== null) {
    v.setFloat64(p, claim.offset, true);
    v.setFloat64(p + 8, claim.length, true);
    p += 16;
  }
  if (previousClaim !== null) {
    v.setFloat64(p, previousClaim.offset, true);
    v.setFloat64(p + 8, previousClaim.length, true);
    p += 16;
  }

  // String lengths go straight into the table while the run is concatenated (V8 builds a rope;
  // Buffer.write flattens it once).
  let run = e.flowFileUuid;
  v.setUint32(p, run.length, true);
  v.setUint32(p + 4, e.componentId.length, true);
  v.setUint32(p + 8, e.componentType.length, true);
  p += 12;
  run = run + e.componentId + e.componentType;
  if (e.componentName !== undefined) {
    v.setUint32(p, e.componentName.length, true);
    p += 4;
    run += e.componentName;
  }
  if (e.transitUri !== undefined) {
    v.setUint32(p, e.transitUri.length, true);
    p += 4;
    run += e.transitUri;
  }
  if (e.sourceSystemFlowFileId !== undefined) {
    v.setUint32(p, e.sourceSystemFlowFileId.length, true);
    p += 4;
    run += e.sourceSystemFlowFileId;
  }
  if (e.alternateIdentifierUri !== undefined) {
    v.setUint32(p, e.alternateIdentifierUri.length, true);
    p += 4;
    run += e.alternateIdentifierUri;
  }
  if (e.details !== undefined) {
    v.setUint32(p, e.details.length, true);
    p += 4;
    run += e.details;
  }
  if (e.relationship !== undefined) {
    v.setUint32(p, e.relationship.length, true);
    p += 4;
    run += e.relationship;
  }
  if (e.sourceQueueId !== undefined) {
    v.setUint32(p, e.sourceQueueId.length, true);
    p += 4;
    run += e.sourceQueueId;
  }
  if (claim !== null) {
    v.setUint32(p, claim.resourceId.length, true);
    p += 4;
    run += claim.resourceId;
  }
  if (previousClaim !== null) {
    v.setUint32(p, previousClaim.resourceId.length, true);
    p += 4;
    run += previousClaim.resourceId;
  }
  for (const uuid of parents) {
    v.setUint32(p, uuid.length, true);
    p += 4;
    run += uuid;
  }
  for (const uuid of children) {
    v.setUint32(p, uuid.length, true);
    p += 4;
    run += uuid;
  }
  v.setUint32(p, e.attributesJson.length, true);
  p += 4;
  run += e.attributesJson;
  if (e.previousAttributesJson !== undefined) {
    v.setUint32(p, e.previousAttributesJson.length, true);
    p += 4;
    run += e.previousAttributesJson;
  }

  // A UTF-16 code unit never takes more than 3 bytes of UTF-8.
  out.length = p;
  out.ensure(run.length * 3);
  v = out.view;
  p += out.buf.write(run, p, 'utf8');
  v.setUint32(start, p - start, true);
  out.length = p;
}

/** The fixed fields and string table of a record, read without decoding its strings. */
interface Layout {
  readonly type: ProvenanceEventType;
  readonly flags: number;
  /** Offset of the first optional number. */
  readonly numbersAt: number;
  /** Offset of the string length table. */
  readonly tableAt: number;
  readonly parents: number;
  readonly children: number;
  /** The decoded run of all strings. */
  readonly run: string;
}

function readLayout(buf: Buffer, off: number, len: number): Layout {
  if (len < EVENT_FIXED_BYTES || buf.readUInt32LE(off) !== len) throw new RangeError('corrupt provenance record: bad length');
  const type = eventTypeAt(buf[off + 4] ?? 255);
  const flags = buf.readUInt16LE(off + 6);
  const parents = buf.readUInt32LE(off + 40);
  const children = buf.readUInt32LE(off + 44);
  let numbers = 0;
  if (flags & F_DURATION) numbers++;
  if (flags & F_PREVIOUS_SIZE) numbers++;
  if (flags & F_CLAIM) numbers += 2;
  if (flags & F_PREVIOUS_CLAIM) numbers += 2;
  let strings = 4 + parents + children;
  for (let bit = F_CLAIM; bit <= F_PREVIOUS_ATTRIBUTES; bit <<= 1) if (flags & bit) strings++;
  const numbersAt = off + EVENT_FIXED_BYTES;
  const tableAt = numbersAt + numbers * 8;
  const runAt = tableAt + strings * 4;
  if (runAt > off + len) throw new RangeError('corrupt provenance record: string table overflows');
  return { type, flags, numbersAt, tableAt, parents, children, run: buf.toString('utf8', runAt, off + len) };
}

/** Walks the strings of a record in layout order. */
class StringCursor {
  #pos = 0;
  #table: number;

  constructor(
    private readonly buf: Buffer,
    tableAt: number,
    private readonly run: string,
  ) {
    this.#table = tableAt;
  }

  next(): string {
    const n = this.buf.readUInt32LE(this.#table);
    this.#table += 4;
    const s = this.run.slice(this.#pos, this.#pos + n);
    this.#pos += n;
    return s;
  }

  optional(present: boolean): string | null {
    return present ? this.next() : null;
  }

  list(n: number): string[] {
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = this.next();
    return out;
  }

  skip(n: number): void {
    for (let i = 0; i < n; i++) {
      this.#pos += this.buf.readUInt32LE(this.#table);
      this.#table += 4;
    }
  }
}

/** The fields the indexer stores for one event. */
export interface IndexFields {
  readonly type: number;
  readonly time: number;
  readonly flowFileUuid: string;
  readonly componentId: string;
  readonly parentUuids: readonly string[];
  readonly childUuids: readonly string[];
  readonly filename: string | undefined;
}

/** Reads what the index needs from a record, without parsing its attribute JSON. @throws {RangeError} when corrupt. */
export function decodeIndexFields(buf: Buffer, off: number, len: number): IndexFields {
  const l = readLayout(buf, off, len);
  const c = new StringCursor(buf, l.tableAt, l.run);
  const flowFileUuid = c.next();
  const componentId = c.next();
  c.skip(1 + countOptionalStrings(l.flags));
  const parentUuids = c.list(l.parents);
  const childUuids = c.list(l.children);
  return {
    type: buf[off + 4] ?? 0,
    time: buf.readDoubleLE(off + 8),
    flowFileUuid,
    componentId,
    parentUuids,
    childUuids,
    filename: extractFilename(c.next()),
  };
}

/** How many optional strings sit between componentType and the parent uuids. */
function countOptionalStrings(flags: number): number {
  let n = 0;
  for (let bit = F_CLAIM; bit <= F_SOURCE_QUEUE; bit <<= 1) if (flags & bit) n++;
  return n;
}

/** An event as the lineage graph draws it (no attributes). */
export interface EventSummary {
  readonly eventId: number;
  readonly eventType: ProvenanceEventType;
  readonly eventTime: number;
  readonly flowFileUuid: string;
  readonly componentId: string;
  readonly componentName: string | null;
  readonly parentUuids: readonly string[];
  readonly childUuids: readonly string[];
}

/** Reads the lineage fields of a record. @throws {RangeError} when corrupt. */
export function decodeSummary(buf: Buffer, off: number, len: number, eventId: number): EventSummary {
  const l = readLayout(buf, off, len);
  const c = new StringCursor(buf, l.tableAt, l.run);
  const flowFileUuid = c.next();
  const componentId = c.next();
  c.skip(1);
  const componentName = c.optional((l.flags & F_COMPONENT_NAME) !== 0);
  c.skip(countOptionalStrings(l.flags & ~F_COMPONENT_NAME));
  return {
    eventId,
    eventType: l.type,
    eventTime: buf.readDoubleLE(off + 8),
    flowFileUuid,
    componentId,
    componentName,
    parentUuids: c.list(l.parents),
    childUuids: c.list(l.children),
  };
}

/** Decodes a whole record. Attribute maps are built from JSON without touching a prototype. @throws {RangeError|TypeError} when corrupt. */
export function decodeRecord(buf: Buffer, off: number, len: number, eventId: number): ProvenanceEventRecord {
  const l = readLayout(buf, off, len);
  const f = l.flags;
  let n = l.numbersAt;
  const number = (present: boolean): number | null => {
    if (!present) return null;
    const value = buf.readDoubleLE(n);
    n += 8;
    return value;
  };
  const eventDurationMs = number((f & F_DURATION) !== 0);
  const previousFileSize = number((f & F_PREVIOUS_SIZE) !== 0);
  const claimOffset = number((f & F_CLAIM) !== 0);
  const claimLength = number((f & F_CLAIM) !== 0);
  const previousClaimOffset = number((f & F_PREVIOUS_CLAIM) !== 0);
  const previousClaimLength = number((f & F_PREVIOUS_CLAIM) !== 0);
  const c = new StringCursor(buf, l.tableAt, l.run);
  const flowFileUuid = c.next();
  const componentId = c.next();
  const componentType = c.next();
  const componentName = c.optional((f & F_COMPONENT_NAME) !== 0);
  const transitUri = c.optional((f & F_TRANSIT_URI) !== 0);
  const sourceSystemFlowFileId = c.optional((f & F_SOURCE_SYSTEM_ID) !== 0);
  const alternateIdentifierUri = c.optional((f & F_ALTERNATE_URI) !== 0);
  const details = c.optional((f & F_DETAILS) !== 0);
  const relationship = c.optional((f & F_RELATIONSHIP) !== 0);
  const sourceQueueId = c.optional((f & F_SOURCE_QUEUE) !== 0);
  const claimId = c.optional((f & F_CLAIM) !== 0);
  const previousClaimId = c.optional((f & F_PREVIOUS_CLAIM) !== 0);
  const parentUuids = c.list(l.parents);
  const childUuids = c.list(l.children);
  const attributes = attributesFromJson(c.next());
  const previousJson = c.optional((f & F_PREVIOUS_ATTRIBUTES) !== 0);
  return {
    eventId,
    eventType: l.type,
    eventTime: buf.readDoubleLE(off + 8),
    eventDurationMs,
    flowFileUuid,
    fileSize: buf.readDoubleLE(off + 16),
    previousFileSize,
    lineageStartDate: buf.readDoubleLE(off + 24),
    flowFileEntryDate: buf.readDoubleLE(off + 32),
    componentId,
    componentType,
    componentName,
    transitUri,
    sourceSystemFlowFileId,
    alternateIdentifierUri,
    details,
    relationship,
    sourceQueueId,
    parentUuids,
    childUuids,
    attributes,
    // Like NiFi: when the session did not record them separately, the previous attributes are the current ones.
    previousAttributes: previousJson === null ? attributes : attributesFromJson(previousJson),
    contentClaim: claimOf(claimId, claimOffset, claimLength),
    previousContentClaim: claimOf(previousClaimId, previousClaimOffset, previousClaimLength),
  };
}

function claimOf(resourceId: string | null, offset: number | null, length: number | null): ContentClaim | null {
  if (resourceId === null || offset === null || length === null) return null;
  return { resourceId, offset, length };
}

/** Builds the record of an event that was never encoded (the volatile repository keeps inputs). */
export function recordFromInput(e: ProvenanceEventInput, eventId: number): ProvenanceEventRecord {
  const attributes = attributesFromJson(e.attributesJson);
  return {
    eventId,
    eventType: e.eventType,
    eventTime: e.eventTime,
    eventDurationMs: e.eventDurationMs ?? null,
    flowFileUuid: e.flowFileUuid,
    fileSize: e.fileSize,
    previousFileSize: e.previousFileSize ?? null,
    lineageStartDate: e.lineageStartDate,
    flowFileEntryDate: e.flowFileEntryDate,
    componentId: e.componentId,
    componentType: e.componentType,
    componentName: e.componentName ?? null,
    transitUri: e.transitUri ?? null,
    sourceSystemFlowFileId: e.sourceSystemFlowFileId ?? null,
    alternateIdentifierUri: e.alternateIdentifierUri ?? null,
    details: e.details ?? null,
    relationship: e.relationship ?? null,
    sourceQueueId: e.sourceQueueId ?? null,
    parentUuids: [...(e.parentUuids ?? EMPTY)],
    childUuids: [...(e.childUuids ?? EMPTY)],
    attributes,
    previousAttributes: e.previousAttributesJson === undefined ? attributes : attributesFromJson(e.previousAttributesJson),
    contentClaim: e.contentClaim ? { ...e.contentClaim } : null,
    previousContentClaim: e.previousContentClaim ? { ...e.previousContentClaim } : null,
  };
}

const FILENAME_KEY = '"filename":"';

/**
 * The `filename` attribute of an attribute JSON object text, found without a full parse when the
 * text is in the compact form the engine writes: in valid JSON an unescaped `"filename":"` can
 * only be that key. Escapes or other spacing fall back to JSON.parse.
 */
export function extractFilename(json: string): string | undefined {
  const at = json.indexOf(FILENAME_KEY);
  if (at >= 0) {
    const start = at + FILENAME_KEY.length;
    const end = json.indexOf('"', start);
    if (end >= 0) {
      const raw = json.slice(start, end);
      if (!raw.includes('\\')) return raw;
    }
  } else if (!json.includes('"filename"')) {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(json);
    if (!isObject(parsed)) return undefined;
    const value = own(parsed, 'filename');
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * 32-bit FNV-1a of a string's UTF-16 code units. The index stores this hash of the filename
 * instead of the text (a smaller B-tree that ingests faster); readers confirm the match on the record.
 */
export function filenameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
