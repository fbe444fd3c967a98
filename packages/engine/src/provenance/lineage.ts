import { type EventSummary, isSpawnType } from './event-codec.ts';
import type { LineageGraph, LineageNode } from './types.ts';

/** Node cap of a lineage graph when the caller gives none. */
export const DEFAULT_MAX_NODES = 5_000;

/** The graph of an unknown FlowFile or event. */
export const EMPTY_GRAPH: LineageGraph = { nodes: [], links: [], truncated: false };

/** What a repository provides for lineage: events by the FlowFiles they name, and by id. */
export interface LineageSource {
  /** The events naming the FlowFile as itself, a parent or a child, oldest first (at most `limit`). */
  eventsOf(uuid: string, limit: number): readonly EventSummary[];
  event(eventId: number): EventSummary | undefined;
}

/** The FlowFiles an event consumed and produced, computed once per event (FORKs can have thousands). */
interface Relations {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly inputSet: ReadonlySet<string>;
  readonly outputSet: ReadonlySet<string>;
}

const NO_RELATIONS: Relations = { inputs: [], outputs: [], inputSet: new Set(), outputSet: new Set() };
const relationCache = new WeakMap<EventSummary, Relations>();

/**
 * Inputs: for FORK/CLONE/REPLAY the event's own FlowFile (the parent) and any listed parents, for
 * JOIN the merged parents. Outputs: FORK/CLONE/REPLAY children, or the JOIN's own FlowFile. Other
 * event types relate no FlowFiles.
 */
function relationsOf(e: EventSummary): Relations {
  if (!isSpawnType(e.eventType)) return NO_RELATIONS;
  const cached = relationCache.get(e);
  if (cached !== undefined) return cached;
  const inputSet = new Set<string>();
  const outputSet = new Set<string>();
  if (e.eventType === 'JOIN') {
    for (const u of e.parentUuids) if (u !== e.flowFileUuid) inputSet.add(u);
    outputSet.add(e.flowFileUuid);
  } else {
    inputSet.add(e.flowFileUuid);
    for (const u of e.parentUuids) inputSet.add(u);
  }
  for (const u of e.childUuids) if (!inputSet.has(u)) outputSet.add(u);
  const r = { inputs: [...inputSet], outputs: [...outputSet], inputSet, outputSet };
  relationCache.set(e, r);
  return r;
}

/** The FlowFiles an event consumed (see {@link relationsOf}). */
export function inputsOf(e: EventSummary): readonly string[] {
  return relationsOf(e).inputs;
}

/** The FlowFiles an event produced (see {@link relationsOf}). */
export function outputsOf(e: EventSummary): readonly string[] {
  return relationsOf(e).outputs;
}

const UP = 1;
const DOWN = 2;

const byTime = (a: EventSummary, b: EventSummary): number => a.eventTime - b.eventTime || a.eventId - b.eventId;

/** Collects nodes under a cap and draws the links between them, as NiFi's lineage view does. */
class GraphBuilder {
  readonly events = new Map<number, EventSummary>();
  readonly flowFiles = new Set<string>();
  /** Events whose FlowFile nodes are all in (a FORK is reached once per child). */
  readonly #expanded = new Set<number>();
  truncated = false;

  constructor(private readonly maxNodes: number) {}

  addEvent(e: EventSummary): boolean {
    if (this.events.has(e.eventId)) return true;
    if (!this.#room()) return false;
    this.events.set(e.eventId, e);
    return true;
  }

  addFlowFile(uuid: string): boolean {
    if (this.flowFiles.has(uuid)) return true;
    if (!this.#room()) return false;
    this.flowFiles.add(uuid);
    return true;
  }

  /** Adds an event with the FlowFile nodes it links to; false when the cap was reached. */
  addWithFlowFiles(e: EventSummary): boolean {
    if (this.#expanded.has(e.eventId)) return true;
    if (!this.addEvent(e)) return false;
    for (const u of inputsOf(e)) if (!this.addFlowFile(u)) return false;
    for (const u of outputsOf(e)) if (!this.addFlowFile(u)) return false;
    this.#expanded.add(e.eventId);
    return true;
  }

  #room(): boolean {
    if (this.events.size + this.flowFiles.size < this.maxNodes) return true;
    this.truncated = true;
    return false;
  }

  /**
   * Links: FlowFile node → its first event; each event → the same FlowFile's next event (time
   * order); FORK/CLONE/REPLAY → the child FlowFile nodes; each JOIN parent's last event before the
   * JOIN (or the parent's node when none is in the graph) → the JOIN, whose own FlowFile is the child.
   */
  build(): LineageGraph {
    const own = new Map<string, EventSummary[]>();
    for (const e of this.events.values()) {
      const list = own.get(e.flowFileUuid);
      if (list === undefined) own.set(e.flowFileUuid, [e]);
      else list.push(e);
    }
    const links: { source: string; target: string }[] = [];
    const seen = new Set<string>();
    const link = (source: string, target: string): void => {
      const key = `${source}>${target}`;
      if (seen.has(key)) return;
      seen.add(key);
      links.push({ source, target });
    };
    for (const [uuid, list] of own) {
      list.sort(byTime);
      const first = list[0];
      if (first !== undefined && this.flowFiles.has(uuid)) link(`ff:${uuid}`, `ev:${first.eventId}`);
      for (let i = 1; i < list.length; i++) {
        const a = list[i - 1];
        const b = list[i];
        if (a !== undefined && b !== undefined) link(`ev:${a.eventId}`, `ev:${b.eventId}`);
      }
    }
    const events = [...this.events.values()].sort(byTime);
    for (const e of events) {
      if (!isSpawnType(e.eventType)) continue;
      if (e.eventType === 'JOIN') {
        for (const p of inputsOf(e)) {
          let last: EventSummary | undefined;
          for (const x of own.get(p) ?? []) if (byTime(x, e) < 0) last = x;
          if (last !== undefined) link(`ev:${last.eventId}`, `ev:${e.eventId}`);
          else if (this.flowFiles.has(p)) link(`ff:${p}`, `ev:${e.eventId}`);
        }
      } else {
        for (const c of outputsOf(e)) if (this.flowFiles.has(c)) link(`ev:${e.eventId}`, `ff:${c}`);
      }
    }
    const nodes: LineageNode[] = [];
    for (const uuid of this.flowFiles) nodes.push({ kind: 'flowfile', id: `ff:${uuid}`, uuid });
    for (const e of events) {
      nodes.push({
        kind: 'event',
        id: `ev:${e.eventId}`,
        eventId: e.eventId,
        eventType: e.eventType,
        eventTime: e.eventTime,
        flowFileUuid: e.flowFileUuid,
        componentId: e.componentId,
        componentName: e.componentName,
        parentUuids: e.parentUuids,
        childUuids: e.childUuids,
      });
    }
    return { nodes, links, truncated: this.truncated };
  }
}

function capOf(maxNodes: number | undefined): number {
  if (maxNodes === undefined || !Number.isFinite(maxNodes)) return DEFAULT_MAX_NODES;
  return Math.max(1, Math.floor(maxNodes));
}

/**
 * The lineage of a FlowFile (NiFi semantics, walked breadth-first): all its events; through
 * FORK/JOIN/CLONE/REPLAY events the FlowFiles it came from (transitively up) and those derived from
 * it (transitively down), with their events. Siblings appear as FlowFile nodes only (expand them
 * with {@link expandChildren}). Stops at `maxNodes` nodes (default 5,000) and sets `truncated`.
 */
export function computeLineage(source: LineageSource, uuid: string, maxNodes?: number): LineageGraph {
  const cap = capOf(maxNodes);
  const cache = new Map<string, readonly EventSummary[]>();
  // No FlowFile can contribute more events than the cap: a FlowFile with a huge history is cut there.
  const eventsOf = (u: string): readonly EventSummary[] => {
    let list = cache.get(u);
    if (list === undefined) {
      list = source.eventsOf(u, cap);
      cache.set(u, list);
    }
    return list;
  };
  if (eventsOf(uuid).length === 0) return EMPTY_GRAPH;
  const g = new GraphBuilder(cap);
  const visited = new Map<string, number>();
  const queue: { uuid: string; dir: number }[] = [];
  const enqueue = (u: string, dir: number): void => {
    const before = visited.get(u) ?? 0;
    const added = dir & ~before;
    if (added === 0) return;
    visited.set(u, before | added);
    queue.push({ uuid: u, dir: added });
  };
  enqueue(uuid, UP | DOWN);
  walk: for (let head = 0; head < queue.length; head++) {
    const item = queue[head];
    if (item === undefined) break;
    const { uuid: u, dir } = item;
    if (!g.addFlowFile(u)) break;
    for (const e of eventsOf(u)) {
      if (!isSpawnType(e.eventType)) {
        if (e.flowFileUuid === u && !g.addEvent(e)) break walk;
        continue;
      }
      const r = relationsOf(e);
      if (r.outputSet.has(u)) {
        // The event that created u: its inputs are u's parents.
        if (!g.addWithFlowFiles(e)) break walk;
        if (dir & UP) for (const p of r.inputs) enqueue(p, UP);
      } else if (r.inputSet.has(u)) {
        // u was forked/cloned/replayed (its own event) or merged into a JOIN (the child's event,
        // followed only downwards: a JOIN of an ancestor into another FlowFile is a cousin).
        if (e.flowFileUuid !== u && (dir & DOWN) === 0) continue;
        if (!g.addWithFlowFiles(e)) break walk;
        if (dir & DOWN) for (const c of r.outputs) enqueue(c, DOWN);
      } else if (e.flowFileUuid === u && !g.addEvent(e)) {
        break walk;
      }
    }
  }
  return g.build();
}

function expand(source: LineageSource, eventId: number, pick: (e: EventSummary) => readonly string[]): LineageGraph {
  const e = source.event(eventId);
  if (e === undefined) return EMPTY_GRAPH;
  const g = new GraphBuilder(DEFAULT_MAX_NODES);
  if (g.addWithFlowFiles(e)) {
    outer: for (const u of pick(e)) {
      for (const x of source.eventsOf(u, DEFAULT_MAX_NODES)) {
        if (x.flowFileUuid === u && !g.addEvent(x)) break outer;
      }
    }
  }
  return g.build();
}

/** The parents of a FORK/CLONE/REPLAY/JOIN event with their events, as a graph to merge in (one hop). */
export function expandParents(source: LineageSource, eventId: number): LineageGraph {
  return expand(source, eventId, inputsOf);
}

/** The children of a FORK/CLONE/REPLAY/JOIN event with their events, as a graph to merge in (one hop). */
export function expandChildren(source: LineageSource, eventId: number): LineageGraph {
  return expand(source, eventId, outputsOf);
}
