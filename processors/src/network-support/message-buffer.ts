/** One message received from the network (a datagram, or a frame of a TCP stream). */
export interface ReceivedMessage {
  readonly data: Buffer;
  readonly sender: string;
  readonly senderPort: number;
  readonly protocol: 'UDP' | 'TCP';
  /** Set when the message had to be cut to the maximum size (the rest was discarded). */
  readonly truncatedFrom?: number;
}

/**
 * The bounded in-memory hand-over between socket callbacks and processor triggers. UDP has no way
 * to slow a sender down, so datagrams arriving while it is full are dropped and counted; TCP
 * senders are paused instead (see `full`), so nothing is lost.
 */
export class MessageBuffer {
  readonly capacity: number;
  #items: ReceivedMessage[] = [];
  #head = 0;
  #dropped = 0;
  #droppedTotal = 0;
  readonly #spaceListeners = new Set<() => void>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get full(): boolean {
    return this.size >= this.capacity;
  }

  /** Adds a message unless the buffer is full; returns whether it was kept (a drop is counted). */
  offer(message: ReceivedMessage): boolean {
    if (this.full) {
      this.#dropped++;
      this.#droppedTotal++;
      return false;
    }
    this.#items.push(message);
    return true;
  }

  /** Adds a message even when full (TCP: the sender is paused right after, so the overshoot is bounded). */
  push(message: ReceivedMessage): void {
    this.#items.push(message);
  }

  /** Takes up to `max` messages, oldest first. */
  take(max: number): ReceivedMessage[] {
    const end = Math.min(this.#items.length, this.#head + max);
    const out = this.#items.slice(this.#head, end);
    this.#head = end;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    if (out.length > 0 && this.size < this.capacity / 2) for (const listener of [...this.#spaceListeners]) listener();
    return out;
  }

  /** The drops since the last call (for counters and warnings). */
  takeDropped(): number {
    const n = this.#dropped;
    this.#dropped = 0;
    return n;
  }

  /** Every drop since the buffer was created. */
  get droppedTotal(): number {
    return this.#droppedTotal;
  }

  /** Calls `listener` whenever a take leaves the buffer less than half full (resume paused senders). */
  onSpace(listener: () => void): void {
    this.#spaceListeners.add(listener);
  }

  /** Empties the buffer (the processor stopped: what was not taken is lost, as in NiFi). */
  clear(): number {
    const n = this.size;
    this.#items = [];
    this.#head = 0;
    return n;
  }
}

/** Groups messages by sender, in arrival order, into batches of at most `size`. */
export function batches(messages: readonly ReceivedMessage[], size: number): ReceivedMessage[][] {
  if (size <= 1) return messages.map((m) => [m]);
  const open = new Map<string, ReceivedMessage[]>();
  const out: ReceivedMessage[][] = [];
  for (const message of messages) {
    const key = `${message.sender}|${message.senderPort}`;
    let batch = open.get(key);
    if (batch === undefined) {
      batch = [];
      open.set(key, batch);
      out.push(batch);
    }
    batch.push(message);
    if (batch.length >= size) open.delete(key);
  }
  return out;
}
