import type { ConnectionRuntime } from '../components/connection.ts';
import type { NodeKind, NodeRunState, ProcessorNode } from '../components/processor-node.ts';

/** A count and a byte total. */
export interface Amount {
  readonly count: number;
  readonly bytes: number;
}

/** Status of a processor, port or funnel; rates are over the last five minutes. */
export interface ComponentStatus {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly kind: NodeKind;
  readonly groupId: string;
  readonly runState: NodeRunState;
  readonly validationErrors: readonly string[];
  readonly activeTasks: number;
  readonly input: Amount;
  readonly output: Amount;
  readonly readBytes: number;
  readonly writtenBytes: number;
  readonly tasks: number;
  readonly taskTimeMs: number;
  readonly counters: Readonly<Record<string, number>>;
}

/** Status of a connection's queue. Fill ratios are 0..1 against each threshold (0 when disabled). */
export interface ConnectionStatus {
  readonly id: string;
  readonly name: string;
  readonly groupId: string;
  readonly sourceId: string;
  readonly destinationId: string;
  readonly queued: Amount;
  readonly thresholds: Amount;
  readonly fill: { readonly count: number; readonly bytes: number };
  /** Back pressure is engaged: the source is not scheduled. */
  readonly full: boolean;
  readonly swappedCount: number;
  readonly inFlightCount: number;
  readonly penalizedCount: number;
  readonly input: Amount;
  readonly output: Amount;
}

/** Status of one component from its counters, at `now`. */
export function componentStatus(node: ProcessorNode, now: number): ComponentStatus {
  const s = node.stats;
  return {
    id: node.id,
    name: node.name,
    type: node.type,
    kind: node.kind,
    groupId: node.groupId,
    runState: node.runState,
    validationErrors: node.validationErrors,
    activeTasks: node.activeTasks,
    input: { count: s.inCount.sum(now), bytes: s.inBytes.sum(now) },
    output: { count: s.outCount.sum(now), bytes: s.outBytes.sum(now) },
    readBytes: s.readBytes.sum(now),
    writtenBytes: s.writtenBytes.sum(now),
    tasks: s.tasks.sum(now),
    taskTimeMs: s.taskNanos.sum(now) / 1e6,
    counters: Object.fromEntries(s.counters),
  };
}

/** Status of one connection at `now`. */
export function connectionStatus(connection: ConnectionRuntime, now: number): ConnectionStatus {
  const size = connection.queue.size();
  const settings = connection.queue.settings;
  const countThreshold = settings.backPressureObjectThreshold;
  const bytesThreshold = settings.backPressureDataSizeThreshold;
  return {
    id: connection.id,
    name: connection.displayName,
    groupId: connection.groupId,
    sourceId: connection.sourceId,
    destinationId: connection.destinationId,
    queued: { count: size.count, bytes: size.bytes },
    thresholds: { count: countThreshold, bytes: bytesThreshold },
    fill: {
      count: countThreshold > 0 ? Math.min(1, size.count / countThreshold) : 0,
      bytes: bytesThreshold > 0 ? Math.min(1, size.bytes / bytesThreshold) : 0,
    },
    full: connection.isFull(),
    swappedCount: size.swappedCount,
    inFlightCount: size.inFlightCount,
    penalizedCount: size.penalizedCount,
    input: { count: connection.inCount.sum(now), bytes: connection.inBytes.sum(now) },
    output: { count: connection.outCount.sum(now), bytes: connection.outBytes.sum(now) },
  };
}
