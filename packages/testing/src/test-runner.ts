import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AnyProcessorDefinition, type AnyServiceDefinition, activeRelationships } from '@sluice/api';
import {
  type ContentClaim,
  Engine,
  ExtensionRegistry,
  type FlowDocumentInput,
  type FlowFileRecord,
  type LogEntry,
  type ProvenanceEventRecord,
  type ProvenanceEventType,
} from '@sluice/engine';

/** A FlowFile as a test inspects it: attributes plus its content. */
export interface TestFlowFile {
  readonly uuid: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly size: number;
  readonly penalized: boolean;
  /** Where the content lives (a byte range of a resource file), or null for empty content. */
  readonly claim: ContentClaim | null;
  attribute(name: string): string | undefined;
  /** Content as bytes. */
  content(): Buffer;
  /** Content as UTF-8 text. */
  text(): string;
}

/** Options of a {@link TestRunner}. */
export interface TestRunnerOptions {
  /** Property values, by property name (dynamic properties too). */
  readonly properties?: Readonly<Record<string, string>>;
  /** Controller services the processor uses: `{ id: { type, properties } }`, enabled before runs. */
  readonly services?: Readonly<
    Record<string, { readonly type: AnyServiceDefinition; readonly properties?: Readonly<Record<string, string>> }>
  >;
  /** Scheduling overrides (penalty duration, yield duration, run duration...). */
  readonly scheduling?: Readonly<Record<string, string | number>>;
  /** Relationships auto-terminated instead of captured. */
  readonly autoTerminate?: readonly string[];
  /** Run on durable repositories in a temp dir (default: in memory). */
  readonly durable?: boolean;
  /** Environment variables visible to Expression Language. */
  readonly environment?: Readonly<Record<string, string>>;
  /** Directories file processors may use (default: the OS temp directory). */
  readonly fileRoots?: readonly string[];
}

const PROCESSOR_ID = 'under-test';
const INPUT = 'input';

/**
 * Runs one processor the way NiFi's nifi-mock TestRunner does, but on the real engine (real
 * sessions, queues, content and provenance repositories, in memory unless `durable`): enqueue
 * FlowFiles, run the processor a number of times, then assert what went where.
 *
 * @example
 *   const runner = await TestRunner.create(UpdateAttribute, { properties: { color: '${fileSize:gt(5)}' } });
 *   await runner.enqueue('hello world');
 *   await runner.run();
 *   runner.assertAllTransferred('success', 1);
 *   expect(runner.transferred('success')[0]?.attribute('color')).toBe('true');
 *   await runner.close();
 */
export class TestRunner {
  readonly engine: Engine;
  readonly logs: LogEntry[];
  readonly #definition: AnyProcessorDefinition;
  readonly #options: TestRunnerOptions;
  readonly #dataDir: string | undefined;
  #properties: Record<string, string>;
  #relationships: string[] = [];

  private constructor(
    definition: AnyProcessorDefinition,
    options: TestRunnerOptions,
    engine: Engine,
    logs: LogEntry[],
    dataDir: string | undefined,
  ) {
    this.#definition = definition;
    this.#options = options;
    this.engine = engine;
    this.logs = logs;
    this.#dataDir = dataDir;
    this.#properties = { ...options.properties };
  }

  /** Builds a runner around one processor definition. */
  static async create(definition: AnyProcessorDefinition, options: TestRunnerOptions = {}): Promise<TestRunner> {
    const registry = new ExtensionRegistry().registerProcessors([definition]);
    registry.registerServices(
      Object.values(options.services ?? {})
        .map((s) => s.type)
        .filter((t, i, all) => all.indexOf(t) === i),
    );
    const logs: LogEntry[] = [];
    const dataDir = options.durable === true ? mkdtempSync(join(tmpdir(), 'sluice-test-runner-')) : undefined;
    const engine = await Engine.open({
      dataDir: dataDir ?? join(tmpdir(), 'sluice-test-runner-volatile'),
      registry,
      repositories: options.durable === true ? 'durable' : 'volatile',
      provenance: options.durable === true ? 'durable' : 'volatile',
      logSink: (entry) => logs.push(entry),
      logLevel: 'DEBUG',
      ...(options.environment === undefined ? {} : { environment: options.environment }),
      scheduler: { administrativeYieldMs: 0 },
      fileRoots: options.fileRoots ?? [tmpdir()],
    });
    const runner = new TestRunner(definition, options, engine, logs, dataDir);
    await runner.#apply();
    return runner;
  }

  /** The flow the runner builds: an input port feeding the processor, each relationship into a stopped output port. */
  #document(): FlowDocumentInput {
    const definition = this.#definition;
    const autoTerminate = this.#options.autoTerminate ?? [];
    const relationships = activeRelationships(definition, this.#properties);
    this.#relationships = [...relationships].filter((r) => !autoTerminate.includes(r));
    const services = Object.entries(this.#options.services ?? {}).map(([id, s]) => ({
      id,
      name: id,
      type: s.type.type,
      properties: { ...s.properties },
      state: 'ENABLED' as const,
    }));
    return {
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'TestRunner',
        controllerServices: services,
        processors: [
          {
            id: PROCESSOR_ID,
            name: definition.type,
            type: definition.type,
            properties: this.#properties,
            autoTerminate: [...autoTerminate],
            scheduling: { ...this.#options.scheduling },
            state: 'STOPPED',
          },
        ],
        inputPorts: definition.input === 'forbidden' ? [] : [{ id: 'input-port', name: 'input', state: 'STOPPED' }],
        outputPorts: this.#relationships.map((r) => ({
          id: `out-${relationshipConnectionId(r)}`,
          name: r,
          state: 'STOPPED' as const,
        })),
        connections: [
          ...(definition.input === 'forbidden'
            ? []
            : [
                {
                  id: INPUT,
                  source: { id: 'input-port' },
                  destination: { id: PROCESSOR_ID },
                  backPressureObjectThreshold: 0,
                  backPressureDataSizeThreshold: '0 B',
                },
              ]),
          ...this.#relationships.map((r) => ({
            id: relationshipConnectionId(r),
            source: { id: PROCESSOR_ID },
            destination: { id: `out-${relationshipConnectionId(r)}` },
            relationships: [r],
            backPressureObjectThreshold: 0,
            backPressureDataSizeThreshold: '0 B',
          })),
        ],
      },
    };
  }

  async #apply(): Promise<void> {
    await this.engine.applyFlow(this.#document());
  }

  /** Sets (or with undefined, removes) a property; takes effect for the next run. */
  async setProperty(name: string, value: string | undefined): Promise<void> {
    if (value === undefined) delete this.#properties[name];
    else this.#properties[name] = value;
    await this.#apply();
  }

  /** Why the processor is invalid (empty when it is valid). */
  validationErrors(): readonly string[] {
    return this.engine.component(PROCESSOR_ID)?.validationErrors ?? [];
  }

  /** Queues a FlowFile for the processor. */
  async enqueue(content: Uint8Array | string = '', attributes: Readonly<Record<string, string>> = {}): Promise<TestFlowFile> {
    if (this.#definition.input === 'forbidden') throw new Error(`${this.#definition.type} takes no input`);
    return this.#wrap(await this.engine.enqueue(INPUT, content, attributes));
  }

  /**
   * Runs the processor `iterations` times (onScheduled before, onStopped after, like NiFi's
   * "Run Once"). Each iteration is one session, committed or rolled back.
   * @throws {Error} listing validation problems when the processor is invalid.
   */
  async run(iterations = 1): Promise<void> {
    await this.engine.runOnce(PROCESSOR_ID, iterations);
  }

  /** Waits until the processor, running continuously, has nothing left to do or `ms` passed. */
  async runUntilIdle(ms = 2000): Promise<void> {
    await this.engine.startComponent(PROCESSOR_ID);
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && this.queued() > 0) await new Promise((r) => setTimeout(r, 5));
    await this.engine.stopComponent(PROCESSOR_ID);
  }

  /** FlowFiles still waiting in the input queue. */
  queued(): number {
    if (this.#definition.input === 'forbidden') return 0;
    return this.engine.connection(INPUT)?.queue.size().count ?? 0;
  }

  /** The input queue's FlowFiles (e.g. penalized ones returned by a rollback). */
  inputQueue(): TestFlowFile[] {
    if (this.#definition.input === 'forbidden') return [];
    const size = this.engine.connection(INPUT)?.queue.size().count ?? 0;
    return this.engine.listQueue(INPUT, 0, size).map((e) => this.#wrap(e.flowFile, e.penalized));
  }

  /** FlowFiles transferred to a relationship so far (in order). */
  transferred(relationship: string): TestFlowFile[] {
    if (!this.#relationships.includes(relationship)) {
      throw new Error(
        `${this.#definition.type} has no captured relationship "${relationship}" (captured: ${this.#relationships.join(', ')})`,
      );
    }
    const id = relationshipConnectionId(relationship);
    const size = this.engine.connection(id)?.queue.size().count ?? 0;
    return this.engine.listQueue(id, 0, size).map((e) => this.#wrap(e.flowFile, e.penalized));
  }

  /** Asserts that exactly `count` FlowFiles went to `relationship` and none anywhere else. */
  assertAllTransferred(relationship: string, count?: number): void {
    for (const r of this.#relationships) {
      const n = this.transferred(r).length;
      if (r !== relationship && n > 0) throw new Error(`expected everything in "${relationship}", but ${n} went to "${r}"`);
    }
    const n = this.transferred(relationship).length;
    if (count !== undefined && n !== count) throw new Error(`expected ${count} FlowFiles in "${relationship}", found ${n}`);
  }

  /** Asserts how many FlowFiles went to a relationship. */
  assertTransferCount(relationship: string, count: number): void {
    const n = this.transferred(relationship).length;
    if (n !== count) throw new Error(`expected ${count} FlowFiles in "${relationship}", found ${n}`);
  }

  /** Provenance events recorded so far (oldest first), optionally of one type. */
  async provenanceEvents(type?: ProvenanceEventType): Promise<ProvenanceEventRecord[]> {
    await this.engine.provenance.waitForIndex();
    const events = this.engine.provenance.search({ limit: 10_000, ...(type === undefined ? {} : { eventType: type }) });
    return events.reverse();
  }

  /** Log lines and bulletins of the processor at or above a level. */
  logsAt(level: LogEntry['level']): LogEntry[] {
    const order = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
    return this.logs.filter((l) => order.indexOf(l.level) >= order.indexOf(level));
  }

  #wrap(flowFile: FlowFileRecord, penalized = false): TestFlowFile {
    const content = this.engine.content;
    return {
      uuid: flowFile.uuid,
      attributes: flowFile.attributes,
      size: flowFile.size,
      penalized,
      claim: flowFile.claim,
      attribute: (name) => flowFile.attributes.get(name),
      content: () => (flowFile.claim === null ? Buffer.alloc(0) : content.read(flowFile.claim)),
      text: () => (flowFile.claim === null ? '' : content.read(flowFile.claim).toString('utf8')),
    };
  }

  /** Shuts the engine down and removes a durable runner's temp directory. */
  async close(): Promise<void> {
    await this.engine.shutdown();
    if (this.#dataDir !== undefined) rmSync(this.#dataDir, { recursive: true, force: true });
  }
}

/** A component id for a relationship's capture connection; relationship names may hold spaces. */
function relationshipConnectionId(relationship: string): string {
  return `rel-${Buffer.from(relationship, 'utf8').toString('hex')}`;
}
