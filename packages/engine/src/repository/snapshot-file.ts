import { closeSync, fsyncSync, openSync, readSync, renameSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { isObject, own } from '../util/parse.ts';
import { ByteReader } from './byte-codec.ts';
import { FrameReader, FrameWriter, MAGIC_BYTES, SNAPSHOT_MAGIC } from './frame-codec.ts';
import { type DecodedFlowFile, decodeSwapRef, encodeSwapRef, readFlowFile, Str16Cache, writeFlowFile } from './record-codec.ts';
import type { SwapRef } from './types.ts';

/** A queue's committed state as captured (synchronously) at the checkpoint's rotation point. */
export interface CapturedQueue {
  readonly queueId: string;
  readonly flowFiles: readonly FlowFileRecord[];
  readonly swaps: readonly SwapRef[];
}

/** Receives what a snapshot holds, queue by queue, in file order. */
export interface SnapshotVisitor {
  queue(queueId: string, swaps: readonly SwapRef[]): void;
  /** FlowFiles of a queue, in the queue's order (attributes not parsed yet). */
  records(queueId: string, records: readonly DecodedFlowFile[]): void;
}

const TAG_HEADER = 0x48; // 'H'
const TAG_QUEUE = 0x51; // 'Q'
const TAG_RECORDS = 0x52; // 'R'
const TAG_END = 0x45; // 'E'
/** A records frame is closed once it passes this size. */
const CHUNK_BYTES = 1 << 20;

/**
 * Writes a snapshot: `SLUICES1`, then frames, each starting with a tag byte:
 *   'H' text32 {"v":1,"seq":<last transaction covered>,"at":<epoch ms>}
 *   'Q' str16 queueId, text32 JSON [<swap ref>, ...]      one per queue, before its records
 *   'R' str16 queueId, u32 count, FlowFiles (as in the journal)  chunks of about 1 MiB
 *   'E' f64 records, u32 queues                           end marker: without it the file is incomplete
 * into `partialPath`, fsyncs it, renames it to `finalPath` and fsyncs the directory. Chunks are
 * awaited one by one, so a large snapshot does not block the event loop.
 * @returns the number of FlowFile records written.
 */
export async function writeSnapshot(
  partialPath: string,
  finalPath: string,
  directory: string,
  seq: number,
  queues: readonly CapturedQueue[],
): Promise<number> {
  const handle = await open(partialPath, 'w');
  let records = 0;
  try {
    const w = new FrameWriter(CHUNK_BYTES + (1 << 16));
    const resources = new Str16Cache();
    const header = JSON.stringify({ v: 1, seq, at: Date.now() });
    w.ensure(5 + 3 * header.length);
    w.u8(TAG_HEADER);
    w.text32(header);
    await handle.write(Buffer.concat([SNAPSHOT_MAGIC, w.finish()]));
    for (const queue of queues) {
      const swaps = `[${queue.swaps.map(encodeSwapRef).join(',')}]`;
      w.reset();
      w.ensure(8 + 3 * (queue.queueId.length + swaps.length));
      w.u8(TAG_QUEUE);
      w.str16(queue.queueId);
      w.text32(swaps);
      await handle.write(w.finish());
      let i = 0;
      while (i < queue.flowFiles.length) {
        w.reset();
        w.ensure(8 + 3 * queue.queueId.length);
        w.u8(TAG_RECORDS);
        w.str16(queue.queueId);
        const countAt = w.pos;
        w.u32(0);
        let count = 0;
        for (; i < queue.flowFiles.length && w.pos < CHUNK_BYTES; i++, count++) {
          const ff = queue.flowFiles[i];
          if (ff !== undefined) writeFlowFile(w, ff, resources);
        }
        w.buf.writeUInt32LE(count, countAt);
        records += count;
        await handle.write(w.finish());
      }
    }
    w.reset();
    w.ensure(13);
    w.u8(TAG_END);
    w.f64(records);
    w.u32(queues.length);
    await handle.write(w.finish());
    await handle.sync();
  } finally {
    await handle.close();
  }
  renameSync(partialPath, finalPath);
  syncDirectory(directory);
  return records;
}

/**
 * Reads a complete snapshot.
 * @returns the last transaction seq it covers and its number of FlowFile records.
 * @throws {Error} naming the file when it is truncated or corrupt (a checkpoint only renames a
 *   complete, fsynced file, so this means the disk lost or changed data).
 */
export function readSnapshot(path: string, visitor: SnapshotVisitor): { seq: number; records: number } {
  const fd = openSync(path, 'r');
  const fail = (why: string): Error => new Error(`FlowFile repository snapshot ${path} is corrupt: ${why}`);
  try {
    const magic = Buffer.alloc(MAGIC_BYTES);
    if (readSync(fd, magic, 0, MAGIC_BYTES, 0) !== MAGIC_BYTES || !magic.equals(SNAPSHOT_MAGIC)) throw fail('bad header');
    const reader = new FrameReader(fd, MAGIC_BYTES);
    let seq = -1;
    let records = 0;
    for (;;) {
      const payload = reader.next();
      if (payload === undefined) throw fail(reader.problem ?? 'no end marker');
      try {
        const r = new ByteReader(payload);
        const tag = r.u8();
        if (tag === TAG_HEADER) {
          const header: unknown = JSON.parse(r.text32());
          const value = isObject(header) ? own(header, 'seq') : undefined;
          if (!isObject(header) || own(header, 'v') !== 1 || typeof value !== 'number') throw new Error('bad header frame');
          seq = value;
        } else if (seq < 0) {
          throw new Error('header frame missing');
        } else if (tag === TAG_QUEUE) {
          const queueId = r.str16();
          const swaps: unknown = JSON.parse(r.text32());
          if (!Array.isArray(swaps)) throw new Error('swap refs are not an array');
          visitor.queue(queueId, swaps.map(decodeSwapRef));
        } else if (tag === TAG_RECORDS) {
          const queueId = r.str16();
          const count = r.u32();
          const decoded: DecodedFlowFile[] = [];
          for (let i = 0; i < count; i++) decoded.push(readFlowFile(r));
          records += count;
          visitor.records(queueId, decoded);
        } else if (tag === TAG_END) {
          const total = r.f64();
          if (total !== records) throw new Error(`end marker counts ${total} records, read ${records}`);
          return { seq, records };
        } else {
          throw new Error(`unknown frame tag ${tag}`);
        }
      } catch (error) {
        throw fail(error instanceof Error ? error.message : String(error));
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Makes a directory's entries (created, renamed files) durable. */
export function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
