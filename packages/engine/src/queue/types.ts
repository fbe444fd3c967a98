import type { FlowFileRecord } from '../flowfile/flowfile-record.ts';
import type { SwapRef } from '../repository/types.ts';

/** The four NiFi prioritizers. Several may be chained; the first has precedence. */
export const PRIORITIZERS = ['FirstInFirstOut', 'OldestFlowFileFirst', 'NewestFlowFileFirst', 'PriorityAttribute'] as const;
export type PrioritizerName = (typeof PRIORITIZERS)[number];

/** Settings of a connection's queue. Defaults in parentheses (NiFi's). */
export interface QueueSettings {
  /** Back pressure at this many FlowFiles; 0 disables (10,000). */
  readonly backPressureObjectThreshold: number;
  /** Back pressure at this many bytes; 0 disables (1 GiB). */
  readonly backPressureDataSizeThreshold: number;
  /** FlowFiles older than this since entering Sluice expire (EXPIRE event); 0 = never (0). */
  readonly expirationMs: number;
  /** Order of delivery ([] = first in, first out). */
  readonly prioritizers: readonly PrioritizerName[];
}

/** How a queue puts FlowFiles on disk and gets them back (the FlowFile repository's swap files). */
export interface SwapManager {
  /** Writes FlowFiles to a swap file and journals that they left memory. */
  swapOut(queueId: string, flowFiles: readonly FlowFileRecord[]): SwapRef;
  /** Reads a swap file back and journals that its FlowFiles are in memory again. */
  swapIn(swap: SwapRef): FlowFileRecord[];
  /** Reads a swap file without changing anything (queue listing). */
  peek(swap: SwapRef): FlowFileRecord[];
  /** Journals that a swap file's FlowFiles were dropped, and deletes it when safe. */
  discard(swap: SwapRef): void;
}

/** Told when a queue changes in ways the scheduler cares about. */
export interface QueueListener {
  /** FlowFiles became available to the destination (or a penalty expired). */
  dataAvailable(queueId: string): void;
  /** The queue went from full to not full: its source may run again. */
  spaceAvailable(queueId: string): void;
  /**
   * Optional: nothing is eligible now, but a penalized FlowFile will be at `at` (epoch ms). Called
   * when such a time first appears or moves earlier (e.g. a penalized FlowFile arrives at an idle
   * queue), so the engine can arm one timer and call `dataAvailable` itself: queues run no timers.
   */
  eligibleAt?(queueId: string, at: number): void;
}

/** Counts of a queue; `count`/`bytes` include everything (active, swapped and taken by sessions). */
export interface QueueSize {
  /** activeCount + swappedCount + inFlightCount. */
  readonly count: number;
  readonly bytes: number;
  /** Queued in memory, penalized ones included. */
  readonly activeCount: number;
  /** Waiting behind the swap line: in swap files, or in the buffer that becomes the next one (as NiFi counts). */
  readonly swappedCount: number;
  /** Taken by sessions that have not committed yet. */
  readonly inFlightCount: number;
  /** Part of activeCount that is not eligible before its penalty expires. */
  readonly penalizedCount: number;
}

/** One row of a queue listing. */
export interface QueueListingEntry {
  /** 1-based position in delivery order. */
  readonly position: number;
  readonly flowFile: FlowFileRecord;
  readonly enqueuedAt: number;
  readonly penalized: boolean;
  readonly swapped: boolean;
}
