/**
 * FlowFiles <-> Site-to-Site data packets, shared by both ends of a transfer: the server's port
 * backends and the Remote Process Group's ports.
 */
import type { FlowFile, ProcessSession } from '@sluice/api';
import { adoptFlowFile, readContents, writeContents } from '@sluice/engine';
import { type DataPacket, type ReceivedDataPacket, takeBufferedContent } from '@sluice/site-to-site';

/** Content up to this size is gathered in memory and written in one call; larger is streamed. */
const GATHER_BYTES = 64 * 1024;
/** Content up to this size is read in one call when sent; larger is streamed. */
const READ_WHOLE_BYTES = 1024 * 1024;
/**
 * Received contents up to this size are staged together and written with one write once they add
 * up to WRITE_BATCH_BYTES (the engine's writers keep up to 64 KiB in memory before a file of their own).
 */
const SMALL_BYTES = 16 * 1024;
const WRITE_BATCH_BYTES = 64 * 1024;

/** At most this many FlowFiles, and about this many bytes, are taken from the queues at a time. */
const TAKE_COUNT = 1000;
const TAKE_BYTES = 1024 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function gather(packet: ReceivedDataPacket): Promise<Buffer> {
  const whole = takeBufferedContent(packet);
  if (whole !== undefined) return whole;
  const chunks: Uint8Array[] = [];
  for await (const chunk of packet.content) chunks.push(chunk);
  const only = chunks.length === 1 ? chunks[0] : undefined;
  // Written before the next packet is read: no copy needed for a single chunk.
  return only !== undefined ? Buffer.from(only.buffer, only.byteOffset, only.byteLength) : Buffer.concat(chunks, packet.size);
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
  /** The remembered uuids in the order they came, as a ring: the oldest is forgotten first. */
  readonly #order: string[] = [];
  #next = 0;
  readonly #isLocalComponent: (componentId: string) => boolean;
  readonly #capacity: number;

  constructor(isLocalComponent: (componentId: string) => boolean, capacity = 100_000) {
    this.#isLocalComponent = isLocalComponent;
    this.#capacity = Math.max(1, capacity);
  }

  /** Whether a FlowFile received with `uuid` may keep it. */
  mayKeep(uuid: string): boolean {
    if (this.#recent.has(uuid)) return false;
    if (sending.size === 0) return true;
    const sender = sending.get(uuid);
    return sender === undefined || !this.#isLocalComponent(sender);
  }

  /** Remembers committed FlowFiles (the oldest are forgotten past the capacity). */
  remember(staged: Iterable<Staged>): void {
    for (const one of staged) {
      const uuid = one.flowFile.uuid;
      if (this.#recent.has(uuid)) continue;
      if (this.#order.length < this.#capacity) this.#order.push(uuid);
      else {
        const oldest = this.#order[this.#next];
        if (oldest !== undefined) this.#recent.delete(oldest);
        this.#order[this.#next] = uuid;
        this.#next = (this.#next + 1) % this.#capacity;
      }
      this.#recent.add(uuid);
    }
  }
}

/** A FlowFile staged from a received packet, and the uuid its sender gave it. */
export interface Staged {
  readonly flowFile: FlowFile;
  readonly sentUuid: string | undefined;
}

/**
 * Stages received packets in `session`, in order: each becomes a FlowFile keeping the sender's uuid
 * (a new one when the packet has none, or `guard` or this session already knows it), with the
 * packet's content and attributes, routed to `relationship`. Small contents are held back and
 * written several at a time: call {@link flush} after the last packet; {@link staged} then holds
 * every FlowFile. Nothing is visible until the session commits. Report them with
 * {@link reportReceived}.
 */
export class Stager {
  readonly staged: Staged[] = [];
  readonly #session: ProcessSession;
  readonly #relationship: string;
  readonly #guard: UuidGuard;
  #pending: { flowFile: FlowFile; sentUuid: string | undefined; attributes: Map<string, string> }[] = [];
  #contents: Uint8Array[] = [];
  #pendingBytes = 0;

  constructor(session: ProcessSession, relationship: string, guard: UuidGuard) {
    this.#session = session;
    this.#relationship = relationship;
    this.#guard = guard;
  }

  /**
   * Stages one packet, reading its content: synchronously (undefined) when the content is small
   * and already at hand, else a promise to await before the next packet.
   */
  add(packet: ReceivedDataPacket): Promise<void> | undefined {
    const session = this.#session;
    const sentUuid = packet.attributes.get('uuid');
    const keep = sentUuid !== undefined && UUID.test(sentUuid) ? sentUuid.toLowerCase() : undefined;
    let flowFile: FlowFile;
    try {
      flowFile = keep !== undefined && this.#guard.mayKeep(keep) ? adoptFlowFile(session, keep) : session.create();
    } catch {
      flowFile = session.create(); // the same uuid twice in one transfer
    }
    if (packet.size <= SMALL_BYTES) {
      const whole = packet.size === 0 ? Buffer.alloc(0) : takeBufferedContent(packet);
      if (whole !== undefined) {
        this.#holdBack(flowFile, sentUuid, packet.attributes, whole);
        return undefined;
      }
      return gather(packet).then((content) => this.#holdBack(flowFile, sentUuid, packet.attributes, content));
    }
    return this.#addLarge(flowFile, sentUuid, packet);
  }

  #holdBack(flowFile: FlowFile, sentUuid: string | undefined, attributes: Map<string, string>, content: Uint8Array): void {
    this.#pending.push({ flowFile, sentUuid, attributes });
    this.#contents.push(content);
    this.#pendingBytes += content.byteLength;
    if (this.#pendingBytes >= WRITE_BATCH_BYTES - SMALL_BYTES) this.flush();
  }

  async #addLarge(flowFile: FlowFile, sentUuid: string | undefined, packet: ReceivedDataPacket): Promise<void> {
    this.flush();
    const session = this.#session;
    const written =
      packet.size <= GATHER_BYTES
        ? session.write(flowFile, await gather(packet))
        : await session.writeStream(flowFile, packet.content);
    this.#finish(written, sentUuid, packet.attributes);
  }

  /** Writes the contents held back. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const pending = this.#pending;
    const contents = this.#contents;
    this.#pending = [];
    this.#contents = [];
    this.#pendingBytes = 0;
    // Empty contents stay without a claim, as a FlowFile that was never written.
    const filled = pending.filter((_, i) => (contents[i]?.byteLength ?? 0) > 0);
    const written = writeContents(
      this.#session,
      filled.map((p) => p.flowFile),
      contents.filter((content) => content.byteLength > 0),
    );
    let w = 0;
    for (const p of pending) {
      const flowFile = filled[w] === p ? written[w++] : p.flowFile;
      if (flowFile !== undefined) this.#finish(flowFile, p.sentUuid, p.attributes);
    }
  }

  #finish(flowFile: FlowFile, sentUuid: string | undefined, attributes: Map<string, string>): void {
    const updated = this.#session.putAllAttributes(flowFile, attributes);
    this.#session.transfer(updated, this.#relationship);
    this.staged.push({ flowFile: updated, sentUuid });
  }
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
    // Taken a little at a time (at most TAKE_BYTES per step, time checked between steps), so
    // that concurrent transactions share the queue rather than one taking it all.
    let stepBytes = 0;
    const batch = session.getBatch(Math.min(room, TAKE_COUNT), (flowFile) => {
      const accept = bytes === 0 || bytes + flowFile.size <= limits.maxBytes;
      if (accept) {
        bytes += flowFile.size;
        stepBytes += flowFile.size;
      }
      return { accept, continue: accept && bytes < limits.maxBytes && stepBytes < TAKE_BYTES };
    });
    if (batch.length === 0) return;
    // Contents read together: small FlowFiles written one after another lie back to back.
    const whole = batch.filter((flowFile) => flowFile.size > 0 && flowFile.size <= READ_WHOLE_BYTES);
    const contents = whole.length > 1 ? readContents(session, whole) : undefined;
    let w = 0;
    for (const flowFile of batch) {
      taken.push(flowFile);
      if (sender !== undefined) sending.set(flowFile.uuid, sender);
      if (contents !== undefined && whole[w] === flowFile) {
        yield { attributes: flowFile.attributes, size: flowFile.size, content: contents[w++] ?? session.read(flowFile) };
      } else yield toDataPacket(session, flowFile);
    }
    if (bytes >= limits.maxBytes || performance.now() - started >= limits.maxDurationMs) return;
  }
}
