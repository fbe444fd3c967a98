import type { AnyProcessorDefinition, AnyServiceDefinition, PropertyDescriptor } from '@sluice/api';
import { relationshipDescription } from '@sluice/api';
import type { ComponentStatus, ConnectionStatus, Engine, LineageGraph, ProvenanceEventRecord } from '@sluice/engine';
import type {
  ComponentStatusDto,
  ConnectionStatusDto,
  ProcessorTypeDto,
  PropertyDescriptorDto,
  ProvenanceEventDto,
  ServiceStatusDto,
  ServiceTypeDto,
  StatusSnapshot,
} from '@sluice/protocol';

// Engine objects -> wire DTOs. Nothing here reads a request; everything here shapes a response.

function property(name: string, d: PropertyDescriptor): PropertyDescriptorDto {
  return {
    name,
    displayName: d.displayName ?? name,
    description: d.description,
    kind: d.kind,
    required: d.required,
    ...(d.default === undefined ? {} : { default: d.default }),
    ...(d.allowableValues === undefined
      ? {}
      : {
          allowableValues: d.allowableValues.map((a) => ({
            value: a.value,
            displayName: a.displayName,
            ...(a.description === undefined ? {} : { description: a.description }),
          })),
        }),
    sensitive: d.sensitive,
    expression: d.expression,
    ...(d.min === undefined ? {} : { min: d.min }),
    ...(d.max === undefined ? {} : { max: d.max }),
    ...(d.service === undefined ? {} : { service: d.service }),
    ...(d.dependsOn === undefined ? {} : { dependsOn: { property: d.dependsOn.property, values: [...d.dependsOn.values] } }),
  };
}

/** A processor type with everything the editor renders its form from. */
export function processorTypeDto(d: AnyProcessorDefinition): ProcessorTypeDto {
  const dynamic = d.dynamicProperties;
  return {
    type: d.type,
    description: d.description,
    tags: [...d.tags],
    input: d.input,
    properties: Object.entries(d.properties).map(([name, descriptor]) => property(name, descriptor)),
    ...(dynamic === undefined
      ? {}
      : {
          dynamicProperties: {
            description: dynamic.description,
            ...(dynamic.valueIs === undefined ? {} : { valueIs: dynamic.valueIs }),
            ...(dynamic.expression === undefined ? {} : { expression: dynamic.expression }),
            createsRelationship:
              typeof dynamic.createsRelationship === 'object'
                ? {
                    dependsOn: {
                      property: dynamic.createsRelationship.dependsOn.property,
                      values: [...dynamic.createsRelationship.dependsOn.values],
                    },
                  }
                : dynamic.createsRelationship === true,
            sensitive: dynamic.sensitive === true,
          },
        }),
    relationships: Object.entries(d.relationships).map(([name, spec]) => ({
      name,
      description: relationshipDescription(spec),
      ...(typeof spec === 'string'
        ? {}
        : { dependsOn: { property: spec.dependsOn.property, values: [...spec.dependsOn.values] } }),
    })),
    readsAttributes: Object.entries(d.readsAttributes ?? {}).map(([name, description]) => ({ name, description })),
    writesAttributes: Object.entries(d.writesAttributes ?? {}).map(([name, description]) => ({ name, description })),
    ...(d.defaultSchedule === undefined ? {} : { defaultSchedule: { ...d.defaultSchedule } }),
    triggerSerially: d.triggerSerially === true,
    supportsBatching: d.supportsBatching === true,
    ...(d.restricted === undefined ? {} : { restricted: d.restricted }),
    seeAlso: [...(d.seeAlso ?? [])],
  };
}

/** A controller service type with its property descriptors. */
export function serviceTypeDto(d: AnyServiceDefinition): ServiceTypeDto {
  return {
    type: d.type,
    description: d.description,
    tags: [...d.tags],
    provides: [...d.provides],
    properties: Object.entries(d.properties).map(([name, descriptor]) => property(name, descriptor)),
    ...(d.restricted === undefined ? {} : { restricted: d.restricted }),
  };
}

export function componentStatusDto(s: ComponentStatus): ComponentStatusDto {
  return {
    id: s.id,
    name: s.name,
    type: s.type,
    kind: s.kind,
    groupId: s.groupId,
    runState: s.runState,
    validationErrors: [...s.validationErrors],
    activeTasks: s.activeTasks,
    input: { count: s.input.count, bytes: s.input.bytes },
    output: { count: s.output.count, bytes: s.output.bytes },
    readBytes: s.readBytes,
    writtenBytes: s.writtenBytes,
    tasks: s.tasks,
    taskTimeMs: Math.round(s.taskTimeMs * 1000) / 1000,
    counters: { ...s.counters },
  };
}

export function connectionStatusDto(s: ConnectionStatus): ConnectionStatusDto {
  return {
    id: s.id,
    name: s.name,
    groupId: s.groupId,
    sourceId: s.sourceId,
    destinationId: s.destinationId,
    queued: { count: s.queued.count, bytes: s.queued.bytes },
    thresholds: { count: s.thresholds.count, bytes: s.thresholds.bytes },
    fill: { count: s.fill.count, bytes: s.fill.bytes },
    full: s.full,
    swappedCount: s.swappedCount,
    inFlightCount: s.inFlightCount,
    penalizedCount: s.penalizedCount,
    input: { count: s.input.count, bytes: s.input.bytes },
    output: { count: s.output.count, bytes: s.output.bytes },
  };
}

/** Status of everything the engine runs, as clients see it. */
export function statusSnapshot(engine: Engine): StatusSnapshot {
  const status = engine.status();
  const services: ServiceStatusDto[] = [...engine.services()].map((s) => ({
    id: s.id,
    name: s.name,
    type: s.type.type,
    groupId: s.groupId,
    state: s.enabled ? 'ENABLED' : 'DISABLED',
    validationErrors: [...s.validationErrors],
    lastError: s.lastError ?? null,
  }));
  return {
    time: status.time,
    components: status.components.map(componentStatusDto),
    connections: status.connections.map(connectionStatusDto),
    services,
  };
}

const record = (map: ReadonlyMap<string, string>): Record<string, string> => Object.fromEntries(map);

/** The summary row of an event (search results). */
export function eventSummaryDto(e: ProvenanceEventRecord) {
  return {
    eventId: e.eventId,
    eventType: e.eventType,
    eventTime: e.eventTime,
    eventDurationMs: e.eventDurationMs,
    flowFileUuid: e.flowFileUuid,
    fileSize: e.fileSize,
    componentId: e.componentId,
    componentType: e.componentType,
    componentName: e.componentName,
    relationship: e.relationship,
    details: e.details,
    filename: e.attributes.get('filename') ?? null,
  };
}

/** An event with its attributes, content availability and whether it can be replayed. */
export function eventDto(e: ProvenanceEventRecord, engine: Engine): ProvenanceEventDto {
  const updated: string[] = [];
  for (const [name, value] of e.attributes) if (e.previousAttributes.get(name) !== value) updated.push(name);
  for (const name of e.previousAttributes.keys()) if (!e.attributes.has(name)) updated.push(name);
  const input = e.previousContentClaim;
  const output = e.contentClaim;
  const inputAvailable = input !== null && engine.content.isAvailable(input);
  let replayExplanation: string | null = null;
  if (e.sourceQueueId === null) replayExplanation = 'its FlowFile did not come from a queue';
  else if (engine.connection(e.sourceQueueId) === undefined)
    replayExplanation = `the connection it came from (${e.sourceQueueId}) is no longer in the flow`;
  else if (input !== null && !inputAvailable) replayExplanation = 'its input content is no longer retained';
  return {
    ...eventSummaryDto(e),
    previousFileSize: e.previousFileSize,
    lineageStartDate: e.lineageStartDate,
    flowFileEntryDate: e.flowFileEntryDate,
    transitUri: e.transitUri,
    sourceSystemFlowFileId: e.sourceSystemFlowFileId,
    alternateIdentifierUri: e.alternateIdentifierUri,
    sourceQueueId: e.sourceQueueId,
    parentUuids: [...e.parentUuids],
    childUuids: [...e.childUuids],
    attributes: record(e.attributes),
    previousAttributes: record(e.previousAttributes),
    updatedAttributes: updated,
    inputContent: input === null ? null : { size: input.length, available: inputAvailable },
    outputContent: output === null ? null : { size: output.length, available: engine.content.isAvailable(output) },
    replayable: replayExplanation === null,
    replayExplanation,
  };
}

/** A lineage graph as plain JSON. */
export function lineageDto(graph: LineageGraph) {
  return {
    nodes: graph.nodes.map((n) =>
      n.kind === 'flowfile'
        ? { kind: n.kind, id: n.id, uuid: n.uuid }
        : {
            kind: n.kind,
            id: n.id,
            eventId: n.eventId,
            eventType: n.eventType,
            eventTime: n.eventTime,
            flowFileUuid: n.flowFileUuid,
            componentId: n.componentId,
            componentName: n.componentName,
            parentUuids: [...n.parentUuids],
            childUuids: [...n.childUuids],
          },
    ),
    links: graph.links.map((l) => ({ source: l.source, target: l.target })),
    truncated: graph.truncated,
  };
}
