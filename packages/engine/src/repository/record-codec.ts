import type { ContentClaim } from '../flowfile/claim.ts';
import { attributesFromJson, FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { isObject, own } from '../util/parse.ts';
import { ByteReader, ByteWriter, encodeStr16 } from './byte-codec.ts';
import type { RepositoryRecord, StateBatch, StateOp, SwapRef } from './types.ts';

/**
 * Journal records, after the frame's seq, each starting with a tag byte:
 *
 *   'P' full put     str16 queueId, FlowFile (see {@link writeFlowFile})
 *   'M' partial put  str16 queueId, str16 uuid           (moved to another queue)
 *   'D' delete       str16 uuid
 *   'J' other        text32 JSON: ["o", <swap ref>, [uuid, ...]]   swap-out
 *                                 ["i", <swap ref>]                swap-in
 *                                 ["x", <swap ref>]                swap-drop
 *                                 ["s", componentId, [op, ...]]    state; op = ["s", key, value] | ["d", key] | ["c"]
 *
 * A swap ref is {"f": file, "q": queueId, "n": count, "b": bytes, "r": [[resourceId, count], ...]}.
 * str16 = u16 byte length + UTF-8; text32 = u32 byte length + UTF-8; numbers little-endian.
 * Puts, moves and deletes are the hot path and binary: numbers are not formatted as text and the
 * FlowFile's cached attribute JSON is copied as is. The rare swap and state records stay JSON.
 */
const TAG_PUT = 0x50;
const TAG_MOVE = 0x4d;
const TAG_DELETE = 0x44;
const TAG_JSON = 0x4a;

/** Transactions with at least this many records reserve the room of their pre-encoded FlowFiles at once. */
const RESERVE_AHEAD_RECORDS = 1_024;

/** Encoded str16 forms of strings repeated across records (queue ids, content resource ids). */
export class Str16Cache {
  readonly #map = new Map<string, Buffer>();

  get(text: string): Buffer {
    let bytes = this.#map.get(text);
    if (bytes === undefined) {
      // Bounded: ids churn over weeks (content resources roll over), the cache must not grow forever.
      if (this.#map.size >= 10_000) this.#map.clear();
      bytes = encodeStr16(text);
      this.#map.set(text, bytes);
    }
    return bytes;
  }
}

/**
 * One FlowFile: str16 uuid, claim (str16 resourceId, f64 offset, f64 length; or the none marker),
 * f64 entryDate, f64 lineageStartDate, f64 penaltyExpiration, text32 attribute JSON.
 * Used by journal puts, swap files and snapshots alike.
 */
export function writeFlowFile(w: ByteWriter, ff: FlowFileRecord, resources: Str16Cache): void {
  const attributes = ff.attributesJson();
  const claim = ff.claim;
  const resource = claim === null ? undefined : resources.get(claim.resourceId);
  w.ensure(64 + (resource?.length ?? 0) + 3 * (ff.uuid.length + attributes.length));
  w.str16(ff.uuid);
  if (claim === null || resource === undefined) {
    w.none16();
  } else {
    w.raw(resource);
    w.f64(claim.offset);
    w.f64(claim.length);
  }
  w.f64(ff.entryDate);
  w.f64(ff.lineageStartDate);
  w.f64(ff.penaltyExpiration);
  w.text32(attributes);
}

/**
 * FlowFiles in {@link writeFlowFile}'s form, each a view into one buffer for the lot (see
 * `FlowFileRepository.encodeFlowFiles`).
 */
export function encodeFlowFiles(flowFiles: readonly FlowFileRecord[], resources: Str16Cache): Uint8Array[] {
  const w = new ByteWriter(Math.max(1024, flowFiles.length * 512));
  const ends: number[] = [];
  for (const ff of flowFiles) {
    writeFlowFile(w, ff, resources);
    ends.push(w.pos);
  }
  const out: Uint8Array[] = [];
  let start = 0;
  for (const end of ends) {
    out.push(w.buf.subarray(start, end));
    start = end;
  }
  return out;
}

/** A FlowFile as read back, attributes still as JSON (parsed only if the FlowFile survives replay). */
export interface DecodedFlowFile {
  readonly uuid: string;
  readonly claim: ContentClaim | null;
  readonly entryDate: number;
  readonly lineageStartDate: number;
  readonly penaltyExpiration: number;
  readonly attributesJson: string;
}

/** @throws {TypeError} when the bytes run out (a malformed record). */
export function readFlowFile(r: ByteReader): DecodedFlowFile {
  const uuid = r.str16();
  const resourceId = r.optStr16();
  const claim = resourceId === undefined ? null : { resourceId, offset: r.f64(), length: r.f64() };
  return {
    uuid,
    claim,
    entryDate: r.f64(),
    lineageStartDate: r.f64(),
    penaltyExpiration: r.f64(),
    attributesJson: r.text32(),
  };
}

/** The engine's record, keeping the attribute JSON it was read from as its cached form. @throws {TypeError} */
export function toFlowFileRecord(d: DecodedFlowFile): FlowFileRecord {
  return new FlowFileRecord(
    d.uuid,
    attributesFromJson(d.attributesJson),
    d.claim,
    d.entryDate,
    d.lineageStartDate,
    d.penaltyExpiration,
    d.attributesJson,
  );
}

/** Encodes transactions' records (see the format above); owns the string caches. */
export class RecordEncoder {
  readonly #queues = new Str16Cache();
  readonly #resources = new Str16Cache();

  /** See {@link encodeFlowFiles}. */
  encodeFlowFiles(flowFiles: readonly FlowFileRecord[]): Uint8Array[] {
    return encodeFlowFiles(flowFiles, this.#resources);
  }

  /** Appends the records to `w`. @throws {TypeError} when an id is longer than 65,534 UTF-8 bytes. */
  encode(w: ByteWriter, records: readonly RepositoryRecord[]): void {
    // A large transaction encoded ahead is mostly copies: reserve its room once instead of doubling.
    if (records.length >= RESERVE_AHEAD_RECORDS) {
      let bytes = 0;
      for (const r of records) bytes += r.type === 'put' && r.encoded !== undefined ? r.encoded.length + 64 : 0;
      w.ensure(bytes);
    }
    for (const r of records) {
      switch (r.type) {
        case 'put': {
          const queue = this.#queues.get(r.queueId);
          w.ensure(1 + queue.length);
          if (r.full) {
            w.u8(TAG_PUT);
            w.raw(queue);
            if (r.encoded === undefined) writeFlowFile(w, r.flowFile, this.#resources);
            else {
              w.ensure(r.encoded.length);
              w.raw(r.encoded);
            }
          } else {
            w.ensure(3 + 3 * r.flowFile.uuid.length);
            w.u8(TAG_MOVE);
            w.raw(queue);
            w.str16(r.flowFile.uuid);
          }
          break;
        }
        case 'delete':
          w.ensure(3 + 3 * r.uuid.length);
          w.u8(TAG_DELETE);
          w.str16(r.uuid);
          break;
        default: {
          const json = encodeJsonRecord(r);
          w.ensure(5 + 3 * json.length);
          w.u8(TAG_JSON);
          w.text32(json);
        }
      }
    }
  }
}

function encodeJsonRecord(r: Exclude<RepositoryRecord, { type: 'put' } | { type: 'delete' }>): string {
  switch (r.type) {
    case 'swap-out':
      return `["o",${encodeSwapRef(r.swap)},${JSON.stringify(r.uuids)}]`;
    case 'swap-in':
      return `["i",${encodeSwapRef(r.swap)}]`;
    case 'swap-drop':
      return `["x",${encodeSwapRef(r.swap)}]`;
    case 'state':
      return `["s",${JSON.stringify(r.componentId)},${encodeStateOps(r.ops)}]`;
  }
}

function encodeStateOps(ops: readonly StateOp[]): string {
  let out = '[';
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op === undefined) continue;
    if (i > 0) out += ',';
    if (op.op === 'set') out += `["s",${JSON.stringify(op.key)},${JSON.stringify(op.value)}]`;
    else if (op.op === 'delete') out += `["d",${JSON.stringify(op.key)}]`;
    else out += '["c"]';
  }
  return `${out}]`;
}

/** A swap ref as JSON (see the format above). */
export function encodeSwapRef(swap: SwapRef): string {
  return JSON.stringify({ f: swap.file, q: swap.queueId, n: swap.count, b: swap.bytes, r: swap.resourceCounts });
}

const SWAP_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.swap$/;

/** Whether a name can be a swap file inside the swap directory (no path separators, no `..`). */
export function isSwapFileName(name: string): boolean {
  return SWAP_FILE_NAME.test(name) && !name.includes('..');
}

/** Parses a swap ref. @throws {TypeError} when it is malformed. */
export function decodeSwapRef(value: unknown): SwapRef {
  if (!isObject(value)) throw new TypeError('swap ref is not an object');
  const file = own(value, 'f');
  const queueId = own(value, 'q');
  const count = own(value, 'n');
  const bytes = own(value, 'b');
  const counts = own(value, 'r');
  if (typeof file !== 'string' || !isSwapFileName(file)) throw new TypeError(`bad swap file name ${String(file)}`);
  if (typeof queueId !== 'string' || typeof count !== 'number' || typeof bytes !== 'number' || !Array.isArray(counts)) {
    throw new TypeError(`swap ref ${file} is malformed`);
  }
  const resourceCounts: Array<readonly [string, number]> = [];
  for (const entry of counts) {
    if (!Array.isArray(entry)) throw new TypeError(`swap ref ${file}: bad resource count`);
    const [id, n]: unknown[] = entry;
    if (typeof id !== 'string' || typeof n !== 'number') throw new TypeError(`swap ref ${file}: bad resource count`);
    resourceCounts.push([id, n]);
  }
  return { file, queueId, count, bytes, resourceCounts };
}

/** A journal record as recovery replays it; full puts keep the decoded FlowFile until the end. */
export type ReplayOp =
  | { readonly t: 'put'; readonly queueId: string; readonly flowFile: DecodedFlowFile }
  | { readonly t: 'move'; readonly queueId: string; readonly uuid: string }
  | { readonly t: 'delete'; readonly uuid: string }
  | { readonly t: 'swap-out'; readonly swap: SwapRef; readonly uuids: readonly string[] }
  | { readonly t: 'swap-in'; readonly swap: SwapRef }
  | { readonly t: 'swap-drop'; readonly swap: SwapRef }
  | { readonly t: 'state'; readonly componentId: string; readonly ops: readonly StateOp[] };

/**
 * Decodes the records of a journal frame payload (from `start`, after the seq), all of them before
 * anything is applied, so a transaction is replayed whole or not at all.
 * @throws {TypeError} when a record is malformed.
 */
export function decodeRecords(payload: Buffer, start: number): ReplayOp[] {
  const r = new ByteReader(payload, start);
  const ops: ReplayOp[] = [];
  while (!r.done) {
    const tag = r.u8();
    if (tag === TAG_PUT) {
      const queueId = r.str16();
      ops.push({ t: 'put', queueId, flowFile: readFlowFile(r) });
    } else if (tag === TAG_MOVE) {
      const queueId = r.str16();
      ops.push({ t: 'move', queueId, uuid: r.str16() });
    } else if (tag === TAG_DELETE) {
      ops.push({ t: 'delete', uuid: r.str16() });
    } else if (tag === TAG_JSON) {
      ops.push(decodeJsonRecord(JSON.parse(r.text32())));
    } else {
      throw new TypeError(`unknown record tag ${tag}`);
    }
  }
  return ops;
}

function decodeJsonRecord(parsed: unknown): ReplayOp {
  if (!Array.isArray(parsed)) throw new TypeError('record is not an array');
  const [tag, a, b]: unknown[] = parsed;
  switch (tag) {
    case 'o': {
      if (!Array.isArray(b)) throw new TypeError('malformed swap-out');
      const uuids: string[] = [];
      for (const uuid of b) {
        if (typeof uuid !== 'string') throw new TypeError('malformed swap-out uuid');
        uuids.push(uuid);
      }
      return { t: 'swap-out', swap: decodeSwapRef(a), uuids };
    }
    case 'i':
      return { t: 'swap-in', swap: decodeSwapRef(a) };
    case 'x':
      return { t: 'swap-drop', swap: decodeSwapRef(a) };
    case 's':
      if (typeof a !== 'string') throw new TypeError('malformed state record');
      return { t: 'state', componentId: a, ops: decodeStateOps(b) };
    default:
      throw new TypeError(`unknown record ${String(tag)}`);
  }
}

function decodeStateOps(value: unknown): StateOp[] {
  if (!Array.isArray(value)) throw new TypeError('state ops are not an array');
  const ops: StateOp[] = [];
  for (const item of value) {
    if (!Array.isArray(item)) throw new TypeError('state op is not an array');
    const [tag, key, val]: unknown[] = item;
    if (tag === 'c') ops.push({ op: 'clear' });
    else if (tag === 'd' && typeof key === 'string') ops.push({ op: 'delete', key });
    else if (tag === 's' && typeof key === 'string' && typeof val === 'string') ops.push({ op: 'set', key, value: val });
    else throw new TypeError('malformed state op');
  }
  return ops;
}

/** The state records of a transaction, as the state store takes them; undefined when there are none. */
export function stateChanges(records: readonly RepositoryRecord[]): StateBatch['changes'] | undefined {
  let changes: Array<StateBatch['changes'][number]> | undefined;
  for (const r of records) {
    if (r.type !== 'state') continue;
    if (changes === undefined) changes = [];
    changes.push({ componentId: r.componentId, ops: r.ops });
  }
  return changes;
}
