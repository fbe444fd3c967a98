import type { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import { PRIORITIZERS, type PrioritizerName } from './types.ts';

/**
 * A FlowFile held by a queue, with what the queue needs to order it. Internal to the queue: entries
 * are mutable (a rolled-back session may return a new, penalized version of the same FlowFile).
 */
export class QueueEntry {
  /** PriorityAttribute key: 0 = integer (`num`), 1 = other string (`str`), 2 = no attribute. */
  rank = 2;
  num = 0;
  str = '';

  constructor(
    public ff: FlowFileRecord,
    /** Arrival order in the active part; keeps FIFO and breaks every tie (0 while behind the swap line). */
    public seq: number,
    readonly enqueuedAt: number,
  ) {}
}

export type EntryComparator = (a: QueueEntry, b: QueueEntry) => number;

/** Arrival order: the whole order when no prioritizer is set, and the last tie-breaker otherwise. */
export const bySeq: EntryComparator = (a, b) => a.seq - b.seq;

/** Penalized FlowFiles: earliest expiry first, then arrival. */
export const byPenalty: EntryComparator = (a, b) => a.ff.penaltyExpiration - b.ff.penaltyExpiration || a.seq - b.seq;

// NiFi's PriorityAttributePrioritizer pattern: an optional minus and digits, after trimming.
const INTEGER = /^-?\d+$/;

/** Parses the `priority` attribute of an entry's FlowFile into its sort key. */
export function setPriorityKey(entry: QueueEntry): void {
  const value = entry.ff.attributes.get('priority');
  if (value === undefined) {
    entry.rank = 2;
    return;
  }
  const trimmed = value.trim();
  if (INTEGER.test(trimmed)) {
    entry.rank = 0;
    // Beyond 2^53 this rounds; NiFi treats beyond 2^63 as equal. Either way the order stays monotone.
    entry.num = Number(trimmed);
  } else {
    entry.rank = 1;
    entry.str = value;
  }
}

const oldestFirst: EntryComparator = (a, b) => a.ff.entryDate - b.ff.entryDate;
const newestFirst: EntryComparator = (a, b) => b.ff.entryDate - a.ff.entryDate;
const priorityAttribute: EntryComparator = (a, b) => {
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (a.rank === 0) return a.num - b.num;
  // Plain `<` compares UTF-16 code units, as Java's String.compareTo does.
  if (a.rank === 1) return a.str < b.str ? -1 : a.str > b.str ? 1 : 0;
  return 0;
};

/** How a queue orders what it holds, derived from its prioritizer chain. */
export interface Ordering {
  readonly compare: EntryComparator;
  /** Pure arrival order: the queue can use a deque instead of a heap. */
  readonly fifo: boolean;
  /** Entries need their `priority` key parsed when they enter the active part. */
  readonly keyed: boolean;
}

/**
 * Builds the ordering of a prioritizer chain (the first has precedence; ties go to arrival order).
 * @throws {RangeError} on an unknown prioritizer name.
 */
export function orderingFor(prioritizers: readonly PrioritizerName[]): Ordering {
  const parts: EntryComparator[] = [];
  let keyed = false;
  for (const name of prioritizers) {
    if (!isPrioritizer(name)) throw new RangeError(`unknown prioritizer: ${String(name)}`);
    // Arrival order is unique, so FirstInFirstOut decides every tie left and ends the chain.
    if (name === 'FirstInFirstOut') break;
    if (name === 'OldestFlowFileFirst') parts.push(oldestFirst);
    else if (name === 'NewestFlowFileFirst') parts.push(newestFirst);
    else {
      parts.push(priorityAttribute);
      keyed = true;
    }
  }
  const [first, second] = parts;
  if (first === undefined) return { compare: bySeq, fifo: true, keyed: false };
  if (parts.length === 1) return { compare: (a, b) => first(a, b) || a.seq - b.seq, fifo: false, keyed };
  if (parts.length === 2 && second !== undefined) {
    return { compare: (a, b) => first(a, b) || second(a, b) || a.seq - b.seq, fifo: false, keyed };
  }
  const compare: EntryComparator = (a, b) => {
    for (const part of parts) {
      const c = part(a, b);
      if (c !== 0) return c;
    }
    return a.seq - b.seq;
  };
  return { compare, fifo: false, keyed };
}

function isPrioritizer(name: string): name is PrioritizerName {
  return PRIORITIZERS.some((p) => p === name);
}
