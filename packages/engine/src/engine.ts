import { mkdirSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import {
  type AnyProcessorDefinition,
  activeRelationships,
  type LogLevel,
  parseDataSize,
  parseTimePeriod,
  type StateReader,
} from '@sluice/api';
import { ConnectionRuntime, queueSettingsOf } from './components/connection.ts';
import {
  FunnelDefinition,
  InputPortDefinition,
  OutputPortDefinition,
  PASS_THROUGH,
  SiteToSiteOutputPortDefinition,
} from './components/internal.ts';
import { type NodeKind, type ParsedRetry, type ParsedScheduling, ProcessorNode } from './components/processor-node.ts';
import { type PortSession, remotePortConfig, type SiteToSitePortView } from './components/remote.ts';
import { ServiceNode } from './components/service-node.ts';
import { FileContentRepository, MemoryContentRepository } from './content/index.ts';
import type { ContentRepository, ContentRepositoryOptions } from './content/types.ts';
import {
  type ConnectionDefinition,
  type ControllerServiceDefinition,
  emptyFlow,
  type FlowDocument,
  type FlowProblem,
  FlowValidationError,
  type ParameterContextDefinition,
  type PortDefinition,
  type ProcessGroupDefinition,
  type ProcessorDefinitionEntry,
  parseFlowDocument,
} from './flow/flow-definition.ts';
import { FlowFileRecord } from './flowfile/flowfile-record.ts';
import { uuidv7 } from './flowfile/uuid.ts';
import { createComponentLogger, type LogEntry, type LogSink } from './logging.ts';
import { ConfiguredProperty, type PropertyEnvironment, referencedParameters } from './properties/configured-property.ts';
import { PathGuard } from './properties/path-guard.ts';
import { type PropertyProblem, type ValidationEnvironment, validateProperties } from './properties/validation.ts';
import { FileProvenanceRepository, MemoryProvenanceRepository, NoopProvenanceRepository } from './provenance/index.ts';
import type { ProvenanceEventInput, ProvenanceRepository } from './provenance/types.ts';
import { ConnectionQueue, MemorySwapManager } from './queue/index.ts';
import type { SwapManager } from './queue/types.ts';
import type { ExtensionRegistry } from './registry.ts';
import { FileFlowFileRepository, VolatileFlowFileRepository } from './repository/index.ts';
import type {
  FlowFileRepository,
  QueueSnapshot,
  RecoveredState,
  RepositoryRecord,
  StateStore,
  SwapRef,
} from './repository/types.ts';
import { parseCron, Scheduler, type SchedulerOptions } from './scheduler/scheduler.ts';
import { type SessionHost, StandardProcessSession } from './session/process-session.ts';
import { MemoryStateStore, SqliteStateStore } from './state/index.ts';
import { BulletinRepository } from './status/bulletins.ts';
import { type ComponentStatus, type ConnectionStatus, componentStatus, connectionStatus } from './status/flow-status.ts';
import { DataDirLock } from './util/data-dir-lock.ts';

/** How an engine is set up. Defaults in parentheses. */
export interface EngineOptions {
  /** Root of all repositories (`./data`). */
  readonly dataDir: string;
  readonly registry: ExtensionRegistry;
  /** `process`: survives kill -9 (default); `power`: group-commit fsync, survives power loss. */
  readonly durability?: 'process' | 'power';
  /** `durable` (default) or `volatile`: everything in memory, nothing survives a restart (tests, benchmarks). */
  readonly repositories?: 'durable' | 'volatile';
  /** `durable` (default), `volatile` (in memory) or `off` (no events at all). */
  readonly provenance?: 'durable' | 'volatile' | 'off';
  readonly logSink?: LogSink;
  /** Lowest level sent to the log sink (INFO). */
  readonly logLevel?: LogLevel;
  readonly content?: Partial<Omit<ContentRepositoryOptions, 'directory' | 'durability'>>;
  readonly flowFileRepository?: { readonly checkpointIntervalMs?: number; readonly checkpointJournalBytes?: number };
  readonly provenanceRetention?: { readonly maxAgeMs?: number; readonly maxBytes?: number };
  readonly scheduler?: SchedulerOptions;
  /**
   * Sources are held back while provenance indexing is more than this many events behind (1,000,000),
   * as NiFi slows a flow that outruns its provenance repository.
   */
  readonly provenanceMaxIndexLag?: number;
  /** Queue swap threshold and batch (20,000 / 10,000). */
  readonly swapThreshold?: number;
  readonly swapBatchSize?: number;
  /** Environment variables visible to Expression Language (process.env). */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /**
   * Directories file processors may read and write (after symlinks are resolved); anything else is
   * refused. Default: the working directory.
   */
  readonly fileRoots?: readonly string[];
}

/** What applying a flow did. */
export interface ApplyReport {
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
  /** Components stopped and started again because their configuration changed. */
  readonly restarted: readonly string[];
  /** FlowFiles dropped after a restart because their connection is no longer in the flow. */
  readonly orphansDropped: number;
}

/** Thrown for an operation on a component or queue that does not exist. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** Thrown for an operation the current state does not allow (start an invalid processor, ...). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** A commit's FlowFiles on their way into their queues; `next` is the first not placed yet. */
interface Placement {
  readonly puts: ReadonlyArray<readonly [ConnectionRuntime, FlowFileRecord]>;
  next: number;
}

/** FlowFiles put into queues per turn of the event loop once their commit is durable. */
const PLACE_SLICE = 20_000;

interface FlatComponent {
  readonly kind: NodeKind;
  readonly groupId: string;
  readonly config: ProcessorDefinitionEntry;
  /** A root-group port open to Site-to-Site (`allowRemoteAccess`). */
  readonly siteToSite?: PortDefinition;
}

interface FlatFlow {
  readonly components: Map<string, FlatComponent>;
  readonly connections: Map<string, { definition: ConnectionDefinition; groupId: string }>;
  readonly services: Map<string, { definition: ControllerServiceDefinition; groupId: string }>;
  readonly groups: Map<string, { definition: ProcessGroupDefinition; parentId: string | undefined; path: string }>;
  readonly paths: Map<string, string>;
}

const DEFAULT_SCHEDULING = {
  strategy: 'timer',
  period: '0 sec',
  concurrentTasks: 1,
  runDuration: '0 ms',
  penaltyDuration: '30 sec',
  yieldDuration: '1 sec',
} as const;

/**
 * The engine: repositories, the flow's components and queues, the scheduler, provenance, state and
 * status, behind methods the server and the headless runner call. Knows nothing of HTTP.
 *
 * @example
 *   const engine = await Engine.open({ dataDir: './data', registry });
 *   await engine.applyFlow(parseFlowJson(text));
 *   ...
 *   await engine.shutdown();
 */
export class Engine {
  readonly options: EngineOptions;
  readonly registry: ExtensionRegistry;
  readonly bulletins = new BulletinRepository();
  readonly content: ContentRepository;
  readonly flowFiles: FlowFileRepository;
  readonly provenance: ProvenanceRepository;
  readonly state: StateStore;
  readonly scheduler: Scheduler;
  readonly #host: SessionHost;
  readonly #swap: SwapManager;
  readonly #sink: LogSink;
  readonly #logLevel: LogLevel;
  readonly #env: Readonly<Record<string, string | undefined>>;
  #flow: FlowDocument = emptyFlow();
  readonly #nodes = new Map<string, ProcessorNode>();
  readonly #connections = new Map<string, ConnectionRuntime>();
  readonly #services = new Map<string, ServiceNode>();
  readonly #groupOf = new Map<string, string>();
  #recovered: RecoveredState | undefined;
  #contentRecovered = false;
  #applying: Promise<unknown> = Promise.resolve();
  #housekeeping: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #startedAt = Date.now();
  readonly #paths: PathGuard;

  readonly #lock: DataDirLock | undefined;

  private constructor(options: EngineOptions) {
    this.options = options;
    this.registry = options.registry;
    this.#sink = options.logSink ?? (() => undefined);
    this.#logLevel = options.logLevel ?? 'INFO';
    this.#env = options.environment ?? process.env;
    this.#paths = new PathGuard(options.fileRoots ?? [process.cwd()]);
    const durable = (options.repositories ?? 'durable') === 'durable';
    const durability = options.durability ?? 'process';
    this.#lock = durable ? DataDirLock.acquire(options.dataDir) : undefined;
    const dir = (name: string): string => {
      const path = join(options.dataDir, name);
      mkdirSync(path, { recursive: true });
      return path;
    };
    this.state = durable ? new SqliteStateStore(join(dir('state'), 'state.db')) : new MemoryStateStore();
    this.content = durable
      ? new FileContentRepository({
          directory: dir('content-repository'),
          durability,
          // Sessions claim content in the same synchronous step (or microtask chain) that wrote it,
          // so released files need no long grace before they are archived.
          releaseGraceMs: 100,
          ...options.content,
          onWatermark: (full, message) => {
            this.bulletins.add({ level: full ? 'ERROR' : 'INFO', message });
            this.#log({ level: full ? 'ERROR' : 'INFO', message });
            if (!full) for (const node of this.#nodes.values()) this.scheduler.wake(node);
          },
          onError: (message, error) => this.#log({ level: 'ERROR', message, error }),
        })
      : new MemoryContentRepository({ releaseGraceMs: 100 });
    const provenanceMode = options.provenance ?? (durable ? 'durable' : 'volatile');
    this.provenance =
      provenanceMode === 'durable'
        ? new FileProvenanceRepository({ directory: dir('provenance-repository'), durability, ...options.provenanceRetention })
        : provenanceMode === 'volatile'
          ? new MemoryProvenanceRepository()
          : new NoopProvenanceRepository();
    const snapshot = (): Iterable<QueueSnapshot> => this.#snapshot();
    const provenance = this.provenance;
    const content = this.content;
    this.flowFiles = durable
      ? new FileFlowFileRepository({
          directory: dir('flowfile-repository'),
          durability,
          snapshot,
          stateStore: this.state,
          ...options.flowFileRepository,
          onError: (error: unknown) => this.#log({ level: 'ERROR', message: 'FlowFile repository', error }),
          flushHooks: {
            beforeWrite: () => content.flush(),
            afterWrite: () => provenance.flush(),
            beforeSync: async () => {
              await Promise.all([content.sync(), provenance.sync()]);
            },
          },
        })
      : new VolatileFlowFileRepository({
          stateStore: this.state,
          flushHooks: { beforeWrite: () => content.flush(), afterWrite: () => provenance.flush() },
        });
    this.#swap = durable ? new RepositorySwapManager(this.flowFiles) : new MemorySwapManager();
    this.#host = {
      content: this.content,
      flowFiles: this.flowFiles,
      provenance: this.provenance,
      state: this.state,
      provenanceEnabled: provenanceMode !== 'off',
      place: (puts) => this.#place(puts),
    };
    this.scheduler = new Scheduler(this.#host, { ...options.scheduler, holdSources: () => this.#provenanceBehind() });
  }

  /**
   * Opens the repositories under the data directory and recovers what a previous run committed.
   * The recovered FlowFiles return to their queues when the flow is applied.
   */
  static async open(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(options);
    try {
      await engine.provenance.open();
      engine.#recovered = await engine.flowFiles.recover();
    } catch (e) {
      // Close what was opened and free the directory: this process may try again once the cause is fixed.
      await engine.provenance.close().catch(() => undefined);
      await engine.content.close().catch(() => undefined);
      engine.state.close();
      engine.#lock?.release();
      throw e;
    }
    const report = engine.#recovered.report;
    if (report.droppedTailBytes > 0) {
      engine.#log({
        level: 'WARN',
        message: `recovery dropped a torn journal tail of ${report.droppedTailBytes} bytes (a commit cut by a crash)`,
      });
    }
    engine.#housekeeping = setInterval(() => engine.#expireQueues(), 1000);
    engine.#housekeeping.unref();
    return engine;
  }

  #log(entry: Omit<LogEntry, 'time'>): void {
    this.#sink({ time: Date.now(), ...entry });
  }

  /** The flow document currently applied. */
  get flow(): FlowDocument {
    return this.#flow;
  }

  /** How many FlowFiles recovery restored (for the CLI's startup line). */
  get recoveryReport(): RecoveredState['report'] | undefined {
    return this.#recovered?.report;
  }

  // ---- validation ---------------------------------------------------------------------------

  /** Every problem that would stop this document from being applied (empty when it can be). */
  validate(input: unknown): FlowProblem[] {
    let document: FlowDocument;
    try {
      document = parseFlowDocument(input);
    } catch (e) {
      if (e instanceof FlowValidationError) return [...e.problems];
      throw e;
    }
    return this.#validate(document).problems;
  }

  #validate(document: FlowDocument): { flat: FlatFlow; problems: FlowProblem[]; invalid: Map<string, string[]> } {
    const problems: FlowProblem[] = [];
    const flat = flatten(document, problems);
    const invalid = new Map<string, string[]>();
    const contexts = new Map(document.parameterContexts.map((c) => [c.id, c]));
    for (const context of document.parameterContexts) {
      for (const parent of context.inherits) {
        if (!contexts.has(parent)) {
          problems.push({
            path: `parameterContexts`,
            message: `parameter context "${context.name}" inherits unknown context "${parent}"`,
          });
        }
      }
    }
    const relationshipsOf = new Map<string, Set<string>>();
    for (const [id, component] of flat.components) {
      const path = flat.paths.get(id) ?? id;
      if (component.kind !== 'processor') continue;
      const definition = this.registry.processor(component.config.type);
      if (definition === undefined) {
        const suggestion = this.registry.suggestProcessor(component.config.type);
        problems.push({
          path: `${path}.type`,
          componentId: id,
          componentName: component.config.name,
          message: `unknown processor type "${component.config.type}"${suggestion === undefined ? '' : `; did you mean "${suggestion}"?`}`,
        });
        continue;
      }
      relationshipsOf.set(id, relationshipsFor(definition, component.config));
    }
    for (const [id, service] of flat.services) {
      if (this.registry.service(service.definition.type) === undefined) {
        problems.push({
          path: `${flat.paths.get(id) ?? id}.type`,
          componentId: id,
          componentName: service.definition.name,
          message: `unknown controller service type "${service.definition.type}"`,
        });
      }
    }
    // Wiring: ends exist, live in the right group, and relationships exist.
    for (const [id, { definition, groupId }] of flat.connections) {
      const path = flat.paths.get(id) ?? id;
      const source = flat.components.get(definition.source.id);
      const destination = flat.components.get(definition.destination.id);
      const name = definition.name ?? id;
      if (source === undefined) {
        problems.push({
          path: `${path}.source`,
          componentId: id,
          componentName: name,
          message: `source "${definition.source.id}" does not exist`,
        });
      } else if (
        !(source.groupId === groupId || (source.kind === 'output-port' && flat.groups.get(source.groupId)?.parentId === groupId))
      ) {
        problems.push({
          path: `${path}.source`,
          componentId: id,
          componentName: name,
          message: `source "${definition.source.id}" is not in this process group (or an output port of a group inside it)`,
        });
      } else if (source.kind === 'processor') {
        const relationships = relationshipsOf.get(definition.source.id);
        if (definition.relationships.length === 0) {
          problems.push({
            path: `${path}.relationships`,
            componentId: id,
            componentName: name,
            message: 'a connection from a processor needs at least one relationship',
          });
        }
        for (const relationship of definition.relationships) {
          if (relationships !== undefined && !relationships.has(relationship)) {
            problems.push({
              path: `${path}.relationships`,
              componentId: id,
              componentName: name,
              message: `"${source.config.name}" has no relationship "${relationship}" (it has: ${[...relationships].join(', ')})`,
            });
          }
        }
      }
      if (destination === undefined) {
        problems.push({
          path: `${path}.destination`,
          componentId: id,
          componentName: name,
          message: `destination "${definition.destination.id}" does not exist`,
        });
      } else if (
        !(
          destination.groupId === groupId ||
          (destination.kind === 'input-port' && flat.groups.get(destination.groupId)?.parentId === groupId)
        )
      ) {
        problems.push({
          path: `${path}.destination`,
          componentId: id,
          componentName: name,
          message: `destination "${definition.destination.id}" is not in this process group (or an input port of a group inside it)`,
        });
      } else if (destination.kind === 'processor' && this.registry.processor(destination.config.type)?.input === 'forbidden') {
        problems.push({
          path: `${path}.destination`,
          componentId: id,
          componentName: name,
          message: `"${destination.config.name}" (${destination.config.type}) takes no input`,
        });
      }
      for (const [what, text] of [
        ['backPressureDataSizeThreshold', definition.backPressureDataSizeThreshold],
        ['flowFileExpiration', definition.flowFileExpiration],
      ] as const) {
        const problem = what === 'flowFileExpiration' ? checkPeriod(text) : checkSize(text);
        if (problem !== undefined)
          problems.push({ path: `${path}.${what}`, componentId: id, componentName: name, message: problem });
      }
      const current = this.#connections.get(id);
      if (current !== undefined) {
        const size = current.queue.size();
        const movedSource = current.sourceId !== definition.source.id;
        if (size.count > 0 && movedSource) {
          problems.push({
            path: `${path}.source`,
            componentId: id,
            componentName: name,
            message: `its source cannot change while it holds ${size.count} FlowFiles; empty the queue first`,
          });
        }
      }
    }
    for (const [id, current] of this.#connections) {
      if (flat.connections.has(id)) continue;
      const count = current.queue.size().count + this.#inTransitCount(current);
      if (count > 0) {
        problems.push({
          path: 'rootGroup',
          componentId: id,
          componentName: current.displayName,
          message: `cannot be removed: it holds ${count} FlowFiles; empty the queue first`,
        });
      }
    }
    // Component configuration: properties, scheduling, relationships.
    for (const [id, component] of flat.components) {
      if (component.kind !== 'processor') continue;
      const definition = this.registry.processor(component.config.type);
      if (definition === undefined) continue;
      const errors = this.#validateProcessor(id, component, definition, flat, document);
      const path = flat.paths.get(id) ?? id;
      if (errors.length > 0) {
        invalid.set(
          id,
          errors.map((e) => (e.property === undefined ? e.message : `property "${e.property}": ${e.message}`)),
        );
        if (component.config.state === 'RUNNING') {
          for (const e of errors) {
            problems.push({
              path: e.property === undefined ? path : `${path}.properties.${e.property}`,
              componentId: id,
              componentName: component.config.name,
              ...(e.property === undefined ? {} : { property: e.property }),
              message: e.message,
            });
          }
        }
      }
    }
    for (const [id, { definition }] of flat.services) {
      const type = this.registry.service(definition.type);
      if (type === undefined) continue;
      const groupId = flat.services.get(id)?.groupId ?? 'root';
      const env = this.#validationEnv(flat, document, groupId);
      const errors = validateProperties(type, definition.properties, env);
      if (errors.length === 0 && type.validate !== undefined) {
        // Checks across properties, as for processors (e.g. "a URL or a host, not both").
        const propertyEnv = this.#propertyEnvironment(this.#parametersFor(flat, document, groupId), id);
        const declared = new Map<string, ConfiguredProperty>();
        for (const [name, descriptor] of Object.entries(type.properties)) {
          const raw = definition.properties[name];
          declared.set(
            name,
            new ConfiguredProperty(name, descriptor, raw ?? descriptor.default, propertyEnv, descriptor.expression),
          );
        }
        try {
          for (const message of type.validate({
            getProperty: (name) => {
              const property = declared.get(name);
              if (property === undefined) throw new Error(`${type.type} has no property "${name}"`);
              return property;
            },
            dynamicProperties: new Map(),
          })) {
            errors.push({ message });
          }
        } catch (e) {
          errors.push({ message: e instanceof Error ? e.message : String(e) });
        }
      }
      if (errors.length > 0) {
        invalid.set(
          id,
          errors.map((e) => (e.property === undefined ? e.message : `property "${e.property}": ${e.message}`)),
        );
        if (definition.state === 'ENABLED') {
          for (const e of errors) {
            problems.push({
              path: `${flat.paths.get(id) ?? id}.properties${e.property === undefined ? '' : `.${e.property}`}`,
              componentId: id,
              componentName: definition.name,
              ...(e.property === undefined ? {} : { property: e.property }),
              message: e.message,
            });
          }
        }
      }
    }
    return { flat, problems, invalid };
  }

  #validationEnv(flat: FlatFlow, document: FlowDocument, groupId: string): ValidationEnvironment {
    const parameters = this.#parametersFor(flat, document, groupId);
    return {
      parameter: (name) => parameters.get(name),
      service: (id) => {
        const service = flat.services.get(id);
        if (service === undefined) return undefined;
        const type = this.registry.service(service.definition.type);
        return { provides: type?.provides ?? [], enabled: service.definition.state === 'ENABLED', name: service.definition.name };
      },
    };
  }

  #validateProcessor(
    id: string,
    component: FlatComponent,
    definition: AnyProcessorDefinition,
    flat: FlatFlow,
    document: FlowDocument,
  ): PropertyProblem[] {
    const { config } = component;
    const env = this.#validationEnv(flat, document, component.groupId);
    const problems = validateProperties(definition, config.properties, env);
    try {
      parseScheduling(config);
    } catch (e) {
      problems.push({ message: e instanceof Error ? e.message : String(e) });
    }
    const relationships = relationshipsFor(definition, config);
    const connected = new Set<string>();
    let incoming = 0;
    for (const { definition: c } of flat.connections.values()) {
      if (c.source.id === id) for (const r of c.relationships) connected.add(r);
      if (c.destination.id === id) incoming++;
    }
    for (const relationship of relationships) {
      if (!connected.has(relationship) && !config.autoTerminate.includes(relationship)) {
        problems.push({ message: `relationship "${relationship}" is not connected and not auto-terminated` });
      }
    }
    for (const relationship of config.autoTerminate) {
      if (!relationships.has(relationship)) problems.push({ message: `auto-terminates unknown relationship "${relationship}"` });
    }
    for (const relationship of config.retry?.relationships ?? []) {
      if (!relationships.has(relationship)) problems.push({ message: `retries unknown relationship "${relationship}"` });
    }
    const backoffProblem = config.retry === undefined ? undefined : checkPeriod(config.retry.maxBackoff);
    if (backoffProblem !== undefined) problems.push({ message: `retry max backoff: ${backoffProblem}` });
    if (definition.input === 'required' && incoming === 0) problems.push({ message: 'needs an incoming connection' });
    if (definition.input === 'forbidden' && incoming > 0) problems.push({ message: 'takes no incoming connections' });
    if (definition.validate !== undefined && problems.length === 0) {
      const properties = this.#properties(definition, config, component.groupId, flat, document);
      try {
        for (const message of definition.validate({
          getProperty: (name) => {
            const p = properties.declared.get(name);
            if (p === undefined) throw new Error(`no property ${name}`);
            return p;
          },
          dynamicProperties: properties.dynamic,
        })) {
          problems.push({ message });
        }
      } catch (e) {
        problems.push({ message: e instanceof Error ? e.message : String(e) });
      }
    }
    return problems;
  }

  // ---- parameters and property environments ----------------------------------------------------

  #parametersFor(
    flat: FlatFlow,
    document: FlowDocument,
    groupId: string,
  ): Map<string, { value: string | null; sensitive: boolean }> {
    const contextId = flat.groups.get(groupId)?.definition.parameterContextId;
    const out = new Map<string, { value: string | null; sensitive: boolean }>();
    if (contextId === undefined) return out;
    const contexts = new Map(document.parameterContexts.map((c) => [c.id, c]));
    const seen = new Set<string>();
    const visit = (context: ParameterContextDefinition | undefined): void => {
      if (context === undefined || seen.has(context.id)) return;
      seen.add(context.id);
      for (const p of context.parameters) if (!out.has(p.name)) out.set(p.name, { value: p.value, sensitive: p.sensitive });
      for (const parent of context.inherits) visit(contexts.get(parent));
    };
    visit(contexts.get(contextId));
    return out;
  }

  #propertyEnvironment(
    parameters: Map<string, { value: string | null; sensitive: boolean }>,
    componentId: string,
  ): PropertyEnvironment {
    const env = this.#env;
    return {
      parameter: (name) => parameters.get(name)?.value ?? undefined,
      environment: (name) => (Object.hasOwn(env, name) ? env[name] : undefined),
      hostname: () => hostname(),
      ip: () => localIp(),
      state: (key) => this.state.get(componentId, key),
    };
  }

  #properties(
    definition: AnyProcessorDefinition,
    config: ProcessorDefinitionEntry,
    groupId: string,
    flat: FlatFlow,
    document: FlowDocument,
  ): { declared: Map<string, ConfiguredProperty>; dynamic: Map<string, ConfiguredProperty> } {
    const env = this.#propertyEnvironment(this.#parametersFor(flat, document, groupId), config.id);
    const declared = new Map<string, ConfiguredProperty>();
    for (const [name, descriptor] of Object.entries(definition.properties)) {
      const raw = Object.hasOwn(config.properties, name) ? config.properties[name] : undefined;
      const value = raw === null || raw === undefined ? descriptor.default : raw;
      declared.set(name, new ConfiguredProperty(name, descriptor, value, env, descriptor.expression));
    }
    const dynamic = new Map<string, ConfiguredProperty>();
    const spec = definition.dynamicProperties;
    if (spec !== undefined) {
      const scope = spec.valueIs === 'boolean-expression' ? 'flowfile' : (spec.expression ?? 'none');
      for (const [name, raw] of Object.entries(config.properties)) {
        if (Object.hasOwn(definition.properties, name) || raw === null) continue;
        dynamic.set(name, new ConfiguredProperty(name, undefined, raw, env, scope));
      }
    }
    return { declared, dynamic };
  }

  // ---- applying a flow ----------------------------------------------------------------------

  /**
   * Validates a flow document and applies it to the running engine: only what changed is stopped,
   * reconfigured and started again; queued data stays where it is.
   * @throws {FlowValidationError} listing every problem; when thrown, nothing was changed.
   */
  applyFlow(input: unknown): Promise<ApplyReport> {
    const run = this.#applying.then(() => this.#apply(input));
    this.#applying = run.catch(() => undefined);
    return run;
  }

  async #apply(input: unknown): Promise<ApplyReport> {
    if (this.#closed) throw new ConflictError('the engine is shut down');
    const document = parseFlowDocument(input);
    const { flat, problems, invalid } = this.#validate(document);
    if (problems.length > 0) throw new FlowValidationError(problems);

    const previous = this.#flow;
    const restarted: string[] = [];
    let added = 0;
    let removed = 0;
    let changed = 0;

    // 1. Stop what goes away or must restart; disable services that change.
    const toStop: ProcessorNode[] = [];
    const reconfigure = new Set<string>();
    const previousFlat = flatten(previous, []);
    // A parameter's new value reaches a component only through a restart (onScheduled reads it).
    const parametersChanged = (properties: ProcessorDefinitionEntry['properties'], before: string, after: string): boolean => {
      const names = Object.values(properties).flatMap((v) => (v === null ? [] : referencedParameters(v)));
      if (names.length === 0) return false;
      const old = this.#parametersFor(previousFlat, previous, before);
      const now = this.#parametersFor(flat, document, after);
      return names.some((n) => old.get(n)?.value !== now.get(n)?.value || old.get(n)?.sensitive !== now.get(n)?.sensitive);
    };
    for (const [id, node] of this.#nodes) {
      const next = flat.components.get(id);
      if (next === undefined || next.kind !== node.kind) {
        toStop.push(node);
        continue;
      }
      if (needsRestart(node.config, next.config) || parametersChanged(next.config.properties, node.groupId, next.groupId)) {
        reconfigure.add(id);
        if (node.runState !== 'STOPPED' && node.runState !== 'DISABLED') {
          toStop.push(node);
          if (next.config.state === 'RUNNING') restarted.push(id);
        }
      }
    }
    const changedServices = new Set<string>();
    for (const [id, service] of this.#services) {
      const next = flat.services.get(id);
      if (
        next === undefined ||
        JSON.stringify(next.definition.properties) !== JSON.stringify(service.definition.properties) ||
        next.definition.type !== service.definition.type ||
        parametersChanged(next.definition.properties, service.groupId, next.groupId)
      ) {
        changedServices.add(id);
        for (const node of this.#nodes.values()) {
          if (node.runState === 'RUNNING' && usesService(node, id) && !toStop.includes(node)) {
            toStop.push(node);
            reconfigure.add(node.id);
            restarted.push(node.id);
          }
        }
      }
    }
    await Promise.all(toStop.map((node) => this.#stopNode(node)));
    for (const id of changedServices) {
      const service = this.#services.get(id);
      if (service !== undefined) await service.disable();
      this.#services.delete(id);
    }

    // 2. Remove connections and components that are gone.
    for (const id of this.#connections.keys()) {
      if (!flat.connections.has(id)) {
        this.#connections.delete(id);
        removed++;
      }
    }
    for (const [id, node] of this.#nodes) {
      const next = flat.components.get(id);
      if (next === undefined || next.kind !== node.kind) {
        if (node.kind === 'processor') await this.#callQuietly(node, 'onRemoved');
        this.#nodes.delete(id);
        this.bulletins.removeComponent(id);
        removed++;
      }
    }

    // 3. Services: create and enable in dependency order.
    for (const [id, { definition, groupId }] of flat.services) {
      let service = this.#services.get(id);
      const type = this.registry.service(definition.type);
      if (type === undefined) continue;
      if (service === undefined) {
        service = new ServiceNode(id, groupId, type, definition, this.#serviceLogger(id, definition.name, type.type, groupId));
        this.#services.set(id, service);
        if (!previous || !this.#serviceExisted(previous, id)) added++;
      } else {
        service.definition = definition;
      }
      service.validationErrors = invalid.get(id) ?? [];
    }
    await this.#enableServices(flat, document);

    // 4. Components: create or update.
    for (const [id, component] of flat.components) {
      const existing = this.#nodes.get(id);
      const definition = componentDefinition(component, this.registry);
      if (definition === undefined) continue;
      // An invalid schedule or retry setting makes a stopped processor invalid (validation said so),
      // not the whole apply fail half-way: it gets harmless defaults until it is fixed.
      const scheduling =
        component.kind === 'processor'
          ? (orUndefined(() => parseScheduling(component.config)) ?? passThroughScheduling())
          : passThroughScheduling();
      if (existing === undefined) {
        const node: ProcessorNode = new ProcessorNode(
          id,
          component.kind,
          component.groupId,
          definition,
          component.config,
          scheduling,
          createComponentLogger(
            {
              id,
              name: component.config.name,
              type: definition.type,
              groupId: component.groupId,
              bulletinLevel: (): LogLevel => node.config.bulletinLevel,
            },
            this.#sink,
            this.bulletins,
            this.#logLevel,
          ),
          {
            stateReader: (componentId) => this.#stateReader(componentId),
            service: (componentId, property, serviceId) => this.#serviceInstance(componentId, property, serviceId),
            yieldNode: (n, ms) => this.scheduler.yieldNode(n, ms),
            resolvePath: (path) => this.#paths.resolve(path),
          },
        );
        this.#nodes.set(id, node);
        added++;
      } else {
        if (reconfigure.has(id) || JSON.stringify(existing.config) !== JSON.stringify(component.config)) changed++;
        existing.definition = definition;
        existing.config = component.config;
        existing.groupId = component.groupId;
        existing.scheduling = scheduling;
      }
      const node = this.#nodes.get(id);
      if (node === undefined) continue;
      node.retry = component.kind === 'processor' ? orUndefined(() => parseRetry(component.config)) : undefined;
      node.autoTerminated = new Set(component.config.autoTerminate);
      node.relationships =
        component.kind === 'processor' ? relationshipsFor(definition, component.config) : new Set([PASS_THROUGH]);
      node.validationErrors = invalid.get(id) ?? [];
      if (component.kind === 'processor') {
        try {
          const properties = this.#properties(definition, component.config, component.groupId, flat, document);
          node.properties = properties.declared;
          node.dynamicProperties = properties.dynamic;
        } catch (e) {
          // Invalid and stopped: it cannot run until fixed, so its properties stay unreadable.
          node.properties = new Map();
          node.dynamicProperties = new Map();
          if (node.validationErrors.length === 0) node.validationErrors = [e instanceof Error ? e.message : String(e)];
        }
      }
    }

    // 5. Connections: create or update, then rewire every node.
    for (const [id, { definition, groupId }] of flat.connections) {
      const existing = this.#connections.get(id);
      if (existing === undefined) {
        const queue = new ConnectionQueue(id, queueSettingsOf(definition), {
          swap: this.#swap,
          listener: this.#queueListener,
          ...(this.options.swapThreshold === undefined ? {} : { swapThreshold: this.options.swapThreshold }),
          ...(this.options.swapBatchSize === undefined ? {} : { swapBatchSize: this.options.swapBatchSize }),
          onExpired: (flowFiles: readonly FlowFileRecord[]) => this.#expired(id, flowFiles),
        });
        this.#connections.set(id, new ConnectionRuntime(definition, groupId, queue));
        added++;
      } else {
        if (JSON.stringify(existing.definition) !== JSON.stringify(definition)) changed++;
        existing.definition = definition;
        existing.queue.updateSettings(queueSettingsOf(definition));
      }
    }
    this.#rewire();
    for (const [id, group] of flat.groups) this.#groupOf.set(id, group.parentId ?? '');

    // 6. After a restart, put recovered FlowFiles back in their queues.
    let orphansDropped = 0;
    if (this.#recovered !== undefined) {
      orphansDropped = this.#restoreRecovered(this.#recovered);
      this.#recovered = undefined;
    }
    if (!this.#contentRecovered) {
      await this.content.recover(this.#claimantCounts());
      this.#contentRecovered = true;
    }

    this.#flow = document;

    // 7. Bring run states to what the document says.
    const starts: Promise<void>[] = [];
    for (const [id, component] of flat.components) {
      const node = this.#nodes.get(id);
      if (node === undefined) continue;
      const desired = component.config.state;
      if (desired === 'RUNNING' && node.runState === 'STOPPED') starts.push(this.#startNode(node));
      else if (desired !== 'RUNNING' && (node.runState === 'RUNNING' || node.runState === 'STARTING')) await this.#stopNode(node);
      if (desired === 'DISABLED' && node.runState === 'STOPPED') node.runState = 'DISABLED';
      if (desired !== 'DISABLED' && node.runState === 'DISABLED') node.runState = 'STOPPED';
    }
    await Promise.all(starts);
    return { added, removed, changed, restarted, orphansDropped };
  }

  #serviceExisted(previous: FlowDocument, id: string): boolean {
    let found = false;
    const visit = (group: ProcessGroupDefinition): void => {
      if (group.controllerServices.some((s) => s.id === id)) found = true;
      for (const child of group.processGroups) visit(child);
    };
    visit(previous.rootGroup);
    return found;
  }

  async #enableServices(flat: FlatFlow, document: FlowDocument): Promise<void> {
    // Enable in dependency order: a service waits for the services it references.
    const pending = new Set([...flat.services.keys()].filter((id) => flat.services.get(id)?.definition.state === 'ENABLED'));
    for (const [id, service] of this.#services) {
      if (!pending.has(id) && service.enabled) await service.disable();
    }
    let progress = true;
    while (pending.size > 0 && progress) {
      progress = false;
      for (const id of [...pending]) {
        const service = this.#services.get(id);
        if (service === undefined) {
          pending.delete(id);
          continue;
        }
        const dependencies = service.referencedServices();
        if (dependencies.some((d) => pending.has(d))) continue;
        pending.delete(id);
        progress = true;
        if (service.enabled) continue;
        if (service.validationErrors.length > 0) continue;
        const env = this.#propertyEnvironment(this.#parametersFor(flat, document, service.groupId), id);
        await service.enable(
          env,
          (dependency) => this.#services.get(dependency),
          (path) => this.#paths.resolve(path),
        );
      }
    }
  }

  #rewire(): void {
    for (const node of this.#nodes.values()) {
      node.incoming = [];
      node.outgoing = new Map();
      node.allOutgoing = [];
    }
    for (const connection of this.#connections.values()) {
      const source = this.#nodes.get(connection.sourceId);
      const destination = this.#nodes.get(connection.destinationId);
      if (destination !== undefined) destination.incoming.push(connection);
      if (source !== undefined) {
        const relationships = source.kind === 'processor' ? connection.definition.relationships : [PASS_THROUGH];
        for (const relationship of relationships) {
          const list = source.outgoing.get(relationship);
          if (list === undefined) source.outgoing.set(relationship, [connection]);
          else list.push(connection);
        }
        source.allOutgoing.push(connection);
      }
    }
    for (const node of this.#nodes.values()) {
      node.pollCursor = 0;
      this.scheduler.wake(node);
    }
  }

  readonly #queueListener = {
    dataAvailable: (queueId: string): void => {
      const connection = this.#connections.get(queueId);
      const node = connection === undefined ? undefined : this.#nodes.get(connection.destinationId);
      if (node !== undefined) this.scheduler.wake(node);
    },
    spaceAvailable: (queueId: string): void => {
      const connection = this.#connections.get(queueId);
      const node = connection === undefined ? undefined : this.#nodes.get(connection.sourceId);
      if (node !== undefined) this.scheduler.wake(node);
    },
    eligibleAt: (queueId: string, at: number): void => {
      const connection = this.#connections.get(queueId);
      const node = connection === undefined ? undefined : this.#nodes.get(connection.destinationId);
      if (node !== undefined) this.scheduler.wakeAt(node, at);
    },
  };

  // ---- recovery -----------------------------------------------------------------------------

  #restoreRecovered(recovered: RecoveredState): number {
    let orphans = 0;
    const records: RepositoryRecord[] = [];
    const events: ProvenanceEventInput[] = [];
    const now = Date.now();
    const queueIds = new Set([...recovered.queues.keys(), ...recovered.swaps.keys()]);
    for (const queueId of queueIds) {
      const flowFiles = recovered.queues.get(queueId) ?? [];
      const swaps = recovered.swaps.get(queueId) ?? [];
      const connection = this.#connections.get(queueId);
      if (connection !== undefined) {
        connection.queue.restore(flowFiles, swaps);
        continue;
      }
      // The flow no longer has this connection (edited while data was queued): NiFi drops these
      // FlowFiles with a warning; so do we, with DROP events so lineage shows where they ended.
      const all = [...flowFiles];
      for (const flowFile of flowFiles) records.push({ type: 'delete', uuid: flowFile.uuid });
      for (const swap of swaps) {
        all.push(...this.flowFiles.readSwapFile(swap));
        records.push({ type: 'swap-drop', swap });
      }
      for (const flowFile of all) {
        events.push(this.#systemEvent('DROP', flowFile, `connection ${queueId} no longer exists in the flow`, now, queueId));
      }
      orphans += all.length;
      this.bulletins.add({
        level: 'WARN',
        message: `dropped ${all.length} recovered FlowFiles: their connection ${queueId} is no longer in the flow`,
      });
    }
    if (records.length > 0) this.flowFiles.commitNoWait(records);
    if (events.length > 0) this.provenance.append(events);
    // No claimant counts to release: content recovery runs after this and archives what no
    // restored FlowFile references.
    return orphans;
  }

  /**
   * Committed FlowFiles not in their queues yet: waiting for their transaction to be durable, then
   * entering their queues from `next` on (see {@link #placeSome}). Checkpoints count them.
   */
  readonly #inTransit = new Set<Placement>();
  /** Durable placements entering their queues, in commit order. */
  readonly #placing: Placement[] = [];
  #placeScheduled = false;
  /** Resolved once nothing durable is waiting to enter a queue (see {@link settle}). */
  #placedWaiters: Array<() => void> = [];

  #inTransitCount(connection: ConnectionRuntime): number {
    let n = 0;
    for (const p of this.#inTransit) for (let i = p.next; i < p.puts.length; i++) if (p.puts[i]?.[0] === connection) n++;
    return n;
  }

  #place(puts: ReadonlyArray<readonly [ConnectionRuntime, FlowFileRecord]>): void {
    const placement: Placement = { puts, next: 0 };
    this.#inTransit.add(placement);
    for (const [connection, flowFile] of puts) {
      connection.inTransitCount++;
      connection.inTransitBytes += flowFile.size;
    }
    this.flowFiles.afterDurable(() => {
      this.#placing.push(placement);
      // Nothing ahead of it: in now (a large commit's first slice). Otherwise it waits its turn,
      // so FlowFiles never overtake those of an earlier commit.
      if (this.#placing.length === 1 && !this.#placeScheduled) this.#placeSome();
    });
  }

  /**
   * Puts up to {@link PLACE_SLICE} durable FlowFiles into their queues, runs for the same connection
   * together (one notification, one swap check); what is left goes in on the next turn of the event
   * loop, so a commit of hundreds of thousands of FlowFiles (with the swap files it makes) does not
   * stop everything else.
   */
  #placeSome(): void {
    this.#placeScheduled = false;
    let budget = PLACE_SLICE;
    let failure: unknown;
    while (budget > 0) {
      const head = this.#placing[0];
      if (head === undefined) break;
      const { puts } = head;
      const end = Math.min(puts.length, head.next + budget);
      let run: FlowFileRecord[] = [];
      let runConnection: ConnectionRuntime | undefined;
      const putRun = (): void => {
        // A connection removed meanwhile cannot hold data (removal requires an empty queue, and
        // in-transit FlowFiles count): guarded all the same.
        if (runConnection !== undefined && this.#connections.get(runConnection.id) === runConnection) {
          try {
            runConnection.queue.putAll(run);
          } catch (error) {
            // A swap file that could not be written: the FlowFiles stay queued in memory.
            failure ??= error;
          }
        }
        run = [];
      };
      for (let i = head.next; i < end; i++) {
        const entry = puts[i];
        if (entry === undefined) continue;
        const [connection, flowFile] = entry;
        connection.inTransitCount--;
        connection.inTransitBytes -= flowFile.size;
        if (connection !== runConnection) {
          putRun();
          runConnection = connection;
        }
        run.push(flowFile);
      }
      putRun();
      budget -= end - head.next;
      head.next = end;
      if (head.next >= puts.length) {
        this.#placing.shift();
        this.#inTransit.delete(head);
      }
    }
    if (this.#placing.length > 0) {
      this.#placeScheduled = true;
      setImmediate(() => this.#placeSome());
    } else if (this.#placedWaiters.length > 0) {
      const waiters = this.#placedWaiters;
      this.#placedWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (failure !== undefined) {
      const message = `FlowFiles could not be swapped out of memory (they stay queued in memory): ${failure instanceof Error ? failure.message : String(failure)}`;
      this.bulletins.add({ level: 'ERROR', message });
      this.#log({ level: 'ERROR', message, error: failure });
    }
  }

  #claimantCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    const add = (resourceId: string, n: number): void => {
      counts.set(resourceId, (counts.get(resourceId) ?? 0) + n);
    };
    for (const connection of this.#connections.values()) {
      const snapshot = connection.queue.snapshot();
      for (const flowFile of snapshot.flowFiles) if (flowFile.claim !== null) add(flowFile.claim.resourceId, 1);
      for (const swap of snapshot.swaps) for (const [resourceId, n] of swap.resourceCounts) add(resourceId, n);
    }
    return counts;
  }

  *#snapshot(): Iterable<QueueSnapshot> {
    const transit = new Map<string, FlowFileRecord[]>();
    for (const { puts, next } of this.#inTransit) {
      for (let i = next; i < puts.length; i++) {
        const entry = puts[i];
        if (entry === undefined) continue;
        const [connection, flowFile] = entry;
        const list = transit.get(connection.id);
        if (list === undefined) transit.set(connection.id, [flowFile]);
        else list.push(flowFile);
      }
    }
    for (const connection of this.#connections.values()) {
      const snapshot = connection.queue.snapshot();
      const moving = transit.get(connection.id);
      yield moving === undefined ? snapshot : { ...snapshot, flowFiles: [...snapshot.flowFiles, ...moving] };
    }
    // Recovered queues not yet restored (no flow applied yet) must survive a checkpoint too.
    const recovered = this.#recovered;
    if (recovered !== undefined) {
      for (const [queueId, flowFiles] of recovered.queues) {
        if (!this.#connections.has(queueId)) yield { queueId, flowFiles, swaps: recovered.swaps.get(queueId) ?? [] };
      }
      for (const [queueId, swaps] of recovered.swaps) {
        if (!this.#connections.has(queueId) && !recovered.queues.has(queueId)) yield { queueId, flowFiles: [], swaps };
      }
    }
  }

  #systemEvent(
    type: ProvenanceEventInput['eventType'],
    flowFile: FlowFileRecord,
    details: string,
    now: number,
    queueId?: string,
  ): ProvenanceEventInput {
    const connection = queueId === undefined ? undefined : this.#connections.get(queueId);
    return {
      eventType: type,
      eventTime: now,
      flowFileUuid: flowFile.uuid,
      fileSize: flowFile.size,
      lineageStartDate: flowFile.lineageStartDate,
      flowFileEntryDate: flowFile.entryDate,
      componentId: queueId ?? 'engine',
      componentType: 'Connection',
      componentName: connection?.displayName ?? queueId ?? 'engine',
      details,
      attributesJson: flowFile.attributesJson(),
      contentClaim: flowFile.claim,
      ...(queueId === undefined ? {} : { sourceQueueId: queueId }),
    };
  }

  // ---- expiration -------------------------------------------------------------------------------

  #expireQueues(): void {
    for (const connection of this.#connections.values()) {
      if (connection.definition.flowFileExpiration === '0 sec') continue;
      const expired = connection.queue.expire();
      if (expired.length > 0) this.#expired(connection.id, expired);
    }
  }

  #expired(queueId: string, flowFiles: readonly FlowFileRecord[]): void {
    if (flowFiles.length === 0) return;
    const now = Date.now();
    const connection = this.#connections.get(queueId);
    this.flowFiles.commitNoWait(flowFiles.map((f) => ({ type: 'delete', uuid: f.uuid })));
    if (this.#host.provenanceEnabled) {
      const age = connection?.definition.flowFileExpiration ?? '';
      this.provenance.append(
        flowFiles.map((f) => this.#systemEvent('EXPIRE', f, `older than the connection's expiration of ${age}`, now, queueId)),
      );
    }
    const releases = flowFiles.flatMap((f) => (f.claim === null ? [] : [f.claim.resourceId]));
    if (releases.length > 0) {
      const content = this.content;
      this.flowFiles.afterDurable(() => {
        for (const r of releases) content.release(r);
      });
    }
  }

  // ---- lifecycle of components --------------------------------------------------------------------

  /** Starts in progress (onScheduled running), so that a stop can wait for them. */
  readonly #starting = new Map<ProcessorNode, Promise<void>>();

  #startNode(node: ProcessorNode): Promise<void> {
    const pending = this.#starting.get(node);
    if (pending !== undefined) return pending;
    const start = this.#start(node).finally(() => this.#starting.delete(node));
    this.#starting.set(node, start);
    return start;
  }

  async #start(node: ProcessorNode): Promise<void> {
    if (node.runState !== 'STOPPED') return;
    if (node.validationErrors.length > 0) {
      throw new ConflictError(`"${node.name}" cannot start: ${node.validationErrors.join('; ')}`);
    }
    node.runState = 'STARTING';
    node.generation++;
    node.yieldUntil = 0;
    const generation = node.generation;
    if (node.definition.onScheduled !== undefined) {
      try {
        node.scheduledValue = await node.definition.onScheduled(node.context);
      } catch (e) {
        node.logger.error(`failed to start; it will try again in ${Math.round(this.#adminYieldMs() / 1000)} s`, e);
        await this.#callQuietly(node, 'onUnscheduled');
        await this.#callQuietly(node, 'onStopped');
        node.runState = 'STOPPED';
        const retry = setTimeout(() => {
          if (node.generation === generation && node.config.state === 'RUNNING' && node.runState === 'STOPPED' && !this.#closed) {
            this.#startNode(node).catch((error: unknown) => node.logger.error('failed to start', error));
          }
        }, this.#adminYieldMs());
        retry.unref();
        return;
      }
    } else {
      node.scheduledValue = undefined;
    }
    if (node.generation !== generation || node.runState !== 'STARTING') return;
    node.runState = 'RUNNING';
    this.scheduler.schedule(node);
  }

  #lagCheckedAt = 0;
  #lagEngaged = false;

  /** Whether provenance indexing is so far behind that sources should wait (checked every 50 ms). */
  #provenanceBehind(): boolean {
    const now = Date.now();
    if (now - this.#lagCheckedAt < 50) return this.#lagEngaged;
    this.#lagCheckedAt = now;
    const limit = this.options.provenanceMaxIndexLag ?? 1_000_000;
    const lag = this.provenance.indexLag();
    const engaged = this.#lagEngaged ? lag > limit / 2 : lag > limit;
    if (engaged !== this.#lagEngaged) {
      this.#lagEngaged = engaged;
      const message = engaged
        ? `provenance indexing is ${lag.toLocaleString('en-US')} events behind; sources are slowed until it catches up`
        : 'provenance indexing caught up; sources run at full speed again';
      this.bulletins.add({ level: engaged ? 'WARN' : 'INFO', message });
      this.#log({ level: engaged ? 'WARN' : 'INFO', message });
    }
    return engaged;
  }

  #adminYieldMs(): number {
    return this.options.scheduler?.administrativeYieldMs ?? 10_000;
  }

  async #stopNode(node: ProcessorNode): Promise<void> {
    // onUnscheduled and onStopped must see what onScheduled set up: let a start in progress finish.
    await this.#starting.get(node)?.catch(() => undefined);
    if (node.runState === 'STOPPED' || node.runState === 'DISABLED') return;
    if (node.runState === 'STOPPING') {
      await this.scheduler.whenIdle(node);
      return;
    }
    node.runState = 'STOPPING';
    node.generation++;
    this.scheduler.unschedule(node);
    await this.#callQuietly(node, 'onUnscheduled');
    await this.scheduler.whenIdle(node);
    await this.#callQuietly(node, 'onStopped');
    node.scheduledValue = undefined;
    node.runState = 'STOPPED';
  }

  async #callQuietly(node: ProcessorNode, hook: 'onUnscheduled' | 'onStopped' | 'onRemoved'): Promise<void> {
    const definition = node.definition;
    try {
      if (hook === 'onUnscheduled') await definition.onUnscheduled?.(node.context, node.scheduledValue);
      else if (hook === 'onStopped') await definition.onStopped?.(node.context, node.scheduledValue);
    } catch (e) {
      node.logger.warn(`${hook} failed`, e);
    }
  }

  /**
   * Starts a component (processor, port, funnel) and records it as RUNNING in the flow.
   * @throws {NotFoundError} for an unknown id; {@link ConflictError} when it is invalid or disabled.
   */
  async startComponent(id: string): Promise<void> {
    const node = this.#node(id);
    if (node.runState === 'DISABLED') throw new ConflictError(`"${node.name}" is disabled; enable it first`);
    this.#setDesiredState(id, 'RUNNING');
    await this.#startNode(node);
  }

  /** Resolves once everything committed so far is durable and in its queue. */
  settle(): Promise<void> {
    return new Promise((resolve) =>
      this.flowFiles.afterDurable(() => {
        if (this.#placing.length === 0) resolve();
        else this.#placedWaiters.push(resolve);
      }),
    );
  }

  /**
   * Triggers a stopped processor a number of times and stops it again (NiFi's "Run Once"): its
   * onScheduled and onStopped hooks run around the triggers.
   * @throws {NotFoundError} for an unknown id; {@link ConflictError} when it is running or invalid.
   */
  async runOnce(id: string, iterations = 1): Promise<void> {
    const node = this.#node(id);
    if (node.runState !== 'STOPPED')
      throw new ConflictError(`"${node.name}" is ${node.runState.toLowerCase()}; stop it before running it once`);
    if (node.validationErrors.length > 0)
      throw new ConflictError(`"${node.name}" cannot run: ${node.validationErrors.join('; ')}`);
    node.runState = 'STARTING';
    node.generation++;
    try {
      node.scheduledValue = await node.definition.onScheduled?.(node.context);
      node.runState = 'RUNNING';
      node.generation++; // tasks of this run do not reschedule themselves
      for (let i = 0; i < iterations; i++) await this.scheduler.runOnce(node);
      await this.settle();
    } finally {
      node.runState = 'STOPPING';
      await this.#callQuietly(node, 'onUnscheduled');
      await this.scheduler.whenIdle(node);
      await this.#callQuietly(node, 'onStopped');
      node.scheduledValue = undefined;
      node.runState = 'STOPPED';
    }
  }

  /**
   * Creates a FlowFile with the given content and attributes directly in a connection's queue (for
   * tests, tools and uploads). Resolves once it is durable.
   * @throws {NotFoundError} for an unknown connection.
   */
  async enqueue(
    connectionId: string,
    content: Uint8Array | string,
    attributes: Readonly<Record<string, string>> = {},
  ): Promise<FlowFileRecord> {
    const connection = this.#connection(connectionId);
    const now = Date.now();
    const uuid = uuidv7(now);
    const map = new Map<string, string>([
      ['uuid', uuid],
      ['filename', uuid],
      ['path', './'],
    ]);
    for (const [k, v] of Object.entries(attributes)) if (k !== 'uuid') map.set(k, v);
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const claim = bytes.length === 0 ? null : this.content.write(bytes);
    if (claim !== null) this.content.claimant(claim.resourceId);
    const flowFile = new FlowFileRecord(uuid, map, claim, now, now);
    const done = this.flowFiles.commit([{ type: 'put', queueId: connectionId, flowFile, full: true }]);
    connection.queue.put(flowFile);
    await done;
    return flowFile;
  }

  /** Stops a component (its running tasks finish first). @throws {NotFoundError} */
  async stopComponent(id: string): Promise<void> {
    const node = this.#node(id);
    this.#setDesiredState(id, 'STOPPED');
    await this.#stopNode(node);
  }

  /** Starts every valid component of a group and its subgroups; returns those that could not start and why. */
  async startGroup(groupId: string): Promise<Array<{ id: string; name: string; reason: string }>> {
    const failures: Array<{ id: string; name: string; reason: string }> = [];
    for (const node of this.#nodesInGroup(groupId)) {
      if (node.runState === 'DISABLED') continue;
      try {
        await this.startComponent(node.id);
      } catch (e) {
        failures.push({ id: node.id, name: node.name, reason: e instanceof Error ? e.message : String(e) });
      }
    }
    return failures;
  }

  /** Stops every component of a group and its subgroups. */
  async stopGroup(groupId: string): Promise<void> {
    await Promise.all(this.#nodesInGroup(groupId).map((node) => this.stopComponent(node.id)));
  }

  #nodesInGroup(groupId: string): ProcessorNode[] {
    if (!this.#groupOf.has(groupId)) throw new NotFoundError(`there is no process group "${groupId}"`);
    const inside = (g: string): boolean => {
      let current: string | undefined = g;
      while (current !== undefined && current !== '') {
        if (current === groupId) return true;
        current = this.#groupOf.get(current);
      }
      return false;
    };
    return [...this.#nodes.values()].filter((node) => inside(node.groupId));
  }

  #setDesiredState(id: string, state: 'RUNNING' | 'STOPPED'): void {
    const node = this.#node(id);
    node.config = { ...node.config, state };
    const visit = (group: ProcessGroupDefinition): void => {
      for (const list of [group.processors, group.inputPorts, group.outputPorts]) {
        for (let i = 0; i < list.length; i++) {
          const entry = list[i];
          if (entry?.id === id) list[i] = { ...entry, state };
        }
      }
      for (const child of group.processGroups) visit(child);
    };
    visit(this.#flow.rootGroup);
  }

  #node(id: string): ProcessorNode {
    const node = this.#nodes.get(id);
    if (node === undefined) throw new NotFoundError(`there is no component "${id}"`);
    return node;
  }

  /** A processor, port or funnel by id (for status and the API). */
  component(id: string): ProcessorNode | undefined {
    return this.#nodes.get(id);
  }

  /** Every processor, port and funnel. */
  components(): IterableIterator<ProcessorNode> {
    return this.#nodes.values();
  }

  /** Root-group ports open to Site-to-Site (`allowRemoteAccess`), for the server's endpoints. */
  siteToSitePorts(): SiteToSitePortView[] {
    const out: SiteToSitePortView[] = [];
    const root = this.#flow.rootGroup;
    for (const [direction, ports] of [
      ['input', root.inputPorts],
      ['output', root.outputPorts],
    ] as const) {
      for (const port of ports) {
        if (port.allowRemoteAccess !== true || !this.#nodes.has(port.id)) continue;
        out.push({
          id: port.id,
          name: port.name,
          comments: port.comments,
          direction,
          allowedIdentities: port.allowedIdentities ?? [],
        });
      }
    }
    return out;
  }

  /**
   * A session on port `id` for a transfer the scheduler does not drive (Site-to-Site): FlowFiles
   * created in it go to the port's connections, FlowFiles taken come from its queues and stay
   * invisible to others until `commit` (durable, then visible) or `rollback` (back in the queue).
   * @throws {NotFoundError} for an unknown component.
   */
  openPortSession(id: string): PortSession {
    return new StandardProcessSession(this.#node(id), this.#host);
  }

  /** A connection by id. */
  connection(id: string): ConnectionRuntime | undefined {
    return this.#connections.get(id);
  }

  /** Every connection. */
  connections(): IterableIterator<ConnectionRuntime> {
    return this.#connections.values();
  }

  /** Controller services. */
  services(): IterableIterator<ServiceNode> {
    return this.#services.values();
  }

  // ---- services -----------------------------------------------------------------------------------

  #serviceLogger(id: string, name: string, type: string, groupId: string) {
    return createComponentLogger(
      { id, name, type, groupId, bulletinLevel: () => 'WARN' },
      this.#sink,
      this.bulletins,
      this.#logLevel,
    );
  }

  #serviceInstance(componentId: string, property: string, serviceId: string | undefined): unknown {
    if (serviceId === undefined || serviceId === '')
      throw new ConflictError(`${componentId}: property "${property}" names no controller service`);
    const service = this.#services.get(serviceId);
    if (service === undefined || !service.enabled) {
      throw new ConflictError(`${componentId}: controller service "${serviceId}" of property "${property}" is not enabled`);
    }
    return service.instance;
  }

  #stateReader(componentId: string): StateReader {
    const store = this.state;
    return {
      get: (key) => store.get(componentId, key),
      scan: (options) => store.scan(componentId, options),
      count: () => store.count(componentId),
    };
  }

  // ---- queues -------------------------------------------------------------------------------------

  #connection(id: string): ConnectionRuntime {
    const connection = this.#connections.get(id);
    if (connection === undefined) throw new NotFoundError(`there is no connection "${id}"`);
    return connection;
  }

  /** A page of a queue's FlowFiles in delivery order (any size; swapped ones included). */
  listQueue(connectionId: string, offset: number, limit: number) {
    return this.#connection(connectionId).queue.list(offset, limit);
  }

  /** A queued FlowFile by uuid. @throws {NotFoundError} */
  queuedFlowFile(connectionId: string, uuid: string): FlowFileRecord {
    const entry = this.#connection(connectionId).queue.find(uuid);
    if (entry === undefined) throw new NotFoundError(`FlowFile ${uuid} is not in connection ${connectionId}`);
    return entry.flowFile;
  }

  /**
   * Empties a queue (FlowFiles taken by running sessions stay with them). Each FlowFile gets a DROP
   * event naming who emptied it. Returns how many were dropped.
   */
  async emptyQueue(connectionId: string, requestedBy = 'a user'): Promise<number> {
    const connection = this.#connection(connectionId);
    let total = 0;
    // Only what is queued now: a running source refilling the queue must not make this endless.
    let remaining = connection.queue.size().count;
    while (remaining > 0) {
      const { active, swapped } = connection.queue.drop(Math.min(10_000, remaining));
      const dropped = [...active, ...swapped.flatMap((s) => s.flowFiles)];
      if (dropped.length === 0) break;
      const records: RepositoryRecord[] = active.map((f) => ({ type: 'delete', uuid: f.uuid }));
      for (const s of swapped) records.push({ type: 'swap-drop', swap: s.swap });
      const now = Date.now();
      if (this.#host.provenanceEnabled) {
        this.provenance.append(
          dropped.map((f) => this.#systemEvent('DROP', f, `FlowFile queue emptied by ${requestedBy}`, now, connectionId)),
        );
      }
      await this.flowFiles.commit(records);
      for (const f of dropped) if (f.claim !== null) this.content.release(f.claim.resourceId);
      total += dropped.length;
      remaining -= dropped.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return total;
  }

  // ---- provenance -------------------------------------------------------------------------------------

  /**
   * Replays a provenance event: a new FlowFile (a child of the event's FlowFile) with the event's
   * input attributes and content goes back into the queue the event's FlowFile came from.
   * @throws {NotFoundError} when the event is unknown; {@link ConflictError} when it cannot be replayed.
   */
  async replay(eventId: number, requestedBy = 'a user'): Promise<FlowFileRecord> {
    const event = this.provenance.getEvent(eventId);
    if (event === undefined) throw new NotFoundError(`there is no provenance event ${eventId}`);
    if (event.sourceQueueId === null) {
      throw new ConflictError(`event ${eventId} (${event.eventType}) cannot be replayed: its FlowFile did not come from a queue`);
    }
    const connection = this.#connections.get(event.sourceQueueId);
    if (connection === undefined) {
      throw new ConflictError(
        `event ${eventId} cannot be replayed: the connection it came from (${event.sourceQueueId}) is no longer in the flow`,
      );
    }
    const claim = event.previousContentClaim;
    if (claim !== null && !this.content.isAvailable(claim)) {
      throw new ConflictError(`event ${eventId} cannot be replayed: its content is no longer available (archive retention)`);
    }
    const now = Date.now();
    const uuid = uuidv7(now);
    const attributes = new Map(event.previousAttributes.size > 0 ? event.previousAttributes : event.attributes);
    attributes.set('uuid', uuid);
    // Copy the bytes: the original may sit in the archive, which retention will clear.
    const copied = claim === null ? null : await this.content.writeStream(this.content.readStream(claim));
    const flowFile = new FlowFileRecord(uuid, attributes, copied, now, event.lineageStartDate);
    if (copied !== null) this.content.claimant(copied.resourceId);
    const done = this.flowFiles.commit([{ type: 'put', queueId: connection.id, flowFile, full: true }]);
    if (this.#host.provenanceEnabled) {
      this.provenance.append([
        {
          ...this.#systemEvent('REPLAY', flowFile, `replayed by ${requestedBy} from event ${eventId}`, now, connection.id),
          componentId: event.componentId,
          componentType: event.componentType,
          ...(event.componentName === null ? {} : { componentName: event.componentName }),
          flowFileUuid: event.flowFileUuid,
          parentUuids: [event.flowFileUuid],
          childUuids: [uuid],
        },
      ]);
    }
    await done;
    connection.queue.put(flowFile);
    return flowFile;
  }

  /** Records that a user or system downloaded a FlowFile's content (DOWNLOAD event). */
  recordDownload(flowFile: FlowFileRecord, by: string, queueId?: string): void {
    if (!this.#host.provenanceEnabled) return;
    this.provenance.append([this.#systemEvent('DOWNLOAD', flowFile, `content downloaded by ${by}`, Date.now(), queueId)]);
  }

  // ---- status ------------------------------------------------------------------------------------

  /** Status of every component and connection (five-minute counters, queue fill, run states). */
  status(): { time: number; components: ComponentStatus[]; connections: ConnectionStatus[] } {
    const now = Date.now();
    return {
      time: now,
      components: [...this.#nodes.values()].map((n) => componentStatus(n, now)),
      connections: [...this.#connections.values()].map((c) => connectionStatus(c, now)),
    };
  }

  /** Uptime in ms. */
  get uptimeMs(): number {
    return Date.now() - this.#startedAt;
  }

  // ---- shutdown -----------------------------------------------------------------------------------

  /**
   * Stops cleanly: sources stop first, then everything else once their tasks finish (sessions in
   * flight complete), then the repositories flush, checkpoint and close.
   */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    await this.#applying;
    this.#closed = true;
    if (this.#housekeeping !== undefined) clearInterval(this.#housekeeping);
    const nodes = [...this.#nodes.values()];
    await Promise.all(nodes.filter((n) => n.isSource).map((n) => this.#stopNode(n)));
    await Promise.all(nodes.map((n) => this.#stopNode(n)));
    this.scheduler.stop();
    // Durable FlowFiles still entering their queues go in first (a checkpoint would keep them anyway).
    if (this.#placing.length > 0) await new Promise<void>((resolve) => this.#placedWaiters.push(resolve));
    for (const service of this.#services.values()) await service.disable();
    await this.flowFiles.close();
    await this.provenance.close();
    await this.content.close();
    this.state.close();
    this.#lock?.release();
  }
}

/** Swap files through the FlowFile repository, journaling every move. */
class RepositorySwapManager implements SwapManager {
  readonly #repository: FlowFileRepository;

  constructor(repository: FlowFileRepository) {
    this.#repository = repository;
  }

  swapOut(queueId: string, flowFiles: readonly FlowFileRecord[]): SwapRef {
    const swap = this.#repository.writeSwapFile(queueId, flowFiles);
    this.#repository.commitNoWait([{ type: 'swap-out', swap, uuids: flowFiles.map((f) => f.uuid) }]);
    return swap;
  }

  swapIn(swap: SwapRef): FlowFileRecord[] {
    const flowFiles = this.#repository.readSwapFile(swap);
    this.#repository.commitNoWait([{ type: 'swap-in', swap }]);
    return flowFiles;
  }

  peek(swap: SwapRef): FlowFileRecord[] {
    return this.#repository.readSwapFile(swap);
  }

  discard(swap: SwapRef): void {
    void swap; // the caller journals the swap-drop with the rest of its transaction
  }
}

function flatten(document: FlowDocument, problems: FlowProblem[]): FlatFlow {
  const flat: FlatFlow = {
    components: new Map(),
    connections: new Map(),
    services: new Map(),
    groups: new Map(),
    paths: new Map(),
  };
  const seen = new Map<string, string>();
  const claim = (id: string, path: string, name?: string): boolean => {
    const other = seen.get(id);
    if (other !== undefined) {
      problems.push({
        path,
        componentId: id,
        ...(name === undefined ? {} : { componentName: name }),
        message: `id "${id}" is also used at ${other}`,
      });
      return false;
    }
    seen.set(id, path);
    flat.paths.set(id, path);
    return true;
  };
  const visit = (group: ProcessGroupDefinition, parentId: string | undefined, path: string): void => {
    if (!claim(group.id, path, group.name)) return;
    flat.groups.set(group.id, { definition: group, parentId, path });
    group.processors.forEach((p, i) => {
      if (claim(p.id, `${path}.processors[${i}]`, p.name))
        flat.components.set(p.id, { kind: 'processor', groupId: group.id, config: p });
    });
    const portLike = (kind: NodeKind, list: readonly PortDefinition[], field: string) => {
      list.forEach((p, i) => {
        if (claim(p.id, `${path}.${field}[${i}]`, p.name)) {
          const config = portConfig(p.id, p.name, kind, p.state);
          const remote = parentId === undefined && p.allowRemoteAccess === true;
          flat.components.set(p.id, { kind, groupId: group.id, config, ...(remote ? { siteToSite: p } : {}) });
        }
      });
    };
    // A Remote Process Group's ports run as processors whose type the server provides.
    (group.remoteProcessGroups ?? []).forEach((rpg, i) => {
      if (!claim(rpg.id, `${path}.remoteProcessGroups[${i}]`, rpg.name)) return;
      for (const direction of ['input', 'output'] as const) {
        (direction === 'input' ? rpg.inputPorts : rpg.outputPorts).forEach((p, j) => {
          if (claim(p.id, `${path}.remoteProcessGroups[${i}].${direction}Ports[${j}]`, p.name))
            flat.components.set(p.id, { kind: 'processor', groupId: group.id, config: remotePortConfig(rpg, p, direction) });
        });
      }
    });
    portLike('input-port', group.inputPorts, 'inputPorts');
    portLike('output-port', group.outputPorts, 'outputPorts');
    group.funnels.forEach((f, i) => {
      if (claim(f.id, `${path}.funnels[${i}]`))
        flat.components.set(f.id, { kind: 'funnel', groupId: group.id, config: portConfig(f.id, 'Funnel', 'funnel', 'RUNNING') });
    });
    group.labels.forEach((l, i) => {
      claim(l.id, `${path}.labels[${i}]`);
    });
    group.controllerServices.forEach((s, i) => {
      if (claim(s.id, `${path}.controllerServices[${i}]`, s.name)) flat.services.set(s.id, { definition: s, groupId: group.id });
    });
    group.connections.forEach((c, i) => {
      if (claim(c.id, `${path}.connections[${i}]`, c.name)) flat.connections.set(c.id, { definition: c, groupId: group.id });
    });
    group.processGroups.forEach((g, i) => {
      visit(g, group.id, `${path}.processGroups[${i}]`);
    });
  };
  visit(document.rootGroup, undefined, 'rootGroup');
  return flat;
}

function portConfig(
  id: string,
  name: string,
  kind: NodeKind,
  state: 'RUNNING' | 'STOPPED' | 'DISABLED',
): ProcessorDefinitionEntry {
  const type = kind === 'input-port' ? 'InputPort' : kind === 'output-port' ? 'OutputPort' : 'Funnel';
  return {
    id,
    name,
    type,
    properties: {},
    scheduling: { ...DEFAULT_SCHEDULING },
    bulletinLevel: 'WARN',
    autoTerminate: [],
    state,
  };
}

function componentDefinition(component: FlatComponent, registry: ExtensionRegistry): AnyProcessorDefinition | undefined {
  switch (component.kind) {
    case 'processor':
      return registry.processor(component.config.type);
    case 'input-port':
      return InputPortDefinition;
    case 'output-port':
      return component.siteToSite === undefined ? OutputPortDefinition : SiteToSiteOutputPortDefinition;
    case 'funnel':
      return FunnelDefinition;
  }
}

function relationshipsFor(definition: AnyProcessorDefinition, config: ProcessorDefinitionEntry): Set<string> {
  return activeRelationships(definition, config.properties);
}

/** @throws {Error} naming the scheduling field that is wrong. */
function parseScheduling(config: ProcessorDefinitionEntry): ParsedScheduling {
  const s = config.scheduling;
  const field = (name: string, text: string): number => {
    try {
      return parseTimePeriod(text);
    } catch (e) {
      throw new Error(`scheduling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  let cron: string | undefined;
  let periodMs = 0;
  if (s.strategy === 'cron') {
    try {
      parseCron(s.period);
    } catch (e) {
      throw new Error(`scheduling period: ${e instanceof Error ? e.message : String(e)}`);
    }
    cron = s.period;
  } else {
    periodMs = field('period', s.period);
  }
  return {
    strategy: s.strategy,
    periodMs,
    cron,
    concurrentTasks: s.concurrentTasks,
    runDurationMs: field('run duration', s.runDuration),
    penaltyMs: field('penalty duration', s.penaltyDuration),
    yieldMs: field('yield duration', s.yieldDuration),
  };
}

/** The value of `parse`, or undefined when it throws. */
function orUndefined<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

function passThroughScheduling(): ParsedScheduling {
  return {
    strategy: 'timer',
    periodMs: 0,
    cron: undefined,
    concurrentTasks: 1,
    runDurationMs: 0,
    penaltyMs: 30_000,
    yieldMs: 1000,
  };
}

function parseRetry(config: ProcessorDefinitionEntry): ParsedRetry | undefined {
  const retry = config.retry;
  if (retry === undefined || retry.relationships.length === 0) return undefined;
  return {
    relationships: new Set(retry.relationships),
    count: retry.count,
    backoff: retry.backoff,
    maxBackoffMs: parseTimePeriod(retry.maxBackoff),
  };
}

function needsRestart(before: ProcessorDefinitionEntry, after: ProcessorDefinitionEntry): boolean {
  return (
    before.type !== after.type ||
    JSON.stringify(before.properties) !== JSON.stringify(after.properties) ||
    JSON.stringify(before.scheduling) !== JSON.stringify(after.scheduling) ||
    JSON.stringify(before.retry) !== JSON.stringify(after.retry)
  );
}

function usesService(node: ProcessorNode, serviceId: string): boolean {
  for (const [name, descriptor] of Object.entries(node.definition.properties)) {
    if (descriptor.kind === 'service' && node.config.properties[name] === serviceId) return true;
  }
  return false;
}

function checkPeriod(text: string): string | undefined {
  try {
    parseTimePeriod(text);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function checkSize(text: string): string | undefined {
  try {
    parseDataSize(text);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function localIp(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const address of list ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}
