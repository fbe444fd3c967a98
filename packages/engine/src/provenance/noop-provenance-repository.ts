import { EMPTY_GRAPH } from './lineage.ts';
import type {
  LineageGraph,
  ProvenanceEventInput,
  ProvenanceEventRecord,
  ProvenanceQuery,
  ProvenanceRepository,
} from './types.ts';

/**
 * A provenance repository that stores nothing (NiFi's NoOpProvenanceRepository): appends only
 * count ids, queries and lineage are empty. For benchmarking with provenance off.
 */
export class NoopProvenanceRepository implements ProvenanceRepository {
  #nextId = 1;

  async open(): Promise<void> {}

  append(events: readonly ProvenanceEventInput[]): number {
    const first = this.#nextId;
    this.#nextId += events.length;
    return first;
  }

  flush(): void {}

  async sync(): Promise<void> {}

  async waitForIndex(): Promise<void> {}

  search(_query: ProvenanceQuery): ProvenanceEventRecord[] {
    return [];
  }

  getEvent(_eventId: number): ProvenanceEventRecord | undefined {
    return undefined;
  }

  lineage(_flowFileUuid: string, _options?: { maxNodes?: number }): LineageGraph {
    return EMPTY_GRAPH;
  }

  expandParents(_eventId: number): LineageGraph {
    return EMPTY_GRAPH;
  }

  expandChildren(_eventId: number): LineageGraph {
    return EMPTY_GRAPH;
  }

  async enforceRetention(): Promise<void> {}

  indexLag(): number {
    return 0;
  }

  stats(): { events: number; oldestEventTime: number | null; bytes: number; indexLag: number } {
    return { events: 0, oldestEventTime: null, bytes: 0, indexLag: 0 };
  }

  async close(): Promise<void> {}
}
