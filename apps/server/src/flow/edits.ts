import type {
  ConnectionDefinition,
  Engine,
  ExtensionRegistry,
  FlowDocument,
  ParameterContextDefinition,
  ProcessGroupDefinition,
  ProcessorDefinitionEntry,
  RemotePortDefinition,
  RemoteProcessGroupDefinition,
} from '@sluice/engine';
import { uuidv7 } from '@sluice/engine';
import {
  type connectionChangesSchema,
  type connectionCreateSchema,
  type controllerServiceChangesSchema,
  type controllerServiceCreateSchema,
  type FlowFragment,
  type funnelChangesSchema,
  type labelChangesSchema,
  type labelCreateSchema,
  type Position,
  type parameterContextChangesSchema,
  type parameterContextCreateSchema,
  type parameterSchema,
  type portChangesSchema,
  type portCreateSchema,
  type processGroupChangesSchema,
  type processGroupCreateSchema,
  type processorChangesSchema,
  type processorCreateSchema,
  type RemotePortInput,
  type remoteProcessGroupChangesSchema,
  type remoteProcessGroupCreateSchema,
  SENSITIVE_VALUE_SET,
} from '@sluice/protocol';
import type { z } from 'zod';
import { ApiError, notFound } from '../http/errors.ts';
import {
  addToGroup,
  cloneDocument,
  GROUP_LISTS,
  idsInGroup,
  indexFlow,
  type Located,
  remotePortIds,
  removeLocated,
} from './document.ts';

type Properties = Record<string, string | null>;

// ---- properties and parameters ---------------------------------------------------------------------

/**
 * Merges property changes into a property map: a value sets, `null` removes, and the "set" marker
 * keeps the stored (sensitive) value.
 * @throws {ApiError} 400 when the marker is sent for a property that has no value.
 */
export function mergeProperties(existing: Properties, changes: Readonly<Properties>, path: string): Properties {
  const out: Properties = { ...existing };
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) {
      delete out[name];
    } else if (value === SENSITIVE_VALUE_SET) {
      const stored = Object.hasOwn(existing, name) ? existing[name] : undefined;
      if (typeof stored !== 'string') {
        throw new ApiError(400, `property "${name}" has no stored value to keep; send the value itself`, [
          { path: `${path}.${name}`, property: name, message: 'the "sensitive value set" marker was sent but no value is set' },
        ]);
      }
    } else {
      out[name] = value;
    }
  }
  return out;
}

type ParameterInput = z.output<typeof parameterSchema>;

/**
 * A context's new parameter list: sensitive parameters sent with the "set" marker keep the stored value.
 * @throws {ApiError} 400 for a marker with nothing stored, or a parameter named twice.
 */
export function mergeParameters(
  existing: ParameterContextDefinition['parameters'],
  next: readonly ParameterInput[],
): ParameterContextDefinition['parameters'] {
  const seen = new Set<string>();
  return next.map((parameter, i) => {
    if (seen.has(parameter.name)) {
      throw new ApiError(400, `parameter "${parameter.name}" is given twice`, [
        { path: `component.parameters.${i}.name`, message: 'duplicate parameter name' },
      ]);
    }
    seen.add(parameter.name);
    if (parameter.value !== SENSITIVE_VALUE_SET) return parameter;
    const stored = existing.find((p) => p.name === parameter.name);
    if (stored === undefined || stored.value === null) {
      throw new ApiError(400, `parameter "${parameter.name}" has no stored value to keep; send the value itself`, [
        { path: `component.parameters.${i}.value`, message: 'the "sensitive value set" marker was sent but no value is set' },
      ]);
    }
    return { ...parameter, value: stored.value };
  });
}

// ---- creation -------------------------------------------------------------------------------------

/** The group with this id in a draft. @throws {ApiError} 404 */
export function groupIn(draft: FlowDocument, id: string): ProcessGroupDefinition {
  const located = indexFlow(draft).get(id);
  if (located?.kind !== 'process-group') throw notFound(`process group "${id}"`);
  return located.entry;
}

/** A new processor entry with its type's scheduling defaults. @throws {ApiError} 400 for an unknown type. */
export function newProcessor(
  registry: ExtensionRegistry,
  body: z.output<typeof processorCreateSchema>,
): ProcessorDefinitionEntry {
  const definition = registry.processor(body.type);
  if (definition === undefined) {
    const suggestion = registry.suggestProcessor(body.type);
    throw new ApiError(400, `unknown processor type "${body.type}"`, [
      {
        path: 'body.type',
        message: `unknown processor type "${body.type}"${suggestion === undefined ? '' : `; did you mean "${suggestion}"?`}`,
      },
    ]);
  }
  const defaults = definition.defaultSchedule ?? {};
  return {
    id: uuidv7(),
    name: body.name ?? definition.type,
    type: definition.type,
    ...(body.position === undefined ? {} : { position: body.position }),
    ...(body.comments === undefined ? {} : { comments: body.comments }),
    properties: mergeProperties({}, body.properties ?? {}, 'body.properties'),
    scheduling: {
      strategy: body.scheduling?.strategy ?? defaults.strategy ?? 'timer',
      period: body.scheduling?.period ?? defaults.period ?? '0 sec',
      concurrentTasks: body.scheduling?.concurrentTasks ?? defaults.concurrentTasks ?? 1,
      runDuration: body.scheduling?.runDuration ?? defaults.runDuration ?? '0 ms',
      penaltyDuration: body.scheduling?.penaltyDuration ?? defaults.penaltyDuration ?? '30 sec',
      yieldDuration: body.scheduling?.yieldDuration ?? defaults.yieldDuration ?? '1 sec',
    },
    bulletinLevel: body.bulletinLevel ?? 'WARN',
    autoTerminate: body.autoTerminate ?? [],
    ...(body.retry === undefined ? {} : { retry: body.retry }),
    state: 'STOPPED',
  };
}

export function newConnection(body: z.output<typeof connectionCreateSchema>): ConnectionDefinition {
  return {
    id: uuidv7(),
    ...(body.name === undefined ? {} : { name: body.name }),
    source: body.source,
    destination: body.destination,
    relationships: body.relationships ?? [],
    backPressureObjectThreshold: body.backPressureObjectThreshold ?? 10_000,
    backPressureDataSizeThreshold: body.backPressureDataSizeThreshold ?? '1 GB',
    flowFileExpiration: body.flowFileExpiration ?? '0 sec',
    prioritizers: body.prioritizers ?? [],
    ...(body.bends === undefined ? {} : { bends: body.bends }),
  };
}

export function newPort(body: z.output<typeof portCreateSchema>): ProcessGroupDefinition['inputPorts'][number] {
  return {
    id: uuidv7(),
    name: body.name,
    ...(body.position === undefined ? {} : { position: body.position }),
    ...(body.comments === undefined ? {} : { comments: body.comments }),
    ...(body.allowRemoteAccess === undefined ? {} : { allowRemoteAccess: body.allowRemoteAccess }),
    state: 'RUNNING',
  };
}

export function newLabel(body: z.output<typeof labelCreateSchema>): ProcessGroupDefinition['labels'][number] {
  return { id: uuidv7(), ...body };
}

export function newService(
  registry: ExtensionRegistry,
  body: z.output<typeof controllerServiceCreateSchema>,
): ProcessGroupDefinition['controllerServices'][number] {
  const definition = registry.service(body.type);
  if (definition === undefined) {
    throw new ApiError(400, `unknown controller service type "${body.type}"`, [
      { path: 'body.type', message: `unknown controller service type "${body.type}"` },
    ]);
  }
  return {
    id: uuidv7(),
    name: body.name ?? definition.type,
    type: definition.type,
    ...(body.comments === undefined ? {} : { comments: body.comments }),
    properties: mergeProperties({}, body.properties ?? {}, 'body.properties'),
    state: 'DISABLED',
  };
}

export function newGroup(body: z.output<typeof processGroupCreateSchema>): ProcessGroupDefinition {
  return {
    id: uuidv7(),
    name: body.name,
    ...(body.position === undefined ? {} : { position: body.position }),
    ...(body.comments === undefined ? {} : { comments: body.comments }),
    ...(body.parameterContextId === undefined ? {} : { parameterContextId: body.parameterContextId }),
    processors: [],
    connections: [],
    inputPorts: [],
    outputPorts: [],
    funnels: [],
    labels: [],
    controllerServices: [],
    processGroups: [],
  };
}

/**
 * The ports of a Remote Process Group from what a client sent: stored ports (same id) keep the
 * settings not sent, new ones get an id and come in STOPPED.
 * @throws {ApiError} 400 for a port named twice in one direction.
 */
export function mergeRemotePorts(
  existing: readonly RemotePortDefinition[],
  next: readonly RemotePortInput[],
  path: string,
): RemotePortDefinition[] {
  const names = new Set<string>();
  return next.map((input, i) => {
    const key = input.remoteId ?? input.name;
    if (names.has(key)) {
      throw new ApiError(400, `remote port "${key}" is given twice`, [
        { path: `${path}.${i}.name`, message: 'duplicate remote port' },
      ]);
    }
    names.add(key);
    const stored = input.id === undefined ? undefined : existing.find((p) => p.id === input.id);
    const base: RemotePortDefinition = stored ?? {
      id: input.id ?? uuidv7(),
      name: input.name,
      useCompression: false,
      batchCount: 0,
      batchSize: '0 B',
      batchDuration: '0 sec',
      concurrentTasks: 1,
      state: 'STOPPED',
    };
    const port: RemotePortDefinition = { ...base, name: input.name };
    if (input.remoteId !== undefined) port.remoteId = input.remoteId;
    if (input.useCompression !== undefined) port.useCompression = input.useCompression;
    if (input.batchCount !== undefined) port.batchCount = input.batchCount;
    if (input.batchSize !== undefined) port.batchSize = input.batchSize;
    if (input.batchDuration !== undefined) port.batchDuration = input.batchDuration;
    if (input.concurrentTasks !== undefined) port.concurrentTasks = input.concurrentTasks;
    if (input.state !== undefined) port.state = input.state;
    return port;
  });
}

export function newRemoteProcessGroup(body: z.output<typeof remoteProcessGroupCreateSchema>): RemoteProcessGroupDefinition {
  if (body.accessToken === SENSITIVE_VALUE_SET)
    throw new ApiError(400, 'a new Remote Process Group has no stored token to keep; send the token itself', [
      { path: 'body.accessToken', message: 'the "sensitive value set" marker was sent but no value is set' },
    ]);
  return {
    id: uuidv7(),
    name: body.name ?? body.targetUris,
    ...(body.position === undefined ? {} : { position: body.position }),
    ...(body.comments === undefined ? {} : { comments: body.comments }),
    targetUris: body.targetUris,
    transport: body.transport ?? 'HTTP',
    ...(body.accessToken === undefined ? {} : { accessToken: body.accessToken }),
    ...(body.sslContextService === undefined ? {} : { sslContextService: body.sslContextService }),
    communicationsTimeout: body.communicationsTimeout ?? '30 sec',
    yieldDuration: body.yieldDuration ?? '10 sec',
    inputPorts: mergeRemotePorts([], body.inputPorts ?? [], 'body.inputPorts'),
    outputPorts: mergeRemotePorts([], body.outputPorts ?? [], 'body.outputPorts'),
  };
}

export function newParameterContext(body: z.output<typeof parameterContextCreateSchema>): ParameterContextDefinition {
  return {
    id: uuidv7(),
    name: body.name,
    ...(body.description === undefined ? {} : { description: body.description }),
    parameters: mergeParameters([], body.parameters ?? []),
    inherits: body.inherits ?? [],
  };
}

// ---- updates --------------------------------------------------------------------------------------

/** Sets or clears an optional field (`null` clears). */
function optional<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | null | undefined): void {
  if (value === undefined) return;
  if (value === null) delete target[key];
  else target[key] = value;
}

export function updateProcessor(entry: ProcessorDefinitionEntry, changes: z.output<typeof processorChangesSchema>): void {
  if (changes.name !== undefined) entry.name = changes.name;
  if (changes.position !== undefined) entry.position = changes.position;
  optional(entry, 'comments', changes.comments);
  if (changes.properties !== undefined)
    entry.properties = mergeProperties(entry.properties, changes.properties, 'component.properties');
  if (changes.scheduling !== undefined) entry.scheduling = { ...entry.scheduling, ...changes.scheduling };
  if (changes.bulletinLevel !== undefined) entry.bulletinLevel = changes.bulletinLevel;
  if (changes.autoTerminate !== undefined) entry.autoTerminate = changes.autoTerminate;
  optional(entry, 'retry', changes.retry);
}

export function updateConnection(entry: ConnectionDefinition, changes: z.output<typeof connectionChangesSchema>): void {
  optional(entry, 'name', changes.name);
  if (changes.destination !== undefined) entry.destination = changes.destination;
  if (changes.relationships !== undefined) entry.relationships = changes.relationships;
  if (changes.backPressureObjectThreshold !== undefined) entry.backPressureObjectThreshold = changes.backPressureObjectThreshold;
  if (changes.backPressureDataSizeThreshold !== undefined)
    entry.backPressureDataSizeThreshold = changes.backPressureDataSizeThreshold;
  if (changes.flowFileExpiration !== undefined) entry.flowFileExpiration = changes.flowFileExpiration;
  if (changes.prioritizers !== undefined) entry.prioritizers = changes.prioritizers;
  optional(entry, 'bends', changes.bends);
}

export function updatePort(
  entry: ProcessGroupDefinition['inputPorts'][number],
  changes: z.output<typeof portChangesSchema>,
): void {
  if (changes.name !== undefined) entry.name = changes.name;
  if (changes.position !== undefined) entry.position = changes.position;
  optional(entry, 'comments', changes.comments);
  optional(entry, 'allowRemoteAccess', changes.allowRemoteAccess);
}

export function updateFunnel(
  entry: ProcessGroupDefinition['funnels'][number],
  changes: z.output<typeof funnelChangesSchema>,
): void {
  if (changes.position !== undefined) entry.position = changes.position;
}

export function updateLabel(entry: ProcessGroupDefinition['labels'][number], changes: z.output<typeof labelChangesSchema>): void {
  if (changes.text !== undefined) entry.text = changes.text;
  if (changes.position !== undefined) entry.position = changes.position;
  optional(entry, 'width', changes.width);
  optional(entry, 'height', changes.height);
  optional(entry, 'style', changes.style);
}

export function updateService(
  entry: ProcessGroupDefinition['controllerServices'][number],
  changes: z.output<typeof controllerServiceChangesSchema>,
): void {
  if (changes.name !== undefined) entry.name = changes.name;
  optional(entry, 'comments', changes.comments);
  if (changes.properties !== undefined)
    entry.properties = mergeProperties(entry.properties, changes.properties, 'component.properties');
}

export function updateGroup(entry: ProcessGroupDefinition, changes: z.output<typeof processGroupChangesSchema>): void {
  if (changes.name !== undefined) entry.name = changes.name;
  if (changes.position !== undefined) entry.position = changes.position;
  optional(entry, 'comments', changes.comments);
  optional(entry, 'parameterContextId', changes.parameterContextId);
}

/**
 * Updates a Remote Process Group. A port left out of a new port list is removed (with its
 * connections, by the caller's check: a port that is still connected is refused).
 * @throws {ApiError} 400 for the token marker with no token stored.
 */
export function updateRemoteProcessGroup(
  entry: RemoteProcessGroupDefinition,
  changes: z.output<typeof remoteProcessGroupChangesSchema>,
): void {
  if (changes.name !== undefined) entry.name = changes.name;
  if (changes.position !== undefined) entry.position = changes.position;
  optional(entry, 'comments', changes.comments);
  if (changes.targetUris !== undefined) entry.targetUris = changes.targetUris;
  if (changes.transport !== undefined) entry.transport = changes.transport;
  if (changes.communicationsTimeout !== undefined) entry.communicationsTimeout = changes.communicationsTimeout;
  if (changes.yieldDuration !== undefined) entry.yieldDuration = changes.yieldDuration;
  if (changes.accessToken === SENSITIVE_VALUE_SET) {
    if (entry.accessToken === undefined)
      throw new ApiError(400, 'no access token is stored to keep; send the token itself', [
        { path: 'component.accessToken', message: 'the "sensitive value set" marker was sent but no value is set' },
      ]);
  } else {
    optional(entry, 'accessToken', changes.accessToken);
  }
  optional(entry, 'sslContextService', changes.sslContextService);
  if (changes.inputPorts !== undefined)
    entry.inputPorts = mergeRemotePorts(entry.inputPorts, changes.inputPorts, 'component.inputPorts');
  if (changes.outputPorts !== undefined)
    entry.outputPorts = mergeRemotePorts(entry.outputPorts, changes.outputPorts, 'component.outputPorts');
}

/**
 * Refuses removing remote ports that connections still use.
 * @throws {ApiError} 409 naming the first such port.
 */
export function checkRemotePortsKept(
  parent: ProcessGroupDefinition,
  before: RemoteProcessGroupDefinition,
  after: RemoteProcessGroupDefinition,
): void {
  const kept = new Set(remotePortIds(after));
  for (const port of [...before.inputPorts, ...before.outputPorts]) {
    if (kept.has(port.id)) continue;
    if (parent.connections.some((c) => c.source.id === port.id || c.destination.id === port.id))
      throw new ApiError(409, `remote port "${port.name}" is connected; delete its connections before removing it`, [
        { componentId: port.id, componentName: port.name, message: 'connected' },
      ]);
  }
}

export function updateParameterContext(
  entry: ParameterContextDefinition,
  changes: z.output<typeof parameterContextChangesSchema>,
): void {
  if (changes.name !== undefined) entry.name = changes.name;
  optional(entry, 'description', changes.description);
  if (changes.parameters !== undefined) entry.parameters = mergeParameters(entry.parameters, changes.parameters);
  if (changes.inherits !== undefined) entry.inherits = changes.inherits;
}

// ---- deletion -------------------------------------------------------------------------------------

/**
 * Deletes components from a draft, with what goes along: the content of deleted groups and the
 * connections of deleted components. Returns every id removed.
 * @throws {ApiError} 400 for the root group, 409 for a running processor, a connection holding data,
 *   a parameter context in use or a controller service still referenced.
 */
export function deleteComponents(draft: FlowDocument, ids: readonly string[], engine: Engine): string[] {
  const index = indexFlow(draft);
  const doomed = new Set<string>();
  for (const id of ids) {
    const located = index.get(id);
    if (located === undefined) throw notFound(`component "${id}"`);
    if (located.kind === 'process-group' && located.parent === undefined)
      throw new ApiError(400, 'the root process group cannot be deleted');
    if (located.kind === 'process-group') for (const inner of idsInGroup(located.entry)) doomed.add(inner);
    else if (located.kind === 'remote-process-group')
      for (const inner of [id, ...remotePortIds(located.entry)]) doomed.add(inner);
    else doomed.add(id);
  }
  // Connections to or from anything deleted go too.
  for (const [id, located] of index) {
    if (located.kind === 'connection' && (doomed.has(located.entry.source.id) || doomed.has(located.entry.destination.id)))
      doomed.add(id);
  }
  for (const id of doomed) {
    const located = index.get(id);
    if (located === undefined) continue;
    if (located.kind === 'processor') {
      const state = engine.component(id)?.runState;
      if (state === 'RUNNING' || state === 'STARTING' || state === 'STOPPING') {
        throw new ApiError(409, `"${located.entry.name}" is running; stop it before deleting it`, [
          { componentId: id, componentName: located.entry.name, message: 'running' },
        ]);
      }
    }
    if (located.kind === 'connection') {
      const queued = engine.connection(id)?.queue.size().count ?? 0;
      if (queued > 0) {
        const name = located.entry.name ?? (located.entry.relationships.join(', ') || id);
        throw new ApiError(409, `connection "${name}" holds ${queued} FlowFiles; empty its queue before deleting it`, [
          { componentId: id, componentName: name, message: `${queued} FlowFiles queued` },
        ]);
      }
    }
    if (located.kind === 'parameter-context') {
      const users = [...index.values()].filter(
        (l) =>
          (l.kind === 'process-group' && l.entry.parameterContextId === id && !doomed.has(l.entry.id)) ||
          (l.kind === 'parameter-context' && l.entry.inherits.includes(id) && !doomed.has(l.entry.id)),
      );
      const first = users[0];
      if (first !== undefined) {
        throw new ApiError(
          409,
          `parameter context "${located.entry.name}" is used by "${'name' in first.entry ? first.entry.name : first.entry.id}"`,
          [{ componentId: first.entry.id, message: 'uses this parameter context' }],
        );
      }
    }
    if (located.kind === 'controller-service') {
      for (const user of index.values()) {
        if (doomed.has(user.entry.id)) continue;
        const uses =
          user.kind === 'remote-process-group'
            ? user.entry.sslContextService === id
            : (user.kind === 'processor' || user.kind === 'controller-service') &&
              Object.values(user.entry.properties).includes(id);
        if (uses && 'name' in user.entry) {
          throw new ApiError(409, `controller service "${located.entry.name}" is used by "${user.entry.name}"`, [
            { componentId: user.entry.id, componentName: user.entry.name, message: 'references this controller service' },
          ]);
        }
      }
    }
  }
  for (const id of doomed) {
    const located = indexFlow(draft).get(id);
    if (located !== undefined) removeLocated(draft, located);
  }
  return [...doomed];
}

// ---- moving ---------------------------------------------------------------------------------------

/**
 * Moves components to new positions and/or into another group. Connections between moved
 * components travel with them.
 * @throws {ApiError} 400 for moving a group into itself or the root group anywhere.
 */
export function moveComponents(
  draft: FlowDocument,
  items: ReadonlyArray<{ id: string; position?: Position | undefined }>,
  targetGroupId: string | undefined,
): void {
  const index = indexFlow(draft);
  for (const item of items) {
    const located = index.get(item.id);
    if (located === undefined) throw notFound(`component "${item.id}"`);
    if (
      item.position !== undefined &&
      located.kind !== 'connection' &&
      located.kind !== 'parameter-context' &&
      located.kind !== 'controller-service'
    ) {
      located.entry.position = item.position;
    }
  }
  if (targetGroupId === undefined) return;
  const target = groupIn(draft, targetGroupId);
  const moving = new Set(items.map((i) => i.id));
  const movedFrom = new Set<string>();
  for (const id of moving) {
    const located = index.get(id);
    if (located === undefined || located.kind === 'connection') continue;
    if (located.kind === 'parameter-context' || located.parent === undefined)
      throw new ApiError(400, `"${id}" cannot be moved into a process group`);
    if (located.kind === 'process-group' && idsInGroup(located.entry).includes(target.id))
      throw new ApiError(400, `process group "${located.entry.name}" cannot be moved into itself`);
    if (located.parent.id === target.id) continue;
    movedFrom.add(located.parent.id);
    removeLocated(draft, located);
    addToGroup(target, located);
  }
  // Connections listed, or between two moved components in the group they left, move along.
  for (const [id, located] of index) {
    if (located.kind !== 'connection' || located.parent.id === target.id) continue;
    const between =
      moving.has(located.entry.source.id) && moving.has(located.entry.destination.id) && movedFrom.has(located.parent.id);
    if (moving.has(id) || between) {
      removeLocated(draft, located);
      addToGroup(target, located);
    }
  }
}

// ---- copy and paste -------------------------------------------------------------------------------

/**
 * The selected components of one group as a fragment (plaintext: callers mask it before it leaves
 * the server), with the connections between them.
 * @throws {ApiError} 400 when the selection spans groups or holds the root group.
 */
export function copyFragment(document: FlowDocument, ids: readonly string[]): FlowFragment {
  const index = indexFlow(document);
  const fragment: FlowFragment = {
    processors: [],
    connections: [],
    inputPorts: [],
    outputPorts: [],
    funnels: [],
    labels: [],
    controllerServices: [],
    processGroups: [],
    remoteProcessGroups: [],
  };
  let parentId: string | undefined;
  const ends = new Set<string>();
  const selected = new Set(ids);
  for (const id of selected) {
    const located = index.get(id);
    if (located === undefined) throw notFound(`component "${id}"`);
    if (located.kind === 'parameter-context' || located.parent === undefined)
      throw new ApiError(400, `"${id}" cannot be copied (only components inside a process group can)`);
    if (parentId !== undefined && located.parent.id !== parentId)
      throw new ApiError(400, 'a selection to copy must come from one process group', [
        { componentId: id, message: `is in "${located.parent.id}", not "${parentId}"` },
      ]);
    parentId = located.parent.id;
    if (located.kind === 'connection') continue;
    ends.add(id);
    if (located.kind === 'process-group') {
      for (const port of [...located.entry.inputPorts, ...located.entry.outputPorts]) ends.add(port.id);
    }
    if (located.kind === 'remote-process-group') for (const port of remotePortIds(located.entry)) ends.add(port);
    addToFragment(fragment, cloneDocument(located));
  }
  if (parentId === undefined) return fragment;
  const parent = groupIn(document, parentId);
  for (const connection of parent.connections) {
    if (ends.has(connection.source.id) && ends.has(connection.destination.id))
      fragment.connections.push(cloneDocument(connection));
  }
  return fragment;
}

function addToFragment(fragment: FlowFragment, located: Located): void {
  switch (located.kind) {
    case 'processor':
      fragment.processors.push(located.entry);
      break;
    case 'connection':
      fragment.connections.push(located.entry);
      break;
    case 'input-port':
      fragment.inputPorts.push(located.entry);
      break;
    case 'output-port':
      fragment.outputPorts.push(located.entry);
      break;
    case 'funnel':
      fragment.funnels.push(located.entry);
      break;
    case 'label':
      fragment.labels.push(located.entry);
      break;
    case 'controller-service':
      fragment.controllerServices.push(located.entry);
      break;
    case 'process-group':
      fragment.processGroups.push(located.entry);
      break;
    case 'remote-process-group':
      fragment.remoteProcessGroups.push(located.entry);
      break;
    case 'parameter-context':
      break;
  }
}

/**
 * Gives every component of a group (deeply) a new id, remapping connection ends and controller-service
 * references; ids not in the group are left alone. Records old -> new in `idMap`.
 */
export function reassignIds(group: ProcessGroupDefinition, idMap: Map<string, string>, fresh: () => string = uuidv7): void {
  const assign = (g: ProcessGroupDefinition): void => {
    idMap.set(g.id, fresh());
    for (const list of GROUP_LISTS) {
      if (list === 'processGroups') continue;
      for (const entry of g[list]) idMap.set(entry.id, fresh());
    }
    for (const remote of g.remoteProcessGroups ?? [])
      for (const id of [remote.id, ...remotePortIds(remote)]) idMap.set(id, fresh());
    for (const child of g.processGroups) assign(child);
  };
  assign(group);
  const rewrite = (g: ProcessGroupDefinition): void => {
    g.id = idMap.get(g.id) ?? g.id;
    for (const list of GROUP_LISTS) {
      if (list === 'processGroups') continue;
      for (const entry of g[list]) entry.id = idMap.get(entry.id) ?? entry.id;
    }
    for (const remote of g.remoteProcessGroups ?? []) {
      remote.id = idMap.get(remote.id) ?? remote.id;
      for (const port of [...remote.inputPorts, ...remote.outputPorts]) port.id = idMap.get(port.id) ?? port.id;
      if (remote.sslContextService !== undefined)
        remote.sslContextService = idMap.get(remote.sslContextService) ?? remote.sslContextService;
    }
    for (const c of g.connections) {
      c.source = { id: idMap.get(c.source.id) ?? c.source.id };
      c.destination = { id: idMap.get(c.destination.id) ?? c.destination.id };
    }
    for (const p of [...g.processors, ...g.controllerServices]) {
      for (const [name, value] of Object.entries(p.properties)) {
        if (value !== null && idMap.has(value)) p.properties[name] = idMap.get(value) ?? value;
      }
    }
    for (const child of g.processGroups) rewrite(child);
  };
  rewrite(group);
}

/**
 * Pastes a fragment into a group with new ids: connections inside the fragment follow their ends
 * (those whose ends are outside it are left out), processors come in stopped and services
 * disabled, and top-level positions move by `offset`. Returns old id -> new id.
 */
export function pasteFragment(target: ProcessGroupDefinition, fragment: FlowFragment, offset: Position): Map<string, string> {
  // Pasting is adding a temporary group's content: reuse the id rewriting of whole groups.
  const holder: ProcessGroupDefinition = {
    id: '__paste__',
    name: 'paste',
    ...cloneDocument(fragment),
  };
  const inside = new Set(idsInGroup(holder));
  const portsOfChildren = new Set(holder.processGroups.flatMap((g) => [...g.inputPorts, ...g.outputPorts].map((p) => p.id)));
  // Remote ports are inside their Remote Process Group (idsInGroup lists them).
  holder.connections = holder.connections.filter(
    (c) =>
      (inside.has(c.source.id) || portsOfChildren.has(c.source.id)) &&
      (inside.has(c.destination.id) || portsOfChildren.has(c.destination.id)),
  );
  const idMap = new Map<string, string>();
  reassignIds(holder, idMap);
  idMap.delete('__paste__');
  const shift = (p: Position | undefined): Position | undefined =>
    p === undefined ? undefined : { x: p.x + offset.x, y: p.y + offset.y };
  for (const entry of [
    ...holder.processors,
    ...holder.inputPorts,
    ...holder.outputPorts,
    ...holder.funnels,
    ...holder.labels,
    ...holder.processGroups,
    ...(holder.remoteProcessGroups ?? []),
  ]) {
    const moved = shift(entry.position);
    if (moved !== undefined) entry.position = moved;
  }
  for (const c of holder.connections)
    if (c.bends !== undefined) c.bends = c.bends.map((b) => ({ x: b.x + offset.x, y: b.y + offset.y }));
  stopEverything(holder);
  if ((holder.remoteProcessGroups ?? []).length > 0)
    target.remoteProcessGroups = [...(target.remoteProcessGroups ?? []), ...(holder.remoteProcessGroups ?? [])];
  for (const list of GROUP_LISTS) {
    switch (list) {
      case 'processors':
        target.processors.push(...holder.processors);
        break;
      case 'connections':
        target.connections.push(...holder.connections);
        break;
      case 'inputPorts':
        target.inputPorts.push(...holder.inputPorts);
        break;
      case 'outputPorts':
        target.outputPorts.push(...holder.outputPorts);
        break;
      case 'funnels':
        target.funnels.push(...holder.funnels);
        break;
      case 'labels':
        target.labels.push(...holder.labels);
        break;
      case 'controllerServices':
        target.controllerServices.push(...holder.controllerServices);
        break;
      case 'processGroups':
        target.processGroups.push(...holder.processGroups);
        break;
    }
  }
  return idMap;
}

/** Processors stopped (DISABLED kept) and services disabled, deeply. */
export function stopEverything(group: ProcessGroupDefinition): void {
  for (const p of group.processors) if (p.state === 'RUNNING') p.state = 'STOPPED';
  for (const s of group.controllerServices) s.state = 'DISABLED';
  for (const remote of group.remoteProcessGroups ?? [])
    for (const p of [...remote.inputPorts, ...remote.outputPorts]) if (p.state === 'RUNNING') p.state = 'STOPPED';
  for (const child of group.processGroups) stopEverything(child);
}
