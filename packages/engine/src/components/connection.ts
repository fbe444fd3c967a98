import { parseDataSize, parseTimePeriod } from '@sluice/api';
import type { ConnectionDefinition } from '../flow/flow-definition.ts';
import type { ConnectionQueue } from '../queue/index.ts';
import type { QueueSettings } from '../queue/types.ts';
import { RollingCounter } from '../status/rolling-counter.ts';

/** A connection at run time: its queue, its ends and its five-minute counters. */
export class ConnectionRuntime {
  definition: ConnectionDefinition;
  readonly queue: ConnectionQueue;
  readonly groupId: string;
  readonly inCount = new RollingCounter();
  readonly inBytes = new RollingCounter();
  readonly outCount = new RollingCounter();
  readonly outBytes = new RollingCounter();
  /**
   * FlowFiles committed into this connection whose transaction is not durable yet, so not queued
   * yet (see the engine's `place`). Back pressure counts them: a fast source would otherwise overrun
   * the threshold by everything it commits before the next group commit.
   */
  inTransitCount = 0;
  inTransitBytes = 0;

  constructor(definition: ConnectionDefinition, groupId: string, queue: ConnectionQueue) {
    this.definition = definition;
    this.groupId = groupId;
    this.queue = queue;
  }

  get id(): string {
    return this.definition.id;
  }

  get sourceId(): string {
    return this.definition.source.id;
  }

  get destinationId(): string {
    return this.definition.destination.id;
  }

  /** Back pressure: the queue's thresholds reached, counting FlowFiles in transit into it. */
  isFull(): boolean {
    if (this.queue.isFull()) return true;
    if (this.inTransitCount === 0) return false;
    const { count, bytes } = this.queue.size();
    const { backPressureObjectThreshold: maxCount, backPressureDataSizeThreshold: maxBytes } = this.queue.settings;
    return (maxCount > 0 && count + this.inTransitCount >= maxCount) || (maxBytes > 0 && bytes + this.inTransitBytes >= maxBytes);
  }

  /** Display name: the connection's name, else its relationships. */
  get displayName(): string {
    return this.definition.name ?? (this.definition.relationships.join(', ') || this.definition.id);
  }
}

/** Queue settings from a connection definition (sizes and periods already validated). */
export function queueSettingsOf(definition: ConnectionDefinition): QueueSettings {
  return {
    backPressureObjectThreshold: definition.backPressureObjectThreshold,
    backPressureDataSizeThreshold: parseDataSize(definition.backPressureDataSizeThreshold),
    expirationMs: parseTimePeriod(definition.flowFileExpiration),
    prioritizers: definition.prioritizers,
  };
}
