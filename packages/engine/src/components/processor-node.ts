import type { AnyProcessorDefinition, ComponentLogger, LogLevel, ProcessContext, PropertyValue, StateReader } from '@sluice/api';
import type { ProcessorDefinitionEntry } from '../flow/flow-definition.ts';
import type { ConfiguredProperty } from '../properties/configured-property.ts';
import { RollingCounter } from '../status/rolling-counter.ts';
import type { ConnectionRuntime } from './connection.ts';

/** What kind of component moves FlowFiles through this node. */
export type NodeKind = 'processor' | 'input-port' | 'output-port' | 'funnel';

/** Run states shown to users. STARTING/STOPPING are transitions (lifecycle hooks running). */
export type NodeRunState = 'STOPPED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'DISABLED';

/** Scheduling settings with every duration parsed. */
export interface ParsedScheduling {
  readonly strategy: 'timer' | 'cron';
  readonly periodMs: number;
  readonly cron: string | undefined;
  readonly concurrentTasks: number;
  readonly runDurationMs: number;
  readonly penaltyMs: number;
  readonly yieldMs: number;
}

/** Per-relationship automatic retry, parsed. */
export interface ParsedRetry {
  readonly relationships: ReadonlySet<string>;
  readonly count: number;
  readonly backoff: 'penalize' | 'yield';
  readonly maxBackoffMs: number;
}

/** The five-minute counters NiFi shows on a component. */
export class ComponentStats {
  readonly inCount = new RollingCounter();
  readonly inBytes = new RollingCounter();
  readonly outCount = new RollingCounter();
  readonly outBytes = new RollingCounter();
  readonly readBytes = new RollingCounter();
  readonly writtenBytes = new RollingCounter();
  readonly tasks = new RollingCounter();
  readonly taskNanos = new RollingCounter();
  readonly counters = new Map<string, number>();
}

/** Services a processor node needs from the engine to build its context. */
export interface NodeServices {
  readonly stateReader: (componentId: string) => StateReader;
  readonly service: (componentId: string, property: string, serviceId: string | undefined) => unknown;
  readonly yieldNode: (node: ProcessorNode, ms: number) => void;
  readonly resolvePath: (path: string) => string;
}

/**
 * A processor, port or funnel at run time: its definition and configuration, its wiring, its
 * scheduling state and its statistics. The scheduler decides when it runs; sessions do the work.
 */
export class ProcessorNode {
  readonly id: string;
  readonly kind: NodeKind;
  groupId: string;
  definition: AnyProcessorDefinition;
  config: ProcessorDefinitionEntry;
  scheduling: ParsedScheduling;
  retry: ParsedRetry | undefined;
  properties: ReadonlyMap<string, ConfiguredProperty> = new Map();
  dynamicProperties: ReadonlyMap<string, ConfiguredProperty> = new Map();
  relationships: ReadonlySet<string> = new Set();
  autoTerminated: ReadonlySet<string> = new Set();
  /** Problems that keep it from running; empty when valid. */
  validationErrors: string[] = [];

  incoming: ConnectionRuntime[] = [];
  outgoing = new Map<string, ConnectionRuntime[]>();
  allOutgoing: ConnectionRuntime[] = [];

  runState: NodeRunState = 'STOPPED';
  activeTasks = 0;
  yieldUntil = 0;
  nextRunAt = 0;
  scheduledValue: unknown;
  /** Bumped on every start, so a stale timer or task of a previous run is recognised. */
  generation = 0;
  pollCursor = 0;
  readonly stats = new ComponentStats();
  logger: ComponentLogger;
  readonly context: ProcessContext;

  constructor(
    id: string,
    kind: NodeKind,
    groupId: string,
    definition: AnyProcessorDefinition,
    config: ProcessorDefinitionEntry,
    scheduling: ParsedScheduling,
    logger: ComponentLogger,
    services: NodeServices,
  ) {
    this.id = id;
    this.kind = kind;
    this.groupId = groupId;
    this.definition = definition;
    this.config = config;
    this.scheduling = scheduling;
    this.logger = logger;
    this.context = createContext(this, services);
  }

  get name(): string {
    return this.config.name;
  }

  get type(): string {
    return this.definition.type;
  }

  get bulletinLevel(): LogLevel {
    return this.config.bulletinLevel;
  }

  /** Max tasks at once: 1 for processors that trigger serially. */
  get maxTasks(): number {
    return this.definition.triggerSerially === true ? 1 : this.scheduling.concurrentTasks;
  }

  /** A source has no incoming connections (or may not have any). */
  get isSource(): boolean {
    return this.incoming.length === 0;
  }

  /** Whether any incoming queue has a FlowFile that can be taken now. */
  hasInput(): boolean {
    for (const c of this.incoming) if (c.queue.hasEligible()) return true;
    return false;
  }

  /** Back pressure: whether this node may not run because a destination is full. */
  isBackPressured(): boolean {
    if (this.allOutgoing.length === 0) return false;
    if (this.definition.triggerWhenAnyDestinationAvailable === true) {
      for (const conns of this.outgoing.values()) {
        if (conns.every((c) => !c.isFull())) return false;
      }
      return true;
    }
    for (const c of this.allOutgoing) if (c.isFull()) return true;
    return false;
  }

  /** Relationships that can take FlowFiles now (auto-terminated, or no connection of them full). */
  availableRelationships(): Set<string> {
    const out = new Set<string>();
    for (const relationship of this.relationships) {
      if (this.autoTerminated.has(relationship)) {
        out.add(relationship);
        continue;
      }
      const connections = this.outgoing.get(relationship);
      if (connections !== undefined && connections.length > 0 && connections.every((c) => !c.isFull())) out.add(relationship);
    }
    return out;
  }

  /** Whether FlowFiles routed to this relationship have somewhere to go. */
  isRelationshipAvailable(relationship: string): boolean {
    return this.autoTerminated.has(relationship) || (this.outgoing.get(relationship)?.length ?? 0) > 0;
  }
}

function createContext(node: ProcessorNode, services: NodeServices): ProcessContext {
  const property = (name: string): PropertyValue => {
    const value = node.properties.get(name);
    if (value === undefined) throw new Error(`${node.type} has no property "${name}" (declare it in the processor definition)`);
    return value;
  };
  return {
    get componentId() {
      return node.id;
    },
    get name() {
      return node.name;
    },
    get type() {
      return node.type;
    },
    getProperty: property,
    get dynamicProperties(): ReadonlyMap<string, PropertyValue> {
      return node.dynamicProperties;
    },
    get relationships() {
      return node.relationships;
    },
    isRelationshipAvailable: (relationship) => node.isRelationshipAvailable(relationship),
    hasIncomingConnection: () => node.incoming.length > 0,
    availableRelationships: () => node.availableRelationships(),
    resolvePath: (path) => services.resolvePath(path),
    yield: () => services.yieldNode(node, node.scheduling.yieldMs),
    isScheduled: () => node.runState === 'RUNNING' || node.runState === 'STARTING',
    get maxConcurrentTasks() {
      return node.maxTasks;
    },
    get logger() {
      return node.logger;
    },
    get state() {
      return services.stateReader(node.id);
    },
    getService<T>(name: string): T {
      const raw = property(name).evaluate();
      const instance: unknown = services.service(node.id, name, raw);
      // The engine checked at validation that the service provides the API the property requires;
      // the processor names the interface it expects.
      return instance as T;
    },
  };
}
