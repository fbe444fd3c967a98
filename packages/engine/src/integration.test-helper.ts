/**
 * Shared set-up for the engine's integration tests: engines on real volatile or durable
 * repositories in temp dirs (all shut down and removed by {@link Harness.close}), small flow
 * documents, inline test processors and a polling helper, so that tests wait for conditions
 * instead of sleeping for fixed times.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AnyProcessorDefinition, defineProcessor, type ProcessContext, type ProcessSession } from '@sluice/api';
import { afterEach } from 'vitest';
import {
  type ConnectionDefinition,
  Engine,
  type EngineOptions,
  ExtensionRegistry,
  type FlowDocumentInput,
  type LogEntry,
  type ProvenanceEventRecord,
  type ProvenanceQuery,
} from './index.ts';

export type RepositoryMode = 'volatile' | 'durable';
export const MODES: readonly RepositoryMode[] = ['volatile', 'durable'];

/** Opens engines and cleans up after them. */
export class Harness {
  readonly logs: LogEntry[] = [];
  readonly #dirs: string[] = [];
  readonly #engines: Engine[] = [];

  /** A fresh temp directory, removed by {@link close}. */
  dir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-engine-it-'));
    this.#dirs.push(dir);
    return dir;
  }

  /** Opens an engine with the given processor types (administrative yield 200 ms unless told). */
  async open(
    mode: RepositoryMode,
    processors: readonly AnyProcessorDefinition[],
    options: Partial<Omit<EngineOptions, 'registry'>> = {},
  ): Promise<Engine> {
    const registry = new ExtensionRegistry().registerProcessors(processors);
    const engine = await Engine.open({
      dataDir: options.dataDir ?? this.dir(),
      registry,
      repositories: mode,
      provenance: mode,
      logSink: (entry) => this.logs.push(entry),
      fileRoots: [tmpdir()],
      ...options,
      scheduler: { administrativeYieldMs: 200, ...options.scheduler },
    });
    this.#engines.push(engine);
    return engine;
  }

  /** Shuts every engine down (errors are collected and rethrown after cleanup), removes the temp dirs, forgets the logs. */
  async close(): Promise<void> {
    this.logs.length = 0;
    const errors: unknown[] = [];
    for (const engine of this.#engines.splice(0)) {
      try {
        await engine.shutdown();
      } catch (e) {
        errors.push(e);
      }
    }
    for (const dir of this.#dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
  }
}

/** One {@link Harness} for the calling file (or describe block), closed after each of its tests. */
export function useHarness(): Harness {
  const harness = new Harness();
  afterEach(() => harness.close());
  return harness;
}

/**
 * Polls until `condition` holds (or returns a value other than false/undefined) and returns it.
 * @throws {Error} naming `what` after `timeoutMs`.
 */
export async function until<T>(condition: () => T | false | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value !== false && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type Trigger = (session: ProcessSession, context: ProcessContext) => void | Promise<void>;

/**
 * A small processor for a test: relationships `success` (unless told otherwise), input allowed,
 * no properties (unless told otherwise).
 */
export function testProcessor(
  type: string,
  onTrigger: Trigger,
  extra: Partial<Omit<AnyProcessorDefinition, 'type' | 'onTrigger'>> = {},
): AnyProcessorDefinition {
  const definition: AnyProcessorDefinition = {
    type,
    description: `Test processor ${type}`,
    tags: ['test'],
    input: 'allowed',
    properties: {},
    relationships: { success: 'everything' },
    ...extra,
    onTrigger,
  };
  return defineProcessor(definition);
}

/** Creates one FlowFile with `content` per trigger and sends it to success. */
export function sourceProcessor(type = 'MakeTestData', content = 'data'): AnyProcessorDefinition {
  return testProcessor(
    type,
    (session) => {
      const ff = session.create();
      session.transfer(session.write(ff, content), 'success');
    },
    { input: 'forbidden' },
  );
}

/** Takes one FlowFile per trigger and sends it to success. */
export const PassThrough = testProcessor('PassThrough', (session) => {
  const ff = session.get();
  if (ff !== undefined) session.transfer(ff, 'success');
});

/** Removes everything it gets (DROP), up to 100 per trigger. */
export const Discard = testProcessor(
  'Discard',
  (session) => {
    session.remove(session.getBatch(100));
  },
  { input: 'required', relationships: {} },
);

/** A processor entry of a flow document. */
export interface ProcessorSpec {
  readonly id: string;
  readonly type: string;
  readonly name?: string;
  readonly properties?: Record<string, string | null>;
  readonly scheduling?: Record<string, string | number>;
  readonly autoTerminate?: string[];
  readonly retry?: { relationships: string[]; count?: number; backoff?: 'penalize' | 'yield'; maxBackoff?: string };
  readonly state?: 'RUNNING' | 'STOPPED' | 'DISABLED';
  readonly bulletinLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

type ProcessGroupInput = FlowDocumentInput['rootGroup'];

type ProcessorEntry = NonNullable<ProcessGroupInput['processors']>[number];

/** A processor entry (name defaults to the id). */
export function processor(spec: ProcessorSpec): ProcessorEntry {
  return { name: spec.id, ...spec };
}

/** A connection entry. */
export function connection(
  id: string,
  source: string,
  destination: string,
  relationships: string[] = [],
  extra: Partial<Omit<ConnectionDefinition, 'id' | 'source' | 'destination' | 'relationships'>> = {},
): NonNullable<ProcessGroupInput['connections']>[number] {
  return { id, source: { id: source }, destination: { id: destination }, relationships, ...extra };
}

/** A port entry (stopped unless told). */
export function port(id: string, state: 'RUNNING' | 'STOPPED' = 'STOPPED'): { id: string; name: string; state: typeof state } {
  return { id, name: id, state };
}

/** A flow document whose root group holds `contents`. */
export function flow(
  contents: Omit<ProcessGroupInput, 'id' | 'name'>,
  extra: Omit<FlowDocumentInput, 'sluiceFlow' | 'rootGroup'> = {},
): FlowDocumentInput {
  return { sluiceFlow: 1, ...extra, rootGroup: { id: 'root', name: 'Root', ...contents } };
}

/**
 * The usual test bench around one processor `p`: a stopped input port `src` feeding it through
 * connection `in`, and for each relationship `r` a connection `to-r` into a stopped output port
 * `out-r`.
 */
export function bench(entry: ProcessorEntry, relationships: readonly string[]) {
  return flow({
    inputPorts: [port('src')],
    outputPorts: relationships.map((r) => port(`out-${r}`)),
    processors: [entry],
    connections: [
      connection('in', 'src', entry.id),
      ...relationships.map((r) => connection(`to-${r}`, entry.id, `out-${r}`, [r])),
    ],
  });
}

/** Queued FlowFiles of a connection, in delivery order, with their content as text. */
export function queued(engine: Engine, connectionId: string) {
  const size = engine.connection(connectionId)?.queue.size().count ?? 0;
  return engine.listQueue(connectionId, 0, Math.max(1, size)).map((entry) => ({
    ...entry,
    uuid: entry.flowFile.uuid,
    attributes: entry.flowFile.attributes,
    text: entry.flowFile.claim === null ? '' : engine.content.read(entry.flowFile.claim).toString('utf8'),
  }));
}

/** How many FlowFiles a connection holds (queued, swapped and in flight). */
export function depth(engine: Engine, connectionId: string): number {
  return engine.connection(connectionId)?.queue.size().count ?? 0;
}

/** Provenance events matching a query, oldest first, once indexed. */
export async function events(engine: Engine, query: ProvenanceQuery = {}): Promise<ProvenanceEventRecord[]> {
  await engine.provenance.waitForIndex();
  return engine.provenance.search({ limit: 10_000, ...query }).reverse();
}

/** The status of one component. */
export function componentStatus(engine: Engine, id: string) {
  const status = engine.status().components.find((c) => c.id === id);
  if (status === undefined) throw new Error(`no component ${id}`);
  return status;
}

/** The status of one connection. */
export function connectionStatus(engine: Engine, id: string) {
  const status = engine.status().connections.find((c) => c.id === id);
  if (status === undefined) throw new Error(`no connection ${id}`);
  return status;
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof Error) return e;
    throw new Error(`rejected with a non-Error: ${String(e)}`);
  }
  throw new Error('expected a rejection, but the promise resolved');
}
