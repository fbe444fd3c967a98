import { type EventSummary, eventTypeIndex, extractFilename, recordFromInput } from './event-codec.ts';
import { computeLineage, expandChildren, expandParents, type LineageSource } from './lineage.ts';
import { attributeNeedle, matchesUnindexed, searchLimit } from './query.ts';
import type {
  LineageGraph,
  ProvenanceEventInput,
  ProvenanceEventRecord,
  ProvenanceQuery,
  ProvenanceRepository,
} from './types.ts';

/** Options of {@link MemoryProvenanceRepository}. Defaults in parentheses. */
export interface MemoryProvenanceOptions {
  /** Events kept; the oldest are evicted first (100,000, as NiFi's volatile repository). */
  readonly capacity?: number;
  /** {@link MemoryProvenanceRepository.enforceRetention} drops events older than this, in ms (30 days). */
  readonly maxAgeMs?: number;
}

interface Stored {
  readonly id: number;
  readonly input: ProvenanceEventInput;
}

/**
 * The volatile provenance repository: events in a bounded in-memory ring (FIFO eviction), with the
 * same query and lineage semantics as the file repository and nothing written to disk. Every
 * event is searchable as soon as it is appended. For tests and for deployments that accept losing
 * provenance on restart. Queries scan the ring (100,000 events: a few ms); lineage uses a uuid map.
 */
export class MemoryProvenanceRepository implements ProvenanceRepository {
  readonly #capacity: number;
  readonly #maxAgeMs: number;
  readonly #ring: (Stored | undefined)[];
  /** Slot of the oldest event. */
  #start = 0;
  #count = 0;
  #nextId = 1;
  #bytes = 0;
  /** Ids of the events naming each FlowFile (itself, parent or child), ascending. */
  readonly #byUuid = new Map<string, number[]>();

  constructor(options: MemoryProvenanceOptions = {}) {
    this.#capacity = Math.max(1, Math.floor(options.capacity ?? 100_000));
    this.#maxAgeMs = options.maxAgeMs ?? 30 * 24 * 60 * 60 * 1000;
    this.#ring = new Array<Stored | undefined>(this.#capacity).fill(undefined);
  }

  async open(): Promise<void> {}

  /** Assigns ids and stores the events (all or none). @throws {TypeError} for an unknown event type. */
  append(events: readonly ProvenanceEventInput[]): number {
    for (const e of events) eventTypeIndex(e.eventType);
    const first = this.#nextId;
    for (const input of events) {
      if (this.#count === this.#capacity) this.#evictOldest();
      const id = this.#nextId++;
      this.#ring[(this.#start + this.#count) % this.#capacity] = { id, input };
      this.#count++;
      this.#bytes += sizeOf(input);
      for (const uuid of uuidsOf(input)) {
        const ids = this.#byUuid.get(uuid);
        if (ids === undefined) this.#byUuid.set(uuid, [id]);
        else ids.push(id);
      }
    }
    return first;
  }

  flush(): void {}

  async sync(): Promise<void> {}

  async waitForIndex(): Promise<void> {}

  /**
   * Events matching all criteria, newest first (a scan of the ring, or of a FlowFile's events). A
   * FlowFile's events include those naming it as a parent or child, as in the file repository.
   * @throws {TypeError} for an unknown event type.
   */
  search(query: ProvenanceQuery): ProvenanceEventRecord[] {
    const limit = searchLimit(query);
    const out: ProvenanceEventRecord[] = [];
    if (limit === 0) return out;
    const type = query.eventType === undefined ? undefined : eventTypeIndex(query.eventType);
    const needle = attributeNeedle(query);
    const test = (s: Stored): boolean => {
      const e = s.input;
      if (query.beforeEventId !== undefined && s.id >= query.beforeEventId) return false;
      if (type !== undefined && e.eventType !== query.eventType) return false;
      if (query.componentId !== undefined && e.componentId !== query.componentId) return false;
      if (query.startTime !== undefined && e.eventTime < query.startTime) return false;
      if (query.endTime !== undefined && e.eventTime > query.endTime) return false;
      if (query.filename !== undefined && extractFilename(e.attributesJson) !== query.filename) return false;
      if (needle !== undefined && !e.attributesJson.includes(needle)) return false;
      return true;
    };
    const consider = (s: Stored | undefined): boolean => {
      if (s === undefined || !test(s)) return true;
      const record = recordFromInput(s.input, s.id);
      if (matchesUnindexed(record, query)) out.push(record);
      return out.length < limit;
    };
    if (query.flowFileUuid !== undefined) {
      const ids = this.#byUuid.get(query.flowFileUuid) ?? [];
      for (let i = ids.length - 1; i >= 0; i--) {
        const id = ids[i];
        if (id !== undefined && !consider(this.#get(id))) break;
      }
      return out;
    }
    for (let i = this.#count - 1; i >= 0; i--) {
      if (!consider(this.#ring[(this.#start + i) % this.#capacity])) break;
    }
    return out;
  }

  getEvent(eventId: number): ProvenanceEventRecord | undefined {
    const s = this.#get(eventId);
    return s === undefined ? undefined : recordFromInput(s.input, s.id);
  }

  lineage(flowFileUuid: string, options?: { maxNodes?: number }): LineageGraph {
    return computeLineage(this.#source(), flowFileUuid, options?.maxNodes);
  }

  expandParents(eventId: number): LineageGraph {
    return expandParents(this.#source(), eventId);
  }

  expandChildren(eventId: number): LineageGraph {
    return expandChildren(this.#source(), eventId);
  }

  /** Drops the oldest events (in id order) while they are older than maxAgeMs. */
  async enforceRetention(): Promise<void> {
    const cutoff = Date.now() - this.#maxAgeMs;
    while (this.#count > 0) {
      const oldest = this.#ring[this.#start];
      if (oldest === undefined || oldest.input.eventTime >= cutoff) break;
      this.#evictOldest();
    }
  }

  /** `bytes` estimates the memory held (UTF-16 text plus a fixed overhead per event). */
  indexLag(): number {
    return 0;
  }

  stats(): { events: number; oldestEventTime: number | null; bytes: number; indexLag: number } {
    return {
      events: this.#count,
      oldestEventTime: this.#ring[this.#start]?.input.eventTime ?? null,
      bytes: this.#bytes,
      indexLag: 0,
    };
  }

  async close(): Promise<void> {}

  #get(eventId: number): Stored | undefined {
    const oldest = this.#ring[this.#start];
    if (oldest === undefined) return undefined;
    const offset = eventId - oldest.id;
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.#count) return undefined;
    return this.#ring[(this.#start + offset) % this.#capacity];
  }

  #evictOldest(): void {
    const s = this.#ring[this.#start];
    this.#ring[this.#start] = undefined;
    this.#start = (this.#start + 1) % this.#capacity;
    this.#count--;
    if (s === undefined) return;
    this.#bytes -= sizeOf(s.input);
    for (const uuid of uuidsOf(s.input)) {
      const ids = this.#byUuid.get(uuid);
      if (ids === undefined) continue;
      // Ids are ascending and this is the oldest event: it is at the front.
      if (ids[0] === s.id) ids.shift();
      if (ids.length === 0) this.#byUuid.delete(uuid);
    }
  }

  #source(): LineageSource {
    // One summary object per event and lineage call: the graph builder caches per-event work by identity.
    const summaries = new Map<number, EventSummary>();
    const summary = (s: Stored): EventSummary => {
      let out = summaries.get(s.id);
      if (out === undefined) {
        out = {
          eventId: s.id,
          eventType: s.input.eventType,
          eventTime: s.input.eventTime,
          flowFileUuid: s.input.flowFileUuid,
          componentId: s.input.componentId,
          componentName: s.input.componentName ?? null,
          parentUuids: s.input.parentUuids ?? [],
          childUuids: s.input.childUuids ?? [],
        };
        summaries.set(s.id, out);
      }
      return out;
    };
    return {
      eventsOf: (uuid, limit) => {
        const out: EventSummary[] = [];
        for (const id of this.#byUuid.get(uuid) ?? []) {
          const s = this.#get(id);
          if (s !== undefined) out.push(summary(s));
          if (out.length >= limit) break;
        }
        return out;
      },
      event: (eventId) => {
        const s = this.#get(eventId);
        return s === undefined ? undefined : summary(s);
      },
    };
  }
}

/** The FlowFiles an event names (itself, parents, children), each once. */
function uuidsOf(e: ProvenanceEventInput): Iterable<string> {
  if ((e.parentUuids?.length ?? 0) + (e.childUuids?.length ?? 0) === 0) return [e.flowFileUuid];
  return new Set([e.flowFileUuid, ...(e.parentUuids ?? []), ...(e.childUuids ?? [])]);
}

/** Rough memory held by an event: its UTF-16 text plus a fixed overhead. */
function sizeOf(e: ProvenanceEventInput): number {
  return (
    200 + 2 * (e.attributesJson.length + (e.previousAttributesJson?.length ?? 0) + e.flowFileUuid.length + e.componentId.length)
  );
}
