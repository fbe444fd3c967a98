import {
  type Engine,
  type FlowDocument,
  FlowValidationError,
  type LogEntry,
  type ProcessGroupDefinition,
  parseFlowDocument,
} from '@sluice/engine';
import { type ComponentKind, type FlowChange, type FlowChanged, type FlowEntity, SENSITIVE_VALUE_SET } from '@sluice/protocol';
import { ApiError, flowRefused, notFound } from '../http/errors.ts';
import { SensitiveCipher } from '../security/sensitive-cipher.ts';
import type { FlowStore } from '../store/flow-store.ts';
import { cloneDocument, type Entity, indexFlow, isKind, type Located, shallowGroup } from './document.ts';
import { mask, type SensitivePolicy } from './sensitive.ts';

/** Who made a change, for the version history and change events. */
export interface ChangeContext {
  readonly by: string;
  /** The X-Sluice-Client header of the request, echoed in the change event. */
  readonly clientId: string | null;
}

/** How a mutation is recorded. */
export interface MutationOptions {
  /** Revisions the change is based on; a stale one refuses the change with 409. */
  readonly expect?: ReadonlyArray<{ readonly id: string; readonly revision: number }>;
  /** Store as a new version (default) or rewrite the current one (run-state changes). */
  readonly newVersion?: boolean;
  /** Bump the revision of changed components (default true). */
  readonly bumpRevisions?: boolean;
  /** Bump every component's revision (restore, replace): stale editors must reload. */
  readonly bumpAll?: boolean;
}

interface FlatEntry {
  readonly kind: ComponentKind;
  readonly groupId: string | null;
  readonly json: string;
}

/** Thrown when the stored flow cannot be applied at startup; lists the problems. */
export class StoredFlowError extends Error {
  override readonly name = 'StoredFlowError';
}

/**
 * The flow as the API edits it. Owns the write path: every change is made on a copy of the current
 * document, applied by the engine (which refuses it whole when anything is wrong), stored as a new
 * version and announced to listeners, one change at a time. Keeps component revisions (stale
 * updates get 409) and the sensitive-value rules (encrypted at rest, masked for clients).
 */
export class FlowService {
  readonly engine: Engine;
  readonly store: FlowStore;
  readonly policy: SensitivePolicy;
  readonly #cipher: SensitiveCipher;
  readonly #log: (entry: Omit<LogEntry, 'time'>) => void;
  #revisions = new Map<string, number>();
  #version = 0;
  #lock: Promise<unknown> = Promise.resolve();
  #cached: FlowEntity | undefined;
  readonly #listeners = new Set<(event: FlowChanged) => void>();

  private constructor(
    engine: Engine,
    store: FlowStore,
    cipher: SensitiveCipher,
    policy: SensitivePolicy,
    log: (entry: Omit<LogEntry, 'time'>) => void,
  ) {
    this.engine = engine;
    this.store = store;
    this.#cipher = cipher;
    this.policy = policy;
    this.#log = log;
  }

  /**
   * Loads the stored flow (or `initial` for a new data directory) into the engine. A stored flow the
   * engine refuses as it is (a processor marked RUNNING that is now invalid) is retried with
   * everything stopped, with a warning.
   * @throws {StoredFlowError} when even that fails; nothing is overwritten then.
   */
  static async load(options: {
    engine: Engine;
    store: FlowStore;
    cipher: SensitiveCipher;
    policy: SensitivePolicy;
    initial: () => FlowDocument;
    log: (entry: Omit<LogEntry, 'time'>) => void;
  }): Promise<FlowService> {
    const service = new FlowService(options.engine, options.store, options.cipher, options.policy, options.log);
    const stored = options.store.current;
    let document: FlowDocument;
    if (stored === undefined) {
      document = options.initial();
    } else {
      try {
        document = parseFlowDocument(stored.flow);
      } catch (e) {
        if (e instanceof FlowValidationError) throw new StoredFlowError(`${options.store.path}: ${e.message}`);
        throw e;
      }
      document = service.#decrypt(document);
      service.#revisions = new Map(Object.entries(stored.revisions));
      service.#version = stored.version;
    }
    try {
      await options.engine.applyFlow(document);
    } catch (e) {
      if (!(e instanceof FlowValidationError)) throw e;
      try {
        await options.engine.applyFlow(allStopped(document));
        options.log({
          level: 'WARN',
          message: `the stored flow could not start as saved, so everything is stopped: ${e.problems.map((p) => p.message).join('; ')}`,
        });
      } catch (again) {
        if (again instanceof FlowValidationError) {
          throw new StoredFlowError(
            `the flow in ${options.store.path} cannot be loaded:\n${again.message}\n` +
              'Fix it (or restore an earlier version from flow-history/ with `sluice import`), then start again.',
          );
        }
        throw again;
      }
    }
    if (stored === undefined) {
      service.#version = await options.store.save({
        flow: service.#encrypt(options.engine.flow),
        revisions: {},
        savedBy: 'sluice',
        summary: 'initial flow',
      });
    }
    return service;
  }

  /** The current flow version. */
  get version(): number {
    return this.#version;
  }

  /** The current (plaintext) document. Never hand it to a client: see {@link snapshot}. */
  get document(): FlowDocument {
    return this.engine.flow;
  }

  revision(id: string): number {
    return this.#revisions.get(id) ?? 0;
  }

  /** The whole flow for clients: sensitive values masked, with revisions (cached until the next change). */
  snapshot(): FlowEntity {
    this.#cached ??= {
      version: this.#version,
      flow: this.policy.map(this.engine.flow, mask),
      revisions: Object.fromEntries(this.#revisions),
    };
    return this.#cached;
  }

  /** Finds a component in the current document. @throws {ApiError} 404 (or when it is not of `kinds`). */
  locate(id: string, kinds?: readonly ComponentKind[]): Located {
    const located = indexFlow(this.engine.flow).get(id);
    if (located === undefined || (kinds !== undefined && !kinds.includes(located.kind))) {
      throw notFound(`${kinds === undefined ? 'component' : kinds.join(' or ')} "${id}"`);
    }
    return located;
  }

  /** The client view of a component (masked), with its revision. @throws {ApiError} 404 */
  entity(id: string): Entity {
    return this.#entity(this.locate(id), false);
  }

  /**
   * The client view of a component of one kind (a process group with its whole content).
   * @throws {ApiError} 404 when there is no such component of that kind.
   */
  typed<K extends Entity['kind']>(id: string, kind: K): Extract<Entity, { kind: K }> {
    const entity = this.#entity(this.locate(id, [kind]), true);
    if (!isKind(entity, kind)) throw notFound(`${kind} "${id}"`);
    return entity;
  }

  #entity(located: Located, deep: boolean): Entity {
    const groupId = located.parent?.id ?? null;
    const revision = this.revision(located.entry.id);
    const base = { id: located.entry.id, groupId, revision };
    switch (located.kind) {
      case 'processor': {
        const component = cloneDocument(located.entry);
        for (const [name, value] of Object.entries(component.properties)) {
          if (value !== null && this.policy.processorProperty(component.type, name))
            component.properties[name] = SENSITIVE_VALUE_SET;
        }
        return { ...base, kind: located.kind, component };
      }
      case 'controller-service': {
        const component = cloneDocument(located.entry);
        for (const [name, value] of Object.entries(component.properties)) {
          if (value !== null && this.policy.serviceProperty(component.type, name))
            component.properties[name] = SENSITIVE_VALUE_SET;
        }
        return { ...base, kind: located.kind, component };
      }
      case 'parameter-context': {
        const component = cloneDocument(located.entry);
        for (const parameter of component.parameters)
          if (parameter.sensitive && parameter.value !== null) parameter.value = SENSITIVE_VALUE_SET;
        return { ...base, kind: located.kind, component };
      }
      case 'process-group': {
        const component = deep ? cloneDocument(located.entry) : shallowGroup(located.entry);
        if (deep) this.policy.mapGroup(component, mask);
        return { ...base, kind: located.kind, component };
      }
      case 'connection':
        return { ...base, kind: located.kind, component: cloneDocument(located.entry) };
      case 'input-port':
        return { ...base, kind: located.kind, component: cloneDocument(located.entry) };
      case 'output-port':
        return { ...base, kind: located.kind, component: cloneDocument(located.entry) };
      case 'funnel':
        return { ...base, kind: located.kind, component: cloneDocument(located.entry) };
      case 'label':
        return { ...base, kind: located.kind, component: cloneDocument(located.entry) };
      case 'remote-process-group': {
        const component = cloneDocument(located.entry);
        if (component.accessToken !== undefined) component.accessToken = SENSITIVE_VALUE_SET;
        return { ...base, kind: located.kind, component };
      }
    }
  }

  /** Subscribes to flow changes; returns the unsubscribe function. */
  onChange(listener: (event: FlowChanged) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Makes a change: `change` edits a copy of the current document (throwing an ApiError to refuse),
   * the engine applies the result, and it is stored and announced. Changes run one at a time.
   * @throws {ApiError} 404/409 for unknown ids or stale revisions, 400 when the engine refuses.
   */
  mutate<T>(
    context: ChangeContext,
    summary: string,
    change: (draft: FlowDocument) => T,
    options: MutationOptions = {},
  ): Promise<T> {
    return this.mutateThen(context, summary, change, (result) => result, options);
  }

  /**
   * {@link mutate}, then `after` (still under the lock, so it sees the change and nothing later):
   * how a creation returns the entity it made, with its revision.
   */
  mutateThen<T, R>(
    context: ChangeContext,
    summary: string,
    change: (draft: FlowDocument) => T,
    after: (result: T) => R,
    options: MutationOptions = {},
  ): Promise<R> {
    return this.#exclusive(async () => {
      const before = this.engine.flow;
      this.#checkRevisions(before, options.expect ?? []);
      const draft = cloneDocument(before);
      const result = change(draft);
      const beforeFlat = flatten(before);
      try {
        await this.engine.applyFlow(draft);
      } catch (e) {
        if (e instanceof FlowValidationError) throw flowRefused(e);
        throw e;
      }
      await this.#commit(context, summary, beforeFlat, before, options);
      return after(result);
    });
  }

  /**
   * Runs an engine operation that changes run states (start, stop, run once) under the same lock,
   * then stores the states without a new version and announces them.
   */
  runStateChange<T>(context: ChangeContext, summary: string, operation: () => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      const before = cloneDocument(this.engine.flow);
      const beforeFlat = flatten(before);
      try {
        return await operation();
      } finally {
        await this.#commit(context, summary, beforeFlat, before, { newVersion: false, bumpRevisions: false });
      }
    });
  }

  /** Runs `fn` while no change can happen (reads that must see one consistent state). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#exclusive(fn);
  }

  async #commit(
    context: ChangeContext,
    summary: string,
    beforeFlat: Map<string, FlatEntry>,
    before: FlowDocument,
    options: MutationOptions,
  ): Promise<void> {
    const after = this.engine.flow;
    const afterFlat = flatten(after);
    const changes: Array<{ action: FlowChange['action']; id: string; kind: ComponentKind }> = [];
    for (const [id, entry] of afterFlat) {
      const old = beforeFlat.get(id);
      if (old === undefined) changes.push({ action: 'created', id, kind: entry.kind });
      else if (old.json !== entry.json || old.groupId !== entry.groupId || old.kind !== entry.kind)
        changes.push({ action: 'updated', id, kind: entry.kind });
    }
    for (const [id, entry] of beforeFlat) if (!afterFlat.has(id)) changes.push({ action: 'deleted', id, kind: entry.kind });
    if (changes.length === 0 && options.bumpAll !== true) return;
    const revisions = new Map(this.#revisions);
    if (options.bumpAll === true) {
      for (const id of afterFlat.keys()) revisions.set(id, (revisions.get(id) ?? 0) + 1);
    } else if (options.bumpRevisions ?? true) {
      for (const change of changes)
        if (change.action !== 'deleted') revisions.set(change.id, (revisions.get(change.id) ?? 0) + 1);
    }
    for (const id of revisions.keys()) if (!afterFlat.has(id)) revisions.delete(id);
    let version: number;
    try {
      version = await this.store.save(
        { flow: this.#encrypt(after), revisions: Object.fromEntries(revisions), savedBy: context.by, summary },
        { newVersion: options.newVersion ?? true },
      );
    } catch (e) {
      // The engine runs the new flow but it could not be stored: go back, so what runs is what is stored.
      this.#log({ level: 'ERROR', message: `could not store the flow (${summary}); the change is undone`, error: e });
      await this.engine
        .applyFlow(before)
        .catch((undo: unknown) => this.#log({ level: 'ERROR', message: 'could not undo the unstored change', error: undo }));
      throw new ApiError(500, `the flow could not be stored: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.#revisions = revisions;
    this.#version = version;
    this.#cached = undefined;
    const index = indexFlow(after);
    const event: FlowChanged = {
      version,
      by: context.by,
      clientId: context.clientId,
      summary,
      reload: options.bumpAll === true,
      changes: changes.map((c) => {
        const located = index.get(c.id);
        return located === undefined || c.action === 'deleted'
          ? { action: c.action, kind: c.kind, id: c.id }
          : { action: c.action, kind: c.kind, id: c.id, entity: this.#entity(located, false) };
      }),
    };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (e) {
        this.#log({ level: 'ERROR', message: 'a flow change listener failed', error: e });
      }
    }
  }

  #checkRevisions(document: FlowDocument, expect: ReadonlyArray<{ id: string; revision: number }>): void {
    if (expect.length === 0) return;
    const index = indexFlow(document);
    const stale: Array<{ id: string; message: string; componentName?: string }> = [];
    for (const { id, revision } of expect) {
      const located = index.get(id);
      if (located === undefined) throw notFound(`component "${id}"`);
      const current = this.revision(id);
      if (current !== revision) {
        const name = 'name' in located.entry ? located.entry.name : undefined;
        stale.push({
          id,
          message: `revision ${revision} is stale: "${name ?? id}" is at revision ${current} (someone else changed it; reload it and apply your change again)`,
          ...(typeof name === 'string' ? { componentName: name } : {}),
        });
      }
    }
    if (stale.length > 0) {
      throw new ApiError(
        409,
        stale[0]?.message ?? 'stale revision',
        stale.map((s) => ({
          path: 'revision',
          componentId: s.id,
          message: s.message,
          ...(s.componentName === undefined ? {} : { componentName: s.componentName }),
        })),
      );
    }
  }

  /** The document with sensitive values encrypted, as stored. */
  #encrypt(document: FlowDocument): FlowDocument {
    return this.policy.map(document, (value, place) => this.#cipher.encrypt(value, place));
  }

  /** Decrypts a stored document. Values stored in the clear (a hand-edited file) are kept, and encrypted at the next save. */
  #decrypt(document: FlowDocument): FlowDocument {
    return this.policy.map(document, (value, place) =>
      SensitiveCipher.isEncrypted(value) ? this.#cipher.decrypt(value, place) : value,
    );
  }

  /** Decrypts a stored document (a kept version). */
  decryptStored(document: FlowDocument): FlowDocument {
    return this.#decrypt(document);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}

/** The document with sensitive values encrypted, as stored. */
export function encryptFlow(policy: SensitivePolicy, cipher: SensitiveCipher, document: FlowDocument): FlowDocument {
  return policy.map(document, (value, place) => cipher.encrypt(value, place));
}

/**
 * Decrypts a stored document. Values stored in the clear (a hand-edited file) are kept, and are
 * encrypted at the next save.
 * @throws {Error} when a value does not decrypt with this key.
 */
export function decryptFlow(policy: SensitivePolicy, cipher: SensitiveCipher, document: FlowDocument): FlowDocument {
  return policy.map(document, (value, place) => (SensitiveCipher.isEncrypted(value) ? cipher.decrypt(value, place) : value));
}

/** The document with every processor and port stopped (kept DISABLED where it was). */
export function allStopped(document: FlowDocument): FlowDocument {
  const copy = cloneDocument(document);
  const visit = (group: ProcessGroupDefinition): void => {
    const remotePorts = (group.remoteProcessGroups ?? []).flatMap((r) => [...r.inputPorts, ...r.outputPorts]);
    for (const list of [group.processors, group.inputPorts, group.outputPorts, remotePorts]) {
      for (const entry of list) if (entry.state === 'RUNNING') entry.state = 'STOPPED';
    }
    for (const child of group.processGroups) visit(child);
  };
  visit(copy.rootGroup);
  return copy;
}

/** Each component of a document as comparable JSON (groups without their content). */
function flatten(document: FlowDocument): Map<string, FlatEntry> {
  const out = new Map<string, FlatEntry>();
  for (const [id, located] of indexFlow(document)) {
    const entry = located.kind === 'process-group' ? shallowGroup(located.entry) : located.entry;
    out.set(id, { kind: located.kind, groupId: located.parent?.id ?? null, json: JSON.stringify(entry) });
  }
  return out;
}
