import type {
  Connection,
  ParameterContext,
  ProcessGroup,
  Processor,
  ProcessorTypeDto,
  RemoteProcessGroup,
} from '@sluice/protocol';

/** The group with this id, searching the whole tree. */
export function findGroup(root: ProcessGroup, id: string): ProcessGroup | undefined {
  if (root.id === id) return root;
  for (const child of root.processGroups) {
    const found = findGroup(child, id);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The groups from the root down to `id` (the breadcrumbs); just the root when `id` is unknown. */
export function groupPath(root: ProcessGroup, id: string): ProcessGroup[] {
  if (root.id === id) return [root];
  for (const child of root.processGroups) {
    const path = groupPath(child, id);
    if (path[path.length - 1]?.id === id) return [root, ...path];
  }
  return [root];
}

/** The group directly holding a component (processor, port, funnel, label, connection, service, group). */
export function parentOf(root: ProcessGroup, id: string): ProcessGroup | undefined {
  const holds = (g: ProcessGroup) =>
    g.processors.some((c) => c.id === id) ||
    g.connections.some((c) => c.id === id) ||
    g.inputPorts.some((c) => c.id === id) ||
    g.outputPorts.some((c) => c.id === id) ||
    g.funnels.some((c) => c.id === id) ||
    g.labels.some((c) => c.id === id) ||
    g.controllerServices.some((c) => c.id === id) ||
    (g.remoteProcessGroups ?? []).some((c) => c.id === id) ||
    g.processGroups.some((c) => c.id === id);
  if (holds(root)) return root;
  for (const child of root.processGroups) {
    const found = parentOf(child, id);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Every processor of the flow (search, provenance filters). */
export function allProcessors(root: ProcessGroup): Processor[] {
  return [...root.processors, ...root.processGroups.flatMap(allProcessors)];
}

/** How many components a group holds, all levels. */
export function countComponents(group: ProcessGroup): number {
  return (
    group.processors.length +
    group.inputPorts.length +
    group.outputPorts.length +
    group.funnels.length +
    group.processGroups.reduce((n, g) => n + 1 + countComponents(g), 0)
  );
}

/**
 * The relationships a processor has now: those of its type (respecting dependsOn) plus one per
 * dynamic property when the type says so.
 */
export function relationshipsOf(processor: Processor, type: ProcessorTypeDto | undefined): string[] {
  if (type === undefined) return ['success'];
  const value = (name: string) => processor.properties[name] ?? type.properties.find((p) => p.name === name)?.default;
  const applies = (dependsOn: { property: string; values: string[] } | undefined) =>
    dependsOn === undefined || dependsOn.values.includes(value(dependsOn.property) ?? '');
  const names = type.relationships.filter((r) => applies(r.dependsOn)).map((r) => r.name);
  const dynamic = type.dynamicProperties;
  if (dynamic !== undefined) {
    const creates = dynamic.createsRelationship;
    if (creates === true || (typeof creates === 'object' && applies(creates.dependsOn))) {
      const declared = new Set(type.properties.map((p) => p.name));
      for (const key of Object.keys(processor.properties)) if (!declared.has(key) && !names.includes(key)) names.push(key);
    }
  }
  return names;
}

/** Relationships of a processor that go nowhere (neither connected nor auto-terminated). */
export function unconnected(
  processor: Processor,
  type: ProcessorTypeDto | undefined,
  connections: readonly Connection[],
): string[] {
  const used = new Set(connections.filter((c) => c.source.id === processor.id).flatMap((c) => c.relationships));
  return relationshipsOf(processor, type).filter((r) => !used.has(r) && !processor.autoTerminate.includes(r));
}

/**
 * The parameters a group's components can reference: its context's, then those of the contexts it
 * inherits (a name already seen wins, as in the engine).
 */
export function parameterScope(
  contexts: readonly ParameterContext[],
  group: ProcessGroup | undefined,
): { context: string | undefined; names: Set<string> } {
  const byId = new Map(contexts.map((c) => [c.id, c]));
  const first = group?.parameterContextId === undefined ? undefined : byId.get(group.parameterContextId);
  const names = new Set<string>();
  const seen = new Set<string>();
  const visit = (context: ParameterContext | undefined) => {
    if (context === undefined || seen.has(context.id)) return;
    seen.add(context.id);
    for (const p of context.parameters) names.add(p.name);
    for (const id of context.inherits) visit(byId.get(id));
  };
  visit(first);
  return { context: first?.name, names };
}

/** The groups (all levels) that use a parameter context. */
export function groupsUsing(root: ProcessGroup, contextId: string): ProcessGroup[] {
  return [
    ...(root.parameterContextId === contextId ? [root] : []),
    ...root.processGroups.flatMap((g) => groupsUsing(g, contextId)),
  ];
}

/** The Remote Process Group of a group that holds a remote port with this id. */
export function remoteGroupOfPort(group: ProcessGroup, portId: string): RemoteProcessGroup | undefined {
  return (group.remoteProcessGroups ?? []).find((r) => [...r.inputPorts, ...r.outputPorts].some((p) => p.id === portId));
}

/** The name of a processor or port (remote ones too) anywhere in the flow (for dialogs' titles). */
export function componentName(root: ProcessGroup, id: string): string | undefined {
  const remotePorts = (root.remoteProcessGroups ?? []).flatMap((r) => [...r.inputPorts, ...r.outputPorts]);
  const named = [...root.processors, ...root.inputPorts, ...root.outputPorts, ...remotePorts].find((c) => c.id === id);
  if (named !== undefined) return named.name;
  for (const child of root.processGroups) {
    const found = componentName(child, id);
    if (found !== undefined) return found;
  }
  return undefined;
}
