import type {
  ConnectionDefinition,
  ControllerServiceDefinition,
  FlowDocument,
  ParameterContextDefinition,
  PortDefinition,
  ProcessGroupDefinition,
  ProcessorDefinitionEntry,
  RemoteProcessGroupDefinition,
} from '@sluice/engine';
import type { ComponentKind } from '@sluice/protocol';

export type FunnelDefinition = ProcessGroupDefinition['funnels'][number];
export type LabelDefinition = ProcessGroupDefinition['labels'][number];

/** The list of a process group that holds each kind of component. */
export const LIST_OF = {
  processor: 'processors',
  connection: 'connections',
  'input-port': 'inputPorts',
  'output-port': 'outputPorts',
  funnel: 'funnels',
  label: 'labels',
  'controller-service': 'controllerServices',
  'process-group': 'processGroups',
} as const satisfies Record<Exclude<ComponentKind, 'parameter-context' | 'remote-process-group'>, keyof ProcessGroupDefinition>;

export type GroupKind = keyof typeof LIST_OF;
export type GroupList = (typeof LIST_OF)[GroupKind];
export const GROUP_LISTS: readonly GroupList[] = Object.values(LIST_OF);

/** A component found in a document, with the group that holds it. */
export type Located =
  | { kind: 'processor'; entry: ProcessorDefinitionEntry; parent: ProcessGroupDefinition }
  | { kind: 'connection'; entry: ConnectionDefinition; parent: ProcessGroupDefinition }
  | { kind: 'input-port'; entry: PortDefinition; parent: ProcessGroupDefinition }
  | { kind: 'output-port'; entry: PortDefinition; parent: ProcessGroupDefinition }
  | { kind: 'funnel'; entry: FunnelDefinition; parent: ProcessGroupDefinition }
  | { kind: 'label'; entry: LabelDefinition; parent: ProcessGroupDefinition }
  | { kind: 'controller-service'; entry: ControllerServiceDefinition; parent: ProcessGroupDefinition }
  | { kind: 'process-group'; entry: ProcessGroupDefinition; parent: ProcessGroupDefinition | undefined }
  | { kind: 'parameter-context'; entry: ParameterContextDefinition; parent: undefined }
  | { kind: 'remote-process-group'; entry: RemoteProcessGroupDefinition; parent: ProcessGroupDefinition };

/** Every component of a document by id (process groups and parameter contexts included). */
export function indexFlow(document: FlowDocument): Map<string, Located> {
  const out = new Map<string, Located>();
  for (const context of document.parameterContexts)
    out.set(context.id, { kind: 'parameter-context', entry: context, parent: undefined });
  const visit = (group: ProcessGroupDefinition, parent: ProcessGroupDefinition | undefined): void => {
    out.set(group.id, { kind: 'process-group', entry: group, parent });
    for (const entry of group.processors) out.set(entry.id, { kind: 'processor', entry, parent: group });
    for (const entry of group.connections) out.set(entry.id, { kind: 'connection', entry, parent: group });
    for (const entry of group.inputPorts) out.set(entry.id, { kind: 'input-port', entry, parent: group });
    for (const entry of group.outputPorts) out.set(entry.id, { kind: 'output-port', entry, parent: group });
    for (const entry of group.funnels) out.set(entry.id, { kind: 'funnel', entry, parent: group });
    for (const entry of group.labels) out.set(entry.id, { kind: 'label', entry, parent: group });
    for (const entry of group.controllerServices) out.set(entry.id, { kind: 'controller-service', entry, parent: group });
    for (const entry of group.remoteProcessGroups ?? [])
      out.set(entry.id, { kind: 'remote-process-group', entry, parent: group });
    for (const child of group.processGroups) visit(child, group);
  };
  visit(document.rootGroup, undefined);
  return out;
}

/** Removes a component from the group that holds it (or the document, for parameter contexts). */
export function removeLocated(document: FlowDocument, located: Located): void {
  const id = located.entry.id;
  if (located.kind === 'parameter-context') {
    document.parameterContexts = document.parameterContexts.filter((c) => c.id !== id);
    return;
  }
  const parent = located.parent;
  if (parent === undefined) throw new Error('the root group cannot be removed');
  switch (located.kind) {
    case 'processor':
      parent.processors = parent.processors.filter((e) => e.id !== id);
      break;
    case 'connection':
      parent.connections = parent.connections.filter((e) => e.id !== id);
      break;
    case 'input-port':
      parent.inputPorts = parent.inputPorts.filter((e) => e.id !== id);
      break;
    case 'output-port':
      parent.outputPorts = parent.outputPorts.filter((e) => e.id !== id);
      break;
    case 'funnel':
      parent.funnels = parent.funnels.filter((e) => e.id !== id);
      break;
    case 'label':
      parent.labels = parent.labels.filter((e) => e.id !== id);
      break;
    case 'controller-service':
      parent.controllerServices = parent.controllerServices.filter((e) => e.id !== id);
      break;
    case 'process-group':
      parent.processGroups = parent.processGroups.filter((e) => e.id !== id);
      break;
    case 'remote-process-group':
      parent.remoteProcessGroups = (parent.remoteProcessGroups ?? []).filter((e) => e.id !== id);
      break;
  }
}

/** The ids of a Remote Process Group's ports (connection ends inside it). */
export function remotePortIds(group: RemoteProcessGroupDefinition): string[] {
  return [...group.inputPorts, ...group.outputPorts].map((p) => p.id);
}

/** Every remote port of a document by id, with its Remote Process Group and the group holding that. */
export function indexRemotePorts(document: FlowDocument): Map<
  string,
  {
    port: RemoteProcessGroupDefinition['inputPorts'][number];
    remote: RemoteProcessGroupDefinition;
    parent: ProcessGroupDefinition;
  }
> {
  const out = new Map<
    string,
    {
      port: RemoteProcessGroupDefinition['inputPorts'][number];
      remote: RemoteProcessGroupDefinition;
      parent: ProcessGroupDefinition;
    }
  >();
  const visit = (group: ProcessGroupDefinition): void => {
    for (const remote of group.remoteProcessGroups ?? [])
      for (const port of [...remote.inputPorts, ...remote.outputPorts]) out.set(port.id, { port, remote, parent: group });
    for (const child of group.processGroups) visit(child);
  };
  visit(document.rootGroup);
  return out;
}

/** Adds a located component (taken from elsewhere) to a group. */
export function addToGroup(group: ProcessGroupDefinition, located: Located): void {
  switch (located.kind) {
    case 'processor':
      group.processors.push(located.entry);
      break;
    case 'connection':
      group.connections.push(located.entry);
      break;
    case 'input-port':
      group.inputPorts.push(located.entry);
      break;
    case 'output-port':
      group.outputPorts.push(located.entry);
      break;
    case 'funnel':
      group.funnels.push(located.entry);
      break;
    case 'label':
      group.labels.push(located.entry);
      break;
    case 'controller-service':
      group.controllerServices.push(located.entry);
      break;
    case 'process-group':
      group.processGroups.push(located.entry);
      break;
    case 'remote-process-group':
      group.remoteProcessGroups = [...(group.remoteProcessGroups ?? []), located.entry];
      break;
    case 'parameter-context':
      throw new Error('parameter contexts do not live in groups');
  }
}

/** A process group without its content (what change events and diffs carry for a group). */
export function shallowGroup(group: ProcessGroupDefinition): ProcessGroupDefinition {
  return {
    ...group,
    processors: [],
    connections: [],
    inputPorts: [],
    outputPorts: [],
    funnels: [],
    labels: [],
    controllerServices: [],
    processGroups: [],
    ...(group.remoteProcessGroups === undefined ? {} : { remoteProcessGroups: [] }),
  };
}

/** Every id inside a group (the group itself included). */
export function idsInGroup(group: ProcessGroupDefinition): string[] {
  const out: string[] = [group.id];
  for (const list of GROUP_LISTS) {
    if (list === 'processGroups') continue;
    for (const entry of group[list]) out.push(entry.id);
  }
  for (const remote of group.remoteProcessGroups ?? []) out.push(remote.id, ...remotePortIds(remote));
  for (const child of group.processGroups) out.push(...idsInGroup(child));
  return out;
}

/** Deep copy of a plain JSON document. */
export function cloneDocument<T>(document: T): T {
  return structuredClone(document);
}

/** A component with its revision and group, as the API returns it (discriminated by kind). */
export type Entity = {
  [K in Located['kind']]: {
    kind: K;
    id: string;
    groupId: string | null;
    revision: number;
    component: Extract<Located, { kind: K }>['entry'];
  };
}[Located['kind']];

/** Narrows an entity to a kind. */
export function isKind<K extends Entity['kind']>(entity: Entity, kind: K): entity is Extract<Entity, { kind: K }> {
  return entity.kind === kind;
}
