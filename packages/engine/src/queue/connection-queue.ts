import type { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import type { QueueSnapshot, SwapRef } from '../repository/types.ts';
import { BinaryHeap } from './binary-heap.ts';
import { byPenalty, bySeq, type EntryComparator, orderingFor, QueueEntry, setPriorityKey } from './prioritizers.ts';
import { RingDeque } from './ring-deque.ts';
import type { QueueListener, QueueListingEntry, QueueSettings, QueueSize, SwapManager } from './types.ts';

/** NiFi's `nifi.queue.swap.threshold`. */
export const DEFAULT_SWAP_THRESHOLD = 20_000;
/** NiFi's swap file size (`MAX_SWAP_RECORD_POLL_SIZE`). */
export const DEFAULT_SWAP_BATCH_SIZE = 10_000;

/** What a {@link ConnectionQueue} is built with besides its settings. */
export interface ConnectionQueueOptions {
  /** Where batches go when the queue holds more than `swapThreshold` FlowFiles in memory. */
  readonly swap: SwapManager;
  readonly listener?: QueueListener;
  /** FlowFiles queued in memory before new arrivals go to swap (20,000). */
  readonly swapThreshold?: number;
  /** FlowFiles per swap file (10,000). */
  readonly swapBatchSize?: number;
  /** Clock for penalties, expiration and queue dates (Date.now); tests pass their own. */
  readonly now?: () => number;
  /**
   * Receives FlowFiles that `poll`/`pollBatch` found expired and removed, synchronously before the
   * poll returns (one call per poll), so the engine can write EXPIRE events and delete records.
   * Without it they are held, still counted in {@link ConnectionQueue.snapshot}, and handed out by
   * the next {@link ConnectionQueue.expire}.
   */
  readonly onExpired?: (flowFiles: FlowFileRecord[]) => void;
}

/** A `pollBatch` filter's verdict on one FlowFile (NiFi's FlowFileFilter results). */
export interface PollFilterResult {
  /** Take this FlowFile; otherwise it stays queued where it was. */
  readonly accept: boolean;
  /** Look at the next FlowFile; otherwise stop after this one. */
  readonly continue: boolean;
}

/** Chooses FlowFiles during {@link ConnectionQueue.pollBatch}. */
export type PollFilter = (flowFile: FlowFileRecord) => PollFilterResult;

/** What one {@link ConnectionQueue.drop} call removed. */
export interface DropResult {
  /** FlowFiles that were queued in memory (eligible, penalized, or waiting to be swapped out). */
  readonly active: FlowFileRecord[];
  /** Whole swap files, already discarded through the swap manager. */
  readonly swapped: { readonly swap: SwapRef; readonly flowFiles: FlowFileRecord[] }[];
}

/** A swap file as the queue tracks it (what it counted in, not what the file claims). */
interface SwapBatch {
  readonly ref: SwapRef;
  readonly count: number;
  readonly bytes: number;
  /** Arrival of the batch's first FlowFile: swap files keep FlowFiles, not their queue dates. */
  readonly enqueuedAt: number;
}

/**
 * The queue of one connection: where FlowFiles wait between two components. It owns their order
 * (FIFO or a prioritizer chain), penalties, expiration, back-pressure accounting, the FlowFiles
 * taken by running sessions ("in flight") and swapping to keep memory flat under any backlog.
 *
 * Layout: eligible FlowFiles sit in a deque (arrival order; O(1)) plus a heap (prioritized order,
 * or in FIFO mode the few that came back out of order: rollbacks, expired penalties); penalized ones
 * in a heap by expiry; beyond `swapThreshold` arrivals collect in a buffer that is written out in
 * swap files of `swapBatchSize` and read back oldest first. Not thread-safe; nothing needs it to be.
 *
 * @example
 * const q = new ConnectionQueue('c1', settings, { swap: new MemorySwapManager(), listener });
 * q.putAll(committed);
 * const batch = q.pollBatch(100);  // now in flight
 * q.acknowledge(batch);            // the session committed
 */
export class ConnectionQueue {
  readonly id: string;
  readonly #swap: SwapManager;
  readonly #listener: QueueListener | undefined;
  readonly #now: () => number;
  readonly #onExpired: ((flowFiles: FlowFileRecord[]) => void) | undefined;
  readonly #swapThreshold: number;
  readonly #swapBatchSize: number;

  #settings: QueueSettings;
  #maxCount = 0;
  #maxBytes = 0;
  #expirationMs = 0;
  #compare: EntryComparator = bySeq;
  #fifo = true;
  #keyed = false;

  readonly #deque = new RingDeque<QueueEntry>();
  readonly #heap = new BinaryHeap<QueueEntry>(bySeq);
  readonly #penalized = new BinaryHeap<QueueEntry>(byPenalty);
  readonly #inFlight = new Map<string, QueueEntry>();
  /** Arrivals behind the swap line, oldest first; their `seq` is given when they become active. */
  #buffer: QueueEntry[] = [];
  readonly #swapFiles = new RingDeque<SwapBatch>();
  /** FlowFiles in swap files. */
  #swapFileCount = 0;
  /** Everything: in memory, in swap files and in flight. */
  #count = 0;
  #bytes = 0;
  #seq = 0;
  #expiredHeld: FlowFileRecord[] = [];

  /** @throws {RangeError} on invalid settings or swap sizes. */
  constructor(id: string, settings: QueueSettings, options: ConnectionQueueOptions) {
    this.id = id;
    this.#swap = options.swap;
    this.#listener = options.listener;
    this.#now = options.now ?? Date.now;
    this.#onExpired = options.onExpired;
    this.#swapThreshold = positiveInteger('swapThreshold', options.swapThreshold ?? DEFAULT_SWAP_THRESHOLD);
    this.#swapBatchSize = positiveInteger('swapBatchSize', options.swapBatchSize ?? DEFAULT_SWAP_BATCH_SIZE);
    validateSettings(settings);
    this.#settings = settings;
    this.#applySettings(settings);
    this.#heap.reset([], this.#compare);
  }

  get settings(): QueueSettings {
    return this.#settings;
  }

  /** FlowFiles queued in memory (eligible, penalized, and the swap-out buffer); excludes in flight. */
  get inMemoryCount(): number {
    return this.#memSize() + this.#buffer.length;
  }

  /** Swap files this queue holds. */
  get swapFileCount(): number {
    return this.#swapFiles.size;
  }

  /**
   * Enqueues one committed FlowFile (penalized ones wait for their penalty). Back pressure is the
   * caller's business: a full queue still accepts (NiFi's soft limit).
   * @throws whatever `swap.swapOut` throws; the FlowFile is queued regardless (kept in memory).
   */
  put(flowFile: FlowFileRecord): void {
    const now = this.#now();
    if (this.#penalized.size > 0) this.#promote(now);
    const wasFull = this.isFull();
    const hadEligible = this.#eligibleSoon();
    const prevAt = this.#waitingUntil();
    try {
      this.#add(flowFile, now);
      if (this.#buffer.length >= this.#swapBatchSize) this.#flushBuffer(now);
    } finally {
      this.#end(wasFull, hadEligible, prevAt);
    }
  }

  /** {@link put} for many, with one listener notification. @throws as {@link put}. */
  putAll(flowFiles: readonly FlowFileRecord[]): void {
    if (flowFiles.length === 0) return;
    const now = this.#now();
    if (this.#penalized.size > 0) this.#promote(now);
    const wasFull = this.isFull();
    const hadEligible = this.#eligibleSoon();
    const prevAt = this.#waitingUntil();
    try {
      for (const ff of flowFiles) this.#add(ff, now);
      if (this.#buffer.length >= this.#swapBatchSize) this.#flushBuffer(now);
    } finally {
      this.#end(wasFull, hadEligible, prevAt);
    }
  }

  /**
   * Takes the first eligible FlowFile in delivery order and holds it in flight until
   * {@link acknowledge} or {@link requeue}. Expired FlowFiles met on the way are removed (see
   * `onExpired`). Returns undefined when nothing is eligible.
   * @throws whatever `swap.swapIn` throws (the swap file stays queued; nothing is taken).
   */
  poll(): FlowFileRecord | undefined {
    const expirationMs = this.#expirationMs;
    const swapping = this.#swapping();
    // Reading the clock is most of a bare poll's cost; skip it when nothing depends on time.
    const now = swapping || expirationMs > 0 || this.#penalized.size > 0 ? this.#now() : 0;
    if (this.#penalized.size > 0) this.#promote(now);
    const wasFull = this.isFull();
    const hadEligible = this.#eligibleSoon();
    const prevAt = this.#waitingUntil();
    let expired: FlowFileRecord[] | undefined;
    let taken: QueueEntry | undefined;
    try {
      if (swapping) this.#refill(now, 0);
      for (;;) {
        const entry = this.#takeActive();
        if (entry === undefined) {
          if (this.#swapping() && this.#refill(now, 0)) continue;
          break;
        }
        if (expirationMs > 0 && now - entry.ff.entryDate > expirationMs) {
          expired = append(expired, this.#forget(entry));
          continue;
        }
        taken = entry;
        break;
      }
      if (taken !== undefined) this.#inFlight.set(taken.ff.uuid, taken);
      if (this.#swapping()) this.#topUp(now);
    } finally {
      if (expired !== undefined) this.#reportExpired(expired);
      this.#end(wasFull, hadEligible, prevAt);
    }
    return taken?.ff;
  }

  /**
   * Takes up to `max` eligible FlowFiles in delivery order (in flight until acknowledged or
   * requeued). With a filter, rejected FlowFiles keep their place; the scan covers what is in memory
   * (as NiFi's), swapping in when the rules below allow. Expired FlowFiles are removed as in {@link poll}.
   * @throws whatever the filter or `swap.swapIn` throws; then nothing is taken.
   */
  pollBatch(max: number, filter?: PollFilter): FlowFileRecord[] {
    const out: FlowFileRecord[] = [];
    const limit = Math.floor(max);
    if (!(limit >= 1)) return out;
    const now = this.#now();
    if (this.#penalized.size > 0) this.#promote(now);
    const wasFull = this.isFull();
    const hadEligible = this.#eligibleSoon();
    const prevAt = this.#waitingUntil();
    const expirationMs = this.#expirationMs;
    const inFlight = this.#inFlight;
    let expired: FlowFileRecord[] | undefined;
    let rejected: QueueEntry[] | undefined;
    let current: QueueEntry | undefined;
    try {
      if (this.#swapping()) this.#refill(now, 0);
      while (out.length < limit) {
        current = this.#takeActive();
        if (current === undefined) {
          if (this.#swapping() && this.#refill(now, rejected === undefined ? 0 : rejected.length)) continue;
          break;
        }
        const ff = current.ff;
        if (expirationMs > 0 && now - ff.entryDate > expirationMs) {
          expired = append(expired, this.#forget(current));
          current = undefined;
          continue;
        }
        if (filter === undefined) {
          inFlight.set(ff.uuid, current);
          out.push(ff);
          current = undefined;
          continue;
        }
        const verdict = filter(ff);
        if (verdict.accept) {
          inFlight.set(ff.uuid, current);
          out.push(ff);
        } else {
          rejected = append(rejected, current);
        }
        current = undefined;
        if (!verdict.continue) break;
      }
    } catch (err) {
      // Undo the takes so a failing filter or swap file cannot strand FlowFiles in flight.
      const back = rejected ?? [];
      if (current !== undefined) back.push(current);
      for (const ff of out) {
        const entry = inFlight.get(ff.uuid);
        if (entry === undefined) continue;
        inFlight.delete(ff.uuid);
        back.push(entry);
      }
      out.length = 0;
      rejected = back;
      throw err;
    } finally {
      if (rejected !== undefined) this.#reinsert(rejected);
      if (this.#swapping()) this.#topUp(now);
      if (expired !== undefined) this.#reportExpired(expired);
      this.#end(wasFull, hadEligible, prevAt);
    }
    return out;
  }

  /**
   * The session that took these FlowFiles committed: they leave the queue (whatever version the
   * session ended with; matched by uuid).
   * @throws {Error} listing uuids that were not in flight here (the others are still acknowledged).
   */
  acknowledge(flowFiles: readonly (FlowFileRecord | string)[]): void {
    const wasFull = this.isFull();
    const inFlight = this.#inFlight;
    let unknown: string[] | undefined;
    for (const item of flowFiles) {
      const uuid = typeof item === 'string' ? item : item.uuid;
      const entry = inFlight.get(uuid);
      if (entry === undefined) {
        unknown = append(unknown, uuid);
        continue;
      }
      inFlight.delete(uuid);
      this.#count--;
      this.#bytes -= entry.ff.size;
    }
    if (wasFull && this.#listener !== undefined && !this.isFull()) this.#listener.spaceAvailable(this.id);
    if (unknown !== undefined) throw notInFlight(this.id, 'acknowledge', unknown);
  }

  /**
   * The session that took these FlowFiles rolled back: these versions (maybe penalized) return to
   * their place in the order (in FIFO, ahead of later arrivals).
   * @throws {Error} listing uuids that were not in flight here (the others are still requeued).
   */
  requeue(flowFiles: readonly FlowFileRecord[]): void {
    const now = this.#now();
    if (this.#penalized.size > 0) this.#promote(now);
    const wasFull = this.isFull();
    const hadEligible = this.#eligibleSoon();
    const prevAt = this.#waitingUntil();
    const inFlight = this.#inFlight;
    let unknown: string[] | undefined;
    try {
      const back: QueueEntry[] = [];
      for (const ff of flowFiles) {
        const entry = inFlight.get(ff.uuid);
        if (entry === undefined) {
          unknown = append(unknown, ff.uuid);
          continue;
        }
        inFlight.delete(ff.uuid);
        this.#bytes += ff.size - entry.ff.size;
        entry.ff = ff;
        if (ff.penaltyExpiration > now) this.#penalized.push(entry);
        else back.push(entry);
      }
      if (back.length > 0) this.#reinsert(back);
    } finally {
      this.#end(wasFull, hadEligible, prevAt);
    }
    if (unknown !== undefined) throw notInFlight(this.id, 'requeue', unknown);
  }

  /** Back pressure: count >= object threshold or bytes >= size threshold (0 disables), in flight and swapped included. */
  isFull(): boolean {
    return (this.#maxCount > 0 && this.#count >= this.#maxCount) || (this.#maxBytes > 0 && this.#bytes >= this.#maxBytes);
  }

  /** Nothing queued (eligible, penalized or swapped); FlowFiles in flight do not count. */
  isEmpty(): boolean {
    return this.#count === this.#inFlight.size;
  }

  /**
   * Whether a poll would return something now (it may swap in to find out). It can say yes when the
   * only candidates have just expired; the poll then removes them and returns undefined.
   */
  hasEligible(): boolean {
    if (this.#penalized.size > 0) this.#promote(this.#now());
    if (this.#activeSize() > 0) return true;
    if (!this.#swapping()) return false;
    try {
      this.#refill(this.#now(), 0);
    } catch {
      // An unreadable swap file: say yes so the poll runs and reports the error to the component.
      return true;
    }
    return this.#activeSize() > 0;
  }

  /** When nothing is eligible but FlowFiles are penalized: the earliest expiry (epoch ms); else undefined. */
  nextEligibleAt(): number | undefined {
    if (this.hasEligible()) return undefined;
    return this.#penalized.peek()?.ff.penaltyExpiration;
  }

  /** Counts and bytes; see {@link QueueSize}. */
  size(): QueueSize {
    if (this.#penalized.size > 0) this.#promote(this.#now());
    return {
      count: this.#count,
      bytes: this.#bytes,
      activeCount: this.#memSize(),
      swappedCount: this.#buffer.length + this.#swapFileCount,
      inFlightCount: this.#inFlight.size,
      penalizedCount: this.#penalized.size,
    };
  }

  /**
   * Removes and returns the queued FlowFiles in memory whose age since entering Sluice exceeds
   * `expirationMs` (swapped ones are checked once swapped in), plus any that polls removed while no
   * `onExpired` callback was set. Does not call `onExpired`.
   */
  expire(): FlowFileRecord[] {
    const out = this.#expiredHeld;
    this.#expiredHeld = [];
    const expirationMs = this.#expirationMs;
    if (expirationMs <= 0 || this.isEmpty()) return out;
    const now = this.#now();
    if (this.#penalized.size > 0) this.#promote(now);
    const wasFull = this.isFull();
    const hadEligible = this.#eligibleSoon();
    const prevAt = this.#waitingUntil();
    const isExpired = (e: QueueEntry): boolean => now - e.ff.entryDate > expirationMs;
    for (const e of this.#deque.removeWhere(isExpired)) out.push(this.#forget(e));
    for (const e of this.#heap.removeWhere(isExpired)) out.push(this.#forget(e));
    for (const e of this.#penalized.removeWhere(isExpired)) out.push(this.#forget(e));
    if (this.#buffer.some(isExpired)) {
      const kept: QueueEntry[] = [];
      for (const e of this.#buffer) {
        if (isExpired(e)) out.push(this.#forget(e));
        else kept.push(e);
      }
      this.#buffer = kept;
    }
    this.#end(wasFull, hadEligible, prevAt);
    return out;
  }

  /**
   * One page of the queue in delivery order (1-based positions): eligible, then penalized, then
   * swap files (read with `swap.peek`) and the swap-out buffer. Any depth; FlowFiles in flight are
   * not listed. @throws whatever `swap.peek` throws.
   */
  list(offset: number, limit: number): QueueListingEntry[] {
    const out: QueueListingEntry[] = [];
    const skip = Math.max(0, Math.floor(offset));
    const want = Math.max(0, Math.floor(limit));
    if (want === 0) return out;
    for (const row of this.#rows(skip)) {
      out.push(row);
      if (out.length >= want) break;
    }
    return out;
  }

  /** The listing row of a queued FlowFile (reads swap files until found); undefined if not queued here. */
  find(uuid: string): QueueListingEntry | undefined {
    for (const row of this.#rows(0)) if (row.flowFile.uuid === uuid) return row;
    return undefined;
  }

  /**
   * "Empty queue", one batch per call: removes up to `max` queued FlowFiles (in memory first, then
   * whole swap files, read with `swap.peek` and dropped with `swap.discard`; a first swap file larger
   * than `max` is still dropped whole). FlowFiles in flight stay. Call until `isEmpty()`.
   * @throws whatever `swap.peek`/`swap.discard` throw when nothing else was dropped in this call.
   */
  drop(max: number): DropResult {
    const active: FlowFileRecord[] = [];
    const swapped: { swap: SwapRef; flowFiles: FlowFileRecord[] }[] = [];
    let budget = Math.floor(max);
    if (!(budget >= 1)) return { active, swapped };
    const wasFull = this.isFull();
    const hadEligible = this.#eligibleSoon();
    const prevAt = this.#waitingUntil();
    while (budget > 0) {
      const e = this.#takeActive() ?? this.#penalized.pop();
      if (e === undefined) break;
      active.push(this.#forget(e));
      budget--;
    }
    if (budget > 0 && this.#buffer.length > 0) {
      const n = Math.min(budget, this.#buffer.length);
      for (let i = 0; i < n; i++) {
        const e = this.#buffer[i];
        if (e !== undefined) active.push(this.#forget(e));
      }
      this.#buffer = n === this.#buffer.length ? [] : this.#buffer.slice(n);
      budget -= n;
    }
    try {
      for (let b = this.#swapFiles.peekFront(); b !== undefined && budget > 0; b = this.#swapFiles.peekFront()) {
        const droppedAny = active.length > 0 || swapped.length > 0;
        if (b.count > budget && droppedAny) break;
        let flowFiles: FlowFileRecord[];
        try {
          flowFiles = this.#swap.peek(b.ref);
          this.#swap.discard(b.ref);
        } catch (err) {
          // Report what was dropped; the failure comes back on the next call, which drops nothing else first.
          if (!droppedAny) throw err;
          break;
        }
        this.#swapFiles.shift();
        this.#swapFileCount -= b.count;
        this.#count -= b.count;
        this.#bytes -= b.bytes;
        swapped.push({ swap: b.ref, flowFiles });
        budget -= Math.max(1, b.count);
      }
    } finally {
      this.#end(wasFull, hadEligible, prevAt);
    }
    return { active, swapped };
  }

  /**
   * The queue's committed FlowFiles for a checkpoint: everything in memory (eligible, penalized,
   * swap-out buffer, expired but not yet handed out) and the original versions of those in flight,
   * in arrival order, plus the swap files oldest first.
   */
  snapshot(): QueueSnapshot {
    const entries: QueueEntry[] = [];
    for (const e of this.#inFlight.values()) entries.push(e);
    for (const e of this.#deque.toArray()) entries.push(e);
    for (const e of this.#heap.toArray()) entries.push(e);
    for (const e of this.#penalized.toArray()) entries.push(e);
    // Mostly presorted runs (deque, in-flight map in take order): TimSort makes this nearly linear.
    entries.sort(bySeq);
    const flowFiles = this.#expiredHeld.slice();
    for (const e of entries) flowFiles.push(e.ff);
    for (const e of this.#buffer) flowFiles.push(e.ff);
    const swaps: SwapRef[] = [];
    for (const b of this.#swapFiles.toArray()) swaps.push(b.ref);
    return { queueId: this.id, flowFiles, swaps };
  }

  /**
   * Loads what recovery found, before first use: the FlowFiles go first (up to `swapThreshold` in
   * memory), then the swap files, then any overflow (written to new swap files).
   * @throws {Error} if the queue already holds FlowFiles; whatever `swap.swapOut` throws.
   */
  restore(flowFiles: readonly FlowFileRecord[], swaps: readonly SwapRef[]): void {
    if (this.#count > 0 || this.#expiredHeld.length > 0) {
      throw new Error(`queue ${this.id}: restore needs an empty queue, it holds ${this.#count} FlowFiles`);
    }
    const now = this.#now();
    for (const ref of swaps) {
      this.#swapFiles.push({ ref, count: ref.count, bytes: ref.bytes, enqueuedAt: now });
      this.#swapFileCount += ref.count;
      this.#count += ref.count;
      this.#bytes += ref.bytes;
    }
    for (const ff of flowFiles) {
      this.#count++;
      this.#bytes += ff.size;
      // The FlowFiles were in memory when the checkpoint ran, so they precede the swap files.
      if (this.#memSize() < this.#swapThreshold) {
        this.#place(new QueueEntry(ff, ++this.#seq, now), now);
      } else {
        this.#buffer.push(new QueueEntry(ff, 0, now));
      }
    }
    try {
      if (this.#buffer.length >= this.#swapBatchSize) this.#flushBuffer(now);
    } finally {
      this.#end(false, false, undefined);
    }
  }

  /**
   * Applies new thresholds, expiration or prioritizers at run time; FlowFiles in memory are
   * re-ordered (swapped ones when they come back).
   * @throws {RangeError} on invalid settings (nothing changes).
   */
  updateSettings(settings: QueueSettings): void {
    validateSettings(settings);
    const now = this.#now();
    if (this.#penalized.size > 0) this.#promote(now);
    const wasFull = this.isFull();
    const hadEligible = this.#eligibleSoon();
    const prevAt = this.#waitingUntil();
    const previous = this.#settings;
    this.#settings = settings;
    this.#applySettings(settings);
    if (!samePrioritizers(previous, settings)) this.#reorder();
    this.#end(wasFull, hadEligible, prevAt);
  }

  #applySettings(settings: QueueSettings): void {
    this.#maxCount = settings.backPressureObjectThreshold;
    this.#maxBytes = settings.backPressureDataSizeThreshold;
    this.#expirationMs = settings.expirationMs;
    const ordering = orderingFor(settings.prioritizers);
    this.#compare = ordering.compare;
    this.#fifo = ordering.fifo;
    this.#keyed = ordering.keyed;
  }

  #reorder(): void {
    const all = this.#deque.toArray();
    for (const e of this.#heap.drain()) all.push(e);
    this.#deque.clear();
    if (this.#keyed) for (const e of all) setPriorityKey(e);
    if (this.#fifo) {
      all.sort(bySeq);
      this.#heap.reset([], this.#compare);
      for (const e of all) this.#deque.push(e);
    } else {
      this.#heap.reset(all, this.#compare);
    }
  }

  #activeSize(): number {
    return this.#deque.size + this.#heap.size;
  }

  #memSize(): number {
    return this.#deque.size + this.#heap.size + this.#penalized.size;
  }

  #swapping(): boolean {
    return this.#buffer.length > 0 || this.#swapFiles.size > 0;
  }

  /**
   * Eligible now, or as soon as a poll swaps in (what `hasEligible` would say, without the I/O):
   * the state listener transitions are computed from.
   */
  #eligibleSoon(): boolean {
    return this.#activeSize() > 0 || this.#canRefill(0);
  }

  /** When nothing is eligible: the earliest penalty expiry, for the `eligibleAt` transition. */
  #waitingUntil(): number | undefined {
    return this.#eligibleSoon() ? undefined : this.#penalized.peek()?.ff.penaltyExpiration;
  }

  #add(ff: FlowFileRecord, now: number): void {
    this.#count++;
    this.#bytes += ff.size;
    // Once anything is behind the swap line, everything new joins it, or FIFO would break.
    if (this.#buffer.length > 0 || this.#swapFiles.size > 0 || this.#memSize() >= this.#swapThreshold) {
      this.#buffer.push(new QueueEntry(ff, 0, now));
      return;
    }
    this.#place(new QueueEntry(ff, ++this.#seq, now), now);
  }

  #place(entry: QueueEntry, now: number): void {
    if (entry.ff.penaltyExpiration > now) this.#penalized.push(entry);
    else this.#pushActive(entry);
  }

  #pushActive(entry: QueueEntry): void {
    if (this.#keyed) setPriorityKey(entry);
    if (!this.#fifo) {
      this.#heap.push(entry);
      return;
    }
    const back = this.#deque.peekBack();
    if (back === undefined || entry.seq > back.seq) this.#deque.push(entry);
    else this.#heap.push(entry);
  }

  /** Entries taken out in this order go back in place (rollbacks, rejected by a filter). */
  #reinsert(entries: QueueEntry[]): void {
    if (!this.#fifo) {
      for (const e of entries) this.#pushActive(e);
      return;
    }
    entries.sort(bySeq);
    const deque = this.#deque;
    const front = deque.peekFront();
    let split = 0;
    if (front === undefined) split = entries.length;
    else while (split < entries.length && (entries[split]?.seq ?? Number.POSITIVE_INFINITY) < front.seq) split++;
    // Older than everything in the deque: back to its front, newest first, keeping it sorted in O(1) each.
    for (let i = split - 1; i >= 0; i--) {
      const e = entries[i];
      if (e !== undefined) deque.unshift(e);
    }
    for (let i = split; i < entries.length; i++) {
      const e = entries[i];
      if (e !== undefined) this.#pushActive(e);
    }
  }

  #takeActive(): QueueEntry | undefined {
    const heap = this.#heap;
    if (heap.size === 0) return this.#deque.shift();
    const fromHeap = heap.peek();
    const fromDeque = this.#deque.peekFront();
    if (fromDeque === undefined || (fromHeap !== undefined && this.#compare(fromHeap, fromDeque) <= 0)) return heap.pop();
    return this.#deque.shift();
  }

  #promote(now: number): void {
    const penalized = this.#penalized;
    for (let top = penalized.peek(); top !== undefined && top.ff.penaltyExpiration <= now; top = penalized.peek()) {
      penalized.pop();
      this.#pushActive(top);
    }
  }

  /**
   * NiFi's swap-in rule: read back (oldest swap file first, else the buffer) once memory holds no
   * more than `threshold - batch`, or nothing is eligible and memory is under the threshold. Memory
   * thus stays under threshold + batch. `held` counts entries a filtered poll has out right now.
   * Returns whether anything came back.
   */
  #refill(now: number, held: number): boolean {
    let moved = false;
    while (this.#canRefill(held)) {
      if (this.#swapFiles.size > 0) this.#swapIn(now);
      else this.#migrateBuffer(now, this.#swapThreshold - this.#memSize() - held);
      moved = true;
    }
    return moved;
  }

  #canRefill(held: number): boolean {
    if (this.#buffer.length === 0 && this.#swapFiles.size === 0) return false;
    const mem = this.#memSize() + held;
    return mem <= this.#swapThreshold - this.#swapBatchSize || (this.#activeSize() + held === 0 && mem < this.#swapThreshold);
  }

  /**
   * Swaps in after a poll so the next one finds FlowFiles in memory (NiFi migrates on poll too).
   * A failure here is left for the next poll to throw: this one already has its FlowFiles.
   */
  #topUp(now: number): void {
    try {
      this.#refill(now, 0);
    } catch {
      // Deliberately ignored; see above.
    }
  }

  #swapIn(now: number): void {
    const batch = this.#swapFiles.shift();
    if (batch === undefined) return;
    let flowFiles: FlowFileRecord[];
    try {
      flowFiles = this.#swap.swapIn(batch.ref);
    } catch (err) {
      this.#swapFiles.unshift(batch);
      throw err;
    }
    this.#swapFileCount -= batch.count;
    let bytes = 0;
    for (const ff of flowFiles) {
      bytes += ff.size;
      this.#place(new QueueEntry(ff, ++this.#seq, batch.enqueuedAt), now);
    }
    // The file is the truth about what it holds.
    this.#count += flowFiles.length - batch.count;
    this.#bytes += bytes - batch.bytes;
  }

  #migrateBuffer(now: number, room: number): void {
    const buffer = this.#buffer;
    const n = Math.min(room, buffer.length);
    const moved = n === buffer.length ? buffer : buffer.slice(0, n);
    this.#buffer = n === buffer.length ? [] : buffer.slice(n);
    for (const e of moved) {
      e.seq = ++this.#seq;
      this.#place(e, now);
    }
  }

  /** Writes every full batch of the buffer to a swap file; the rest stays buffered. */
  #flushBuffer(now: number): void {
    const buffer = this.#buffer;
    const batchSize = this.#swapBatchSize;
    let start = 0;
    try {
      while (buffer.length - start >= batchSize) {
        const flowFiles: FlowFileRecord[] = new Array<FlowFileRecord>(batchSize);
        let bytes = 0;
        let enqueuedAt = now;
        for (let i = 0; i < batchSize; i++) {
          const e = buffer[start + i];
          if (e === undefined) continue;
          if (i === 0) enqueuedAt = e.enqueuedAt;
          flowFiles[i] = e.ff;
          bytes += e.ff.size;
        }
        const ref = this.#swap.swapOut(this.id, flowFiles);
        this.#swapFiles.push({ ref, count: batchSize, bytes, enqueuedAt });
        this.#swapFileCount += batchSize;
        start += batchSize;
      }
    } finally {
      if (start > 0) this.#buffer = start === buffer.length ? [] : buffer.slice(start);
    }
  }

  #forget(entry: QueueEntry): FlowFileRecord {
    this.#count--;
    this.#bytes -= entry.ff.size;
    return entry.ff;
  }

  #reportExpired(flowFiles: FlowFileRecord[]): void {
    if (this.#onExpired !== undefined) this.#onExpired(flowFiles);
    else for (const ff of flowFiles) this.#expiredHeld.push(ff);
  }

  /** Tells the listener about transitions since the state captured at the start of an operation. */
  #end(wasFull: boolean, hadEligible: boolean, prevAt: number | undefined): void {
    const listener = this.#listener;
    if (listener === undefined) return;
    // Read everything before calling out: a listener may re-enter the queue.
    const eligible = this.#eligibleSoon();
    const at = eligible ? undefined : this.#penalized.peek()?.ff.penaltyExpiration;
    const space = wasFull && !this.isFull();
    if (eligible && !hadEligible) listener.dataAvailable(this.id);
    if (at !== undefined && (prevAt === undefined || at < prevAt)) listener.eligibleAt?.(this.id, at);
    if (space) listener.spaceAvailable(this.id);
  }

  *#rows(skip: number): Generator<QueueListingEntry> {
    const now = this.#now();
    if (this.#penalized.size > 0) this.#promote(now);
    let pos = 0;
    const active = this.#activeSize();
    if (skip < pos + active) {
      const sorted = this.#deque.toArray();
      for (const e of this.#heap.toArray()) sorted.push(e);
      sorted.sort(this.#compare);
      for (let i = Math.max(0, skip - pos); i < sorted.length; i++) {
        const e = sorted[i];
        if (e !== undefined) yield row(pos + i + 1, e.ff, e.enqueuedAt, false, false);
      }
    }
    pos += active;
    const penalizedCount = this.#penalized.size;
    if (skip < pos + penalizedCount) {
      const sorted = this.#penalized.toArray().sort(byPenalty);
      for (let i = Math.max(0, skip - pos); i < sorted.length; i++) {
        const e = sorted[i];
        if (e !== undefined) yield row(pos + i + 1, e.ff, e.enqueuedAt, true, false);
      }
    }
    pos += penalizedCount;
    for (const b of this.#swapFiles.toArray()) {
      if (skip < pos + b.count) {
        const flowFiles = this.#swap.peek(b.ref);
        for (let i = Math.max(0, skip - pos); i < flowFiles.length && i < b.count; i++) {
          const ff = flowFiles[i];
          if (ff !== undefined) yield row(pos + i + 1, ff, b.enqueuedAt, ff.penaltyExpiration > now, true);
        }
      }
      pos += b.count;
    }
    const buffer = this.#buffer.slice();
    for (let i = Math.max(0, skip - pos); i < buffer.length; i++) {
      const e = buffer[i];
      if (e !== undefined) yield row(pos + i + 1, e.ff, e.enqueuedAt, e.ff.penaltyExpiration > now, true);
    }
  }
}

/** Pushes onto a list created on first use (the common path allocates nothing). */
function append<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}

function row(
  position: number,
  flowFile: FlowFileRecord,
  enqueuedAt: number,
  penalized: boolean,
  swapped: boolean,
): QueueListingEntry {
  return { position, flowFile, enqueuedAt, penalized, swapped };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function validateSettings(settings: QueueSettings): void {
  const numbers: [string, number][] = [
    ['backPressureObjectThreshold', settings.backPressureObjectThreshold],
    ['backPressureDataSizeThreshold', settings.backPressureDataSizeThreshold],
    ['expirationMs', settings.expirationMs],
  ];
  for (const [name, value] of numbers) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  }
  orderingFor(settings.prioritizers);
}

function samePrioritizers(a: QueueSettings, b: QueueSettings): boolean {
  return a.prioritizers.length === b.prioritizers.length && a.prioritizers.every((p, i) => p === b.prioritizers[i]);
}

function notInFlight(queueId: string, operation: string, uuids: string[]): Error {
  const shown = uuids.slice(0, 5).join(', ');
  const more = uuids.length > 5 ? ` and ${uuids.length - 5} more` : '';
  return new Error(`queue ${queueId}: cannot ${operation} FlowFiles that were not taken from it: ${shown}${more}`);
}
