import { crc32 } from 'node:zlib';
import type { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { ByteReader } from './byte-codec.ts';
import { FRAME_HEADER_BYTES, FrameWriter, MAGIC_BYTES, SWAP_MAGIC } from './frame-codec.ts';
import { readFlowFile, Str16Cache, toFlowFileRecord, writeFlowFile } from './record-codec.ts';
import type { SwapRef } from './types.ts';

/**
 * A swap file: `SLUICEW1`, then one frame whose payload is str16 queueId, u32 count, then that many
 * FlowFiles in the journal's binary form (see writeFlowFile).
 */
export function encodeSwapFile(queueId: string, flowFiles: readonly FlowFileRecord[]): Buffer {
  const w = new FrameWriter(1 << 20);
  w.ensure(8 + 3 * queueId.length);
  w.str16(queueId);
  w.u32(flowFiles.length);
  const resources = new Str16Cache();
  for (const ff of flowFiles) writeFlowFile(w, ff, resources);
  return Buffer.concat([SWAP_MAGIC, w.finish()]);
}

/** The reference of a swap file holding these FlowFiles: counts, bytes and content claimants. */
export function describeSwap(file: string, queueId: string, flowFiles: readonly FlowFileRecord[]): SwapRef {
  let bytes = 0;
  const counts = new Map<string, number>();
  for (const ff of flowFiles) {
    bytes += ff.size;
    const claim = ff.claim;
    if (claim !== null) counts.set(claim.resourceId, (counts.get(claim.resourceId) ?? 0) + 1);
  }
  return { file, queueId, count: flowFiles.length, bytes, resourceCounts: Array.from(counts) };
}

/**
 * Decodes a swap file read from `path` and checks it against its reference.
 * @throws {Error} naming the file when it is truncated, corrupt or does not match `swap`.
 */
export function decodeSwapFile(path: string, data: Buffer, swap: SwapRef): FlowFileRecord[] {
  const fail = (why: string): Error => new Error(`swap file ${path} is corrupt: ${why}`);
  if (data.length < MAGIC_BYTES + FRAME_HEADER_BYTES || !data.subarray(0, MAGIC_BYTES).equals(SWAP_MAGIC)) {
    throw fail('bad header');
  }
  const length = data.readUInt32LE(MAGIC_BYTES);
  const crc = data.readUInt32LE(MAGIC_BYTES + 4);
  const start = MAGIC_BYTES + FRAME_HEADER_BYTES;
  if (start + length !== data.length) throw fail(`frame length ${length} does not match the file size ${data.length}`);
  if (crc32(data.subarray(start)) !== crc) throw fail('CRC mismatch');
  const out: FlowFileRecord[] = [];
  try {
    const r = new ByteReader(data, start);
    const queueId = r.str16();
    if (queueId !== swap.queueId) throw new Error(`holds queue ${queueId}, expected ${swap.queueId}`);
    const count = r.u32();
    if (count !== swap.count) throw new Error(`holds ${count} FlowFiles, expected ${swap.count}`);
    for (let i = 0; i < count; i++) out.push(toFlowFileRecord(readFlowFile(r)));
    if (!r.done) throw new Error('trailing bytes');
  } catch (error) {
    throw fail(error instanceof Error ? error.message : String(error));
  }
  return out;
}
