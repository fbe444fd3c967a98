import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { EncodeBuffer, EVENT_FIXED_BYTES, encodeEvent, eventTypeIndex } from './event-codec.ts';
import type { ProvenanceEventInput } from './types.ts';

/*
 * The provenance journal: append-only segment files named after the id of their first event
 * (`0000000000000001.journal`), each a 16-byte header followed by frames:
 *
 *   u32 body length | u32 CRC32 of the body | body: f64 first event id, u32 event count, u32 0, events
 *
 * A frame holds the events of one flush (cut at ~256 KiB). Frames never span segments, and event
 * ids are contiguous within a segment, so a record's id is its frame's first id plus its position.
 */

/** File name suffix of journal segments. */
export const SEGMENT_SUFFIX = '.journal';
/** Bytes before the first frame of a segment. */
export const SEGMENT_HEADER_BYTES = 16;
const SEGMENT_MAGIC = 'SLPROV01';
const FORMAT_VERSION = 1;
const FRAME_PREFIX_BYTES = 8;
/** Frame prefix plus the frame's own header (first id, count). */
export const FRAME_HEADER_BYTES = 24;
/** Frames are cut at about this size so that CRCs and torn-tail losses stay small. */
const FRAME_TARGET_BYTES = 256 * 1024;
/** A larger length prefix can only be garbage. */
const MAX_FRAME_BYTES = 1 << 30;
/** Appends write to the OS early past this much pending data, so memory stays flat between flushes. */
const AUTO_FLUSH_BYTES = 8 << 20;
/** Appends of at least this many events are encoded in slices (see {@link JournalWriter.append}). */
const LARGE_APPEND_EVENTS = 4_096;
/** Events encoded per turn of the event loop (about 10 ms of work). */
const ENCODE_SLICE_EVENTS = 4_096;
const KEEP_BUFFER_BYTES = 4 << 20;
const SEGMENT_NAME = /^(\d{16,})\.journal$/;

/** The file name of the segment whose first event has this id. */
export function segmentFileName(firstId: number): string {
  return `${String(firstId).padStart(16, '0')}${SEGMENT_SUFFIX}`;
}

/** The segments in a directory, oldest first. */
export function listSegments(directory: string): { firstId: number; path: string }[] {
  const out: { firstId: number; path: string }[] = [];
  for (const name of fs.readdirSync(directory)) {
    const m = SEGMENT_NAME.exec(name);
    if (m?.[1] !== undefined) out.push({ firstId: Number(m[1]), path: path.join(directory, name) });
  }
  return out.sort((a, b) => a.firstId - b.firstId);
}

function segmentHeader(): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  header.write(SEGMENT_MAGIC, 0, 'latin1');
  header.writeUInt32LE(FORMAT_VERSION, 8);
  return header;
}

function hasValidHeader(fd: number): boolean {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  if (fs.readSync(fd, header, 0, SEGMENT_HEADER_BYTES, 0) < SEGMENT_HEADER_BYTES) return false;
  return header.toString('latin1', 0, 8) === SEGMENT_MAGIC && header.readUInt32LE(8) === FORMAT_VERSION;
}

function writeFully(fd: number, buf: Buffer, length: number, position: number): void {
  let done = 0;
  while (done < length) done += fs.writeSync(fd, buf, done, length - done, position + done);
}

/** A frame read and CRC-checked by {@link FrameReader}. Its bytes are valid until the next read. */
export interface Frame {
  /** File offset of the frame and of what follows it. */
  readonly offset: number;
  readonly next: number;
  readonly firstId: number;
  readonly count: number;
  /** The reader's buffer, and where the frame's events lie in it. */
  readonly buf: Buffer;
  readonly eventsAt: number;
  readonly eventsEnd: number;
}

/** `end`: no bytes left; `torn`: an incomplete frame; `corrupt`: a frame failing its checks. */
export type FrameResult = Frame | 'end' | 'torn' | 'corrupt';

/** Whether a frame's records tile its body exactly (a CRC-valid frame written by a buggy writer would not). */
export function frameRecordsValid(frame: Frame): boolean {
  let p = frame.eventsAt;
  for (let i = 0; i < frame.count; i++) {
    if (p + EVENT_FIXED_BYTES > frame.eventsEnd) return false;
    const len = frame.buf.readUInt32LE(p);
    if (len < EVENT_FIXED_BYTES) return false;
    p += len;
  }
  return p === frame.eventsEnd;
}

/** Reads frames sequentially through a large reusable buffer (one read per few MiB, not per frame). */
export class FrameReader {
  #buf: Buffer;
  #fd = -1;
  #fileOffset = 0;
  #bytes = 0;

  constructor(bufferBytes = 4 << 20) {
    this.#buf = Buffer.allocUnsafe(bufferBytes);
  }

  /** Reads the frame at `pos` of `fd`, looking no further than `end`. */
  read(fd: number, pos: number, end: number): FrameResult {
    if (pos >= end) return 'end';
    if (pos + FRAME_HEADER_BYTES > end) return 'torn';
    this.#load(fd, pos, FRAME_HEADER_BYTES, end);
    let o = pos - this.#fileOffset;
    const length = this.#buf.readUInt32LE(o);
    if (length < FRAME_HEADER_BYTES - FRAME_PREFIX_BYTES || length > MAX_FRAME_BYTES) return 'corrupt';
    const total = FRAME_PREFIX_BYTES + length;
    if (pos + total > end) return 'torn';
    this.#load(fd, pos, total, end);
    o = pos - this.#fileOffset;
    const buf = this.#buf;
    if (crc32(buf.subarray(o + FRAME_PREFIX_BYTES, o + total)) !== buf.readUInt32LE(o + 4)) return 'corrupt';
    return {
      offset: pos,
      next: pos + total,
      firstId: buf.readDoubleLE(o + 8),
      count: buf.readUInt32LE(o + 16),
      buf,
      eventsAt: o + FRAME_HEADER_BYTES,
      eventsEnd: o + total,
    };
  }

  /** Forgets cached bytes (the file may have changed under the same descriptor). */
  invalidate(): void {
    this.#fd = -1;
    this.#bytes = 0;
  }

  #load(fd: number, pos: number, n: number, end: number): void {
    if (fd === this.#fd && pos >= this.#fileOffset && pos + n <= this.#fileOffset + this.#bytes) return;
    if (n > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < n) size *= 2;
      this.#buf = Buffer.allocUnsafe(size);
    }
    const want = Math.min(this.#buf.length, end - pos);
    let got = 0;
    while (got < want) {
      const r = fs.readSync(fd, this.#buf, got, want - got, pos + got);
      if (r === 0) break;
      got += r;
    }
    this.#fd = fd;
    this.#fileOffset = pos;
    this.#bytes = got;
    if (got < n) throw new Error(`journal segment shorter than expected (${pos + got} < ${pos + n} bytes)`);
  }
}

/** What recovery found at the end of the last segment. */
export interface TailRecovery {
  /** Valid length of the segment after truncation. */
  readonly end: number;
  /** The id the next appended event gets. */
  readonly nextId: number;
  readonly droppedBytes: number;
}

/**
 * Validates the frames of a segment and truncates it after the last valid one (a torn tail after a
 * crash, or garbage). A segment with a broken header is reset to an empty segment.
 */
export function recoverSegmentTail(file: string, firstId: number): TailRecovery {
  const fd = fs.openSync(file, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    if (!hasValidHeader(fd)) {
      fs.ftruncateSync(fd, 0);
      writeFully(fd, segmentHeader(), SEGMENT_HEADER_BYTES, 0);
      fs.fsyncSync(fd);
      return { end: SEGMENT_HEADER_BYTES, nextId: firstId, droppedBytes: size };
    }
    const reader = new FrameReader();
    let pos = SEGMENT_HEADER_BYTES;
    let nextId = firstId;
    for (;;) {
      const frame = reader.read(fd, pos, size);
      if (typeof frame === 'string') break;
      if (frame.firstId !== nextId || !frameRecordsValid(frame)) break;
      nextId += frame.count;
      pos = frame.next;
    }
    if (pos < size) {
      fs.ftruncateSync(fd, pos);
      fs.fsyncSync(fd);
    }
    return { end: pos, nextId, droppedBytes: size - pos };
  } finally {
    fs.closeSync(fd);
  }
}

/** A journal segment as the writer tracks it. */
export interface JournalSegment {
  readonly firstId: number;
  readonly path: string;
  /** Bytes written to the OS (the size of the file). */
  bytes: number;
}

/** Options of {@link JournalWriter}. */
export interface JournalWriterOptions {
  readonly directory: string;
  readonly rolloverBytes: number;
  readonly rolloverMs: number;
  /** Keep rolled segments open until the next {@link JournalWriter.sync} fsyncs them. */
  readonly power: boolean;
  /** Called after each write to the OS with the segment written, its new size and the last id in it. */
  readonly onWritten: (segmentFirstId: number, end: number, lastId: number) => void;
  /** A large append encoded in the background could not be written (it is retried at the next flush). */
  readonly onBackgroundError?: (error: unknown) => void;
}

/**
 * Writes the journal: encodes appended events into frames in memory and writes them with one
 * `writeSync` per flush to the current segment, rolling over by size and age.
 */
export class JournalWriter {
  /** Segments, oldest first; the last one is being written. */
  readonly segments: JournalSegment[] = [];
  readonly #options: JournalWriterOptions;
  readonly #pending = new EncodeBuffer(KEEP_BUFFER_BYTES);
  #fd = -1;
  #segmentCreated = 0;
  #frameStart = -1;
  #frameFirstId = 0;
  #frameCount = 0;
  /** The id the next appended event gets. */
  #nextId = 1;
  /** The id the next encoded event gets: behind {@link #nextId} while a large append is encoded in slices. */
  #encodeId = 1;
  #writtenId = 0;
  /** Appends waiting to be encoded, in order (a large one, and whatever was appended after it). */
  readonly #backlog: Array<{ events: readonly ProvenanceEventInput[]; next: number }> = [];
  #draining = false;
  #unsynced: number[] = [];
  #directoryDirty = false;

  constructor(options: JournalWriterOptions) {
    this.#options = options;
  }

  /** The id the next appended event gets. */
  get nextId(): number {
    return this.#nextId;
  }

  /** The last id written to the OS. */
  get writtenId(): number {
    return this.#writtenId;
  }

  /** The segment being written. @throws {Error} before {@link open}. */
  get current(): JournalSegment {
    const segment = this.segments.at(-1);
    if (segment === undefined) throw new Error('provenance journal is not open');
    return segment;
  }

  /** Finds the segments and recovers the tail of the last one. @throws on I/O errors. */
  open(): TailRecovery {
    fs.mkdirSync(this.#options.directory, { recursive: true });
    const found = listSegments(this.#options.directory);
    const last = found.at(-1);
    if (last === undefined) {
      this.#create(1);
      this.#nextId = 1;
      this.#encodeId = 1;
      this.#writtenId = 0;
      return { end: SEGMENT_HEADER_BYTES, nextId: 1, droppedBytes: 0 };
    }
    for (const s of found) {
      this.segments.push({ firstId: s.firstId, path: s.path, bytes: s === last ? 0 : fs.statSync(s.path).size });
    }
    const tail = recoverSegmentTail(last.path, last.firstId);
    this.current.bytes = tail.end;
    this.#fd = fs.openSync(last.path, 'r+');
    this.#segmentCreated = Date.now();
    this.#nextId = tail.nextId;
    this.#encodeId = tail.nextId;
    this.#writtenId = tail.nextId - 1;
    return tail;
  }

  /**
   * Encodes events into the pending buffer and assigns their ids; returns the first. All or nothing:
   * if one event cannot be encoded, none of the call's events is kept.
   *
   * A large call (a session of many thousands of FlowFiles) has its types checked now, gets its ids
   * now, and is encoded in slices of {@link ENCODE_SLICE_EVENTS} with a turn of the event loop in
   * between, written as it goes; appends made meanwhile queue behind it, so ids stay in append order.
   * Its events are searchable once encoded, written and indexed ({@link flush} writes what is encoded).
   * @throws {TypeError} for an unknown event type or a malformed event.
   */
  append(events: readonly ProvenanceEventInput[]): number {
    if (events.length >= LARGE_APPEND_EVENTS || this.#backlog.length > 0) {
      // The only failure encodeEvent has for events the engine builds; checked before anything is kept.
      for (const e of events) eventTypeIndex(e.eventType);
      const first = this.#nextId;
      this.#nextId += events.length;
      if (events.length > 0) this.#backlog.push({ events, next: 0 });
      this.#scheduleDrain();
      return first;
    }
    const first = this.#nextId;
    const out = this.#pending;
    const mark = out.length;
    const frameStart = this.#frameStart;
    const frameFirstId = this.#frameFirstId;
    const frameCount = this.#frameCount;
    try {
      for (const e of events) this.#encode(e);
    } catch (error) {
      out.length = mark;
      this.#frameStart = frameStart;
      this.#frameFirstId = frameFirstId;
      this.#frameCount = frameCount;
      this.#nextId = first;
      this.#encodeId = first;
      throw error;
    }
    this.#nextId = this.#encodeId;
    if (out.length >= AUTO_FLUSH_BYTES) this.flush();
    return first;
  }

  /** Whether appended events are still waiting to be encoded. */
  get encoding(): boolean {
    return this.#backlog.length > 0;
  }

  #encode(e: ProvenanceEventInput): void {
    const out = this.#pending;
    if (this.#frameStart < 0) this.#beginFrame();
    encodeEvent(out, e);
    this.#frameCount++;
    this.#encodeId++;
    if (out.length - this.#frameStart >= FRAME_TARGET_BYTES) this.#endFrame();
  }

  #scheduleDrain(): void {
    if (this.#draining || this.#backlog.length === 0) return;
    this.#draining = true;
    setImmediate(() => {
      this.#draining = false;
      if (this.#fd < 0) return;
      try {
        this.#drain(ENCODE_SLICE_EVENTS);
        if (this.#backlog.length === 0) this.flush();
      } catch (error) {
        this.#options.onBackgroundError?.(error);
      }
      this.#scheduleDrain();
    });
  }

  /** Encodes up to `limit` events of the backlog (all of it when Infinity), flushing every {@link AUTO_FLUSH_BYTES}. */
  #drain(limit: number): void {
    let budget = limit;
    while (budget > 0) {
      const head = this.#backlog[0];
      if (head === undefined) return;
      while (head.next < head.events.length && budget > 0) {
        const e = head.events[head.next];
        head.next++;
        budget--;
        // Checked when appended; an event that still fails is skipped, its id left unused.
        if (e !== undefined) this.#encode(e);
        if (this.#pending.length >= AUTO_FLUSH_BYTES) this.flush();
      }
      if (head.next >= head.events.length) this.#backlog.shift();
    }
  }

  /** Writes pending frames to the current segment with one write. @throws on I/O errors (pending data is kept for a retry). */
  flush(): void {
    this.#endFrame();
    const out = this.#pending;
    if (out.length === 0) return;
    if (this.#rolloverDue()) this.#roll();
    const segment = this.current;
    writeFully(this.#fd, out.buf, out.length, segment.bytes);
    segment.bytes += out.length;
    this.#writtenId = this.#encodeId - 1;
    out.reset(KEEP_BUFFER_BYTES);
    this.#options.onWritten(segment.firstId, segment.bytes, this.#writtenId);
  }

  /** Rolls over a non-empty segment older than the rollover age even when nothing is being written. */
  rollIfIdle(): void {
    if (this.#pending.length > 0 || this.#frameStart >= 0 || this.#backlog.length > 0 || !this.#rolloverDue()) return;
    this.#roll();
    // Tells the indexer that the previous segment is complete.
    this.#options.onWritten(this.current.firstId, this.current.bytes, this.#writtenId);
  }

  /** fdatasyncs what was written (and the directory after a rollover). */
  async sync(): Promise<void> {
    const fds = [this.#fd, ...this.#unsynced];
    const rolled = this.#unsynced;
    this.#unsynced = [];
    await Promise.all(
      fds.map((fd) => new Promise<void>((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())))),
    );
    for (const fd of rolled) fs.closeSync(fd);
    if (this.#directoryDirty) {
      this.#directoryDirty = false;
      const dir = fs.openSync(this.#options.directory, 'r');
      try {
        fs.fsyncSync(dir);
      } finally {
        fs.closeSync(dir);
      }
    }
  }

  /** Removes the oldest `count` segments from the list and deletes their files (never the current one). */
  deleteOldest(count: number): JournalSegment[] {
    const removed = this.segments.splice(0, Math.min(count, this.segments.length - 1));
    for (const s of removed) fs.rmSync(s.path, { force: true });
    return removed;
  }

  /** Flushes and closes the current segment. */
  close(): void {
    if (this.#fd < 0) return;
    this.#drain(Number.POSITIVE_INFINITY);
    this.flush();
    for (const fd of this.#unsynced) fs.closeSync(fd);
    this.#unsynced = [];
    fs.closeSync(this.#fd);
    this.#fd = -1;
  }

  #rolloverDue(): boolean {
    const segment = this.current;
    if (segment.bytes <= SEGMENT_HEADER_BYTES) return false;
    return segment.bytes >= this.#options.rolloverBytes || Date.now() - this.#segmentCreated >= this.#options.rolloverMs;
  }

  #roll(): void {
    if (this.#options.power) this.#unsynced.push(this.#fd);
    else fs.closeSync(this.#fd);
    this.#fd = -1;
    // The pending frames start right after what was written, so the new segment is named after that id.
    this.#create(this.#writtenId + 1);
  }

  #create(firstId: number): void {
    const file = path.join(this.#options.directory, segmentFileName(firstId));
    this.#fd = fs.openSync(file, 'w+');
    writeFully(this.#fd, segmentHeader(), SEGMENT_HEADER_BYTES, 0);
    this.segments.push({ firstId, path: file, bytes: SEGMENT_HEADER_BYTES });
    this.#segmentCreated = Date.now();
    this.#directoryDirty = true;
  }

  #beginFrame(): void {
    const out = this.#pending;
    out.ensure(FRAME_HEADER_BYTES);
    this.#frameStart = out.length;
    this.#frameFirstId = this.#encodeId;
    this.#frameCount = 0;
    out.length += FRAME_HEADER_BYTES;
  }

  #endFrame(): void {
    const start = this.#frameStart;
    if (start < 0) return;
    this.#frameStart = -1;
    const out = this.#pending;
    if (this.#frameCount === 0) {
      out.length = start;
      return;
    }
    const v = out.view;
    v.setUint32(start, out.length - start - FRAME_PREFIX_BYTES, true);
    v.setFloat64(start + 8, this.#frameFirstId, true);
    v.setUint32(start + 16, this.#frameCount, true);
    v.setUint32(start + 20, 0, true);
    v.setUint32(start + 4, crc32(out.buf.subarray(start + FRAME_PREFIX_BYTES, out.length)), true);
  }
}

/**
 * Positional reads of single records from segment files, for queries. Keeps a few descriptors open.
 */
export class SegmentFiles {
  readonly #segments: readonly JournalSegment[];
  readonly #fds = new Map<number, number>();
  #scratch = Buffer.allocUnsafe(64 * 1024);

  constructor(segments: readonly JournalSegment[]) {
    this.#segments = segments;
  }

  /** The segment holding an event id, if retained. */
  segmentOf(eventId: number): JournalSegment | undefined {
    const list = this.#segments;
    let lo = 0;
    let hi = list.length - 1;
    let found: JournalSegment | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = list[mid];
      if (s === undefined) break;
      if (s.firstId <= eventId) {
        found = s;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * Reads `len` bytes at `off` of the segment holding `eventId` into a scratch buffer (valid until
   * the next read). Undefined when the segment is gone (deleted by retention meanwhile).
   */
  read(eventId: number, off: number, len: number): Buffer | undefined {
    const segment = this.segmentOf(eventId);
    if (segment === undefined || off + len > segment.bytes) return undefined;
    const fd = this.#fd(segment);
    if (fd === undefined) return undefined;
    if (len > this.#scratch.length) this.#scratch = Buffer.allocUnsafe(Math.max(len, this.#scratch.length * 2));
    let got = 0;
    while (got < len) {
      const r = fs.readSync(fd, this.#scratch, got, len - got, off + got);
      if (r === 0) return undefined;
      got += r;
    }
    return this.#scratch;
  }

  /** Closes the descriptor of a deleted segment. */
  forget(firstId: number): void {
    const fd = this.#fds.get(firstId);
    if (fd === undefined) return;
    this.#fds.delete(firstId);
    fs.closeSync(fd);
  }

  close(): void {
    for (const fd of this.#fds.values()) fs.closeSync(fd);
    this.#fds.clear();
  }

  #fd(segment: JournalSegment): number | undefined {
    let fd = this.#fds.get(segment.firstId);
    if (fd !== undefined) return fd;
    try {
      fd = fs.openSync(segment.path, 'r');
    } catch {
      return undefined;
    }
    if (this.#fds.size >= 32) {
      const [oldest] = this.#fds.keys();
      if (oldest !== undefined) this.forget(oldest);
    }
    this.#fds.set(segment.firstId, fd);
    return fd;
  }
}
