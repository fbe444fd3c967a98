/**
 * FlowFiles <-> Site-to-Site data packets, shared by both ends of a transfer: the server's port
 * backends and the Remote Process Group's ports.
 */
import type { FlowFile, ProcessSession } from '@sluice/api';
import { adoptFlowFile } from '@sluice/engine';
import type { DataPacket, ReceivedDataPacket } from '@sluice/site-to-site';

/** Content up to this size is gathered in memory and written in one call; larger is streamed. */
const GATHER_BYTES = 64 * 1024;
/** Content up to this size is read in one call when sent; larger is streamed. */
const READ_WHOLE_BYTES = 64 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function gather(content: AsyncIterable<Uint8Array>, size: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of content) chunks.push(chunk);
  return chunks.length === 1 && chunks[0] !== undefined ? Buffer.from(chunks[0]) : Buffer.concat(chunks, size);
}

/**
 * FlowFiles this process is pushing right now: uuid -> the sending component. A Remote Process
 * Group pointed at its own instance must not make a second live FlowFile with the same uuid.
 */
const sending = new Map<string, string>();

/** Forgets FlowFiles {@link takePackets} marked as being sent (the transfer ended, either way). */
export function doneSending(flowFiles: readonly FlowFile[]): void {
  for (const flowFile of flowFiles) sending.delete(flowFile.uuid);
}

/**
 * Decides whether a received FlowFile may keep its sender's uuid: not when this instance already
 * has a FlowFile with it, as far as cheaply known: one it received recently (a delivery repeated
 * after a lost confirm) or one it is sending itself. Two live FlowFiles with one uuid would confuse
 * queues and the repository, so such a FlowFile gets a new uuid (its RECEIVE event still names the
 * sender's).
 */
export class UuidGuard {
  readonly #recent = new Set<string>();
  readonly #isLocalComponent: (componentId: string) => boolean;
  readonly #capacity: number;

  constructor(isLocalComponent: (componentId: string) => boolean, capacity = 100_000) {
    this.#isLocalComponent = isLocalComponent;
    this.#capacity = capacity;
  }

  /** Whether a FlowFile received with `uuid` may keep it. */
  mayKeep(uuid: string): boolean {
    if (this.#recent.has(uuid)) return false;
    const sender = sending.get(uuid);
    return sender === undefined || !this.#isLocalComponent(sender);
  }

  /** Remembers committed FlowFiles (the oldest are forgotten past the capacity). */
  remember(staged: Iterable<Staged>): void {
    for (const one of staged) {
      this.#recent.add(one.flowFile.uuid);
      if (this.#recent.size > this.#capacity) {
        const oldest = this.#recent.values().next();
        if (oldest.done !== true) this.#recent.delete(oldest.value);
      }
    }
  }
}

/** A FlowFile staged from a received packet, and the uuid its sender gave it. */
export interface Staged {
  readonly flowFile: FlowFile;
  readonly sentUuid: string | undefined;
}

/**
 * Stages one received packet in `session`: a FlowFile keeping the sender's uuid (a new one when the
 * packet has none, or `guard` or this session already knows it), with the packet's content and attributes,
 * routed to `relationship`. Nothing is visible until the session commits. Report it with
 * {@link reportReceived}.
 */
export async function stageReceived(
  session: ProcessSession,
  packet: ReceivedDataPacket,
  relationship: string,
  guard: UuidGuard,
): Promise<Staged> {
  const sentUuid = packet.attributes.get('uuid');
  const keep = sentUuid !== undefined && UUID.test(sentUuid) ? sentUuid.toLowerCase() : undefined;
  let flowFile: FlowFile;
  try {
    flowFile = keep !== undefined && guard.mayKeep(keep) ? adoptFlowFile(session, keep) : session.create();
  } catch {
    flowFile = session.create(); // the same uuid twice in one transfer
  }
  if (packet.size > 0) {
    flowFile =
      packet.size <= GATHER_BYTES
        ? session.write(flowFile, await gather(packet.content, packet.size))
        : await session.writeStream(flowFile, packet.content);
  }
  flowFile = session.putAllAttributes(flowFile, packet.attributes);
  session.transfer(flowFile, relationship);
  return { flowFile, sentUuid };
}

/** The RECEIVE event of a staged FlowFile, naming the sender's uuid as NiFi does (`urn:nifi:<uuid>`). */
export function reportReceived(session: ProcessSession, staged: Staged, transitUri: string, details?: string): void {
  session.provenance.receive(staged.flowFile, transitUri, {
    ...(staged.sentUuid === undefined ? {} : { sourceSystemFlowFileId: `urn:nifi:${staged.sentUuid}` }),
    ...(details === undefined ? {} : { details }),
  });
}

/** A data packet for a FlowFile the session holds; its content is read when the packet is sent. */
export function toDataPacket(session: ProcessSession, flowFile: FlowFile): DataPacket {
  const size = flowFile.size;
  return {
    attributes: flowFile.attributes,
    size,
    content: size === 0 ? new Uint8Array(0) : size <= READ_WHOLE_BYTES ? session.read(flowFile) : lazyStream(session, flowFile),
  };
}

async function* lazyStream(session: ProcessSession, flowFile: FlowFile): AsyncGenerator<Uint8Array> {
  for await (const chunk of session.readStream(flowFile)) yield chunk instanceof Uint8Array ? chunk : Buffer.from(String(chunk));
}

/** Limits of one batch taken from queues. */
export interface BatchLimits {
  readonly maxCount: number;
  readonly maxBytes: number;
  readonly maxDurationMs: number;
}

/**
 * Takes FlowFiles from the session's queues as the packets are consumed, until a limit is reached
 * or nothing is queued: a transfer streams while data keeps coming, for at most `maxDurationMs`.
 * Everything taken is pushed onto `taken` (for the commit or the rollback). With `sender`, they
 * count as being sent by that component until {@link doneSending}.
 */
export function* takePackets(
  session: ProcessSession,
  limits: BatchLimits,
  taken: FlowFile[],
  sender?: string,
): Generator<DataPacket> {
  const started = performance.now();
  let bytes = 0;
  for (;;) {
    const room = limits.maxCount - taken.length;
    if (room <= 0) return;
    const batch = session.getBatch(Math.min(room, 1000), (flowFile) => {
      const accept = bytes === 0 || bytes + flowFile.size <= limits.maxBytes;
      if (accept) bytes += flowFile.size;
      return { accept, continue: accept && bytes < limits.maxBytes };
    });
    if (batch.length === 0) return;
    for (const flowFile of batch) {
      taken.push(flowFile);
      if (sender !== undefined) sending.set(flowFile.uuid, sender);
      yield toDataPacket(session, flowFile);
    }
    if (bytes >= limits.maxBytes || performance.now() - started >= limits.maxDurationMs) return;
  }
}
