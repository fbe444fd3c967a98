import type { ExtensionRegistry, FlowDocument, ProcessGroupDefinition } from '@sluice/engine';
import { SENSITIVE_VALUE_SET } from '@sluice/protocol';
import { cloneDocument } from './document.ts';

/** Where a sensitive value belongs: `processor:<id>/<property>`, `service:<id>/<property>`, `parameter:<context>/<name>`. */
export type SensitivePlace = string;

/** Maps one sensitive value (never called for null). Returning null clears it. */
export type SensitiveMapper = (value: string, place: SensitivePlace) => string | null;

/**
 * Knows which values of a flow are sensitive: properties whose descriptor says `sensitive` (and
 * dynamic properties of processors that declare them sensitive), parameters marked sensitive, and
 * the access tokens of Remote Process Groups.
 * Used to encrypt them at rest, to mask them for clients and to leave them out of exports.
 */
export class SensitivePolicy {
  readonly #registry: ExtensionRegistry;

  constructor(registry: ExtensionRegistry) {
    this.#registry = registry;
  }

  /** Whether a property of a processor type is sensitive. */
  processorProperty(type: string, property: string): boolean {
    const definition = this.#registry.processor(type);
    if (definition === undefined) return false;
    const descriptor = Object.hasOwn(definition.properties, property) ? definition.properties[property] : undefined;
    return descriptor === undefined ? definition.dynamicProperties?.sensitive === true : descriptor.sensitive;
  }

  /** Whether a property of a controller service type is sensitive. */
  serviceProperty(type: string, property: string): boolean {
    const definition = this.#registry.service(type);
    if (definition === undefined) return false;
    return Object.hasOwn(definition.properties, property) ? (definition.properties[property]?.sensitive ?? false) : false;
  }

  /** A copy of the document with every sensitive value mapped. */
  map<T extends FlowDocument>(document: T, mapper: SensitiveMapper): T {
    const copy = cloneDocument(document);
    this.mapInPlace(copy, mapper);
    return copy;
  }

  /** Maps every sensitive value of a document in place. */
  mapInPlace(document: FlowDocument, mapper: SensitiveMapper): void {
    for (const context of document.parameterContexts) {
      for (const parameter of context.parameters) {
        if (parameter.sensitive && parameter.value !== null)
          parameter.value = mapper(parameter.value, `parameter:${context.id}/${parameter.name}`);
      }
    }
    this.mapGroup(document.rootGroup, mapper);
  }

  /** Maps every sensitive value of a group and its subgroups in place. */
  mapGroup(group: ProcessGroupDefinition, mapper: SensitiveMapper): void {
    for (const processor of group.processors) {
      for (const [name, value] of Object.entries(processor.properties)) {
        if (value !== null && this.processorProperty(processor.type, name)) {
          processor.properties[name] = mapper(value, `processor:${processor.id}/${name}`);
        }
      }
    }
    for (const service of group.controllerServices) {
      for (const [name, value] of Object.entries(service.properties)) {
        if (value !== null && this.serviceProperty(service.type, name)) {
          service.properties[name] = mapper(value, `service:${service.id}/${name}`);
        }
      }
    }
    // A Remote Process Group's token is a secret like a sensitive property.
    for (const remote of group.remoteProcessGroups ?? []) {
      if (remote.accessToken === undefined) continue;
      const mapped = mapper(remote.accessToken, `remote-process-group:${remote.id}/accessToken`);
      if (mapped === null) delete remote.accessToken;
      else remote.accessToken = mapped;
    }
    for (const child of group.processGroups) this.mapGroup(child, mapper);
  }
}

/** Replaces each set sensitive value with the marker clients see. */
export const mask: SensitiveMapper = () => SENSITIVE_VALUE_SET;

/** Leaves sensitive values out (exports). */
export const strip: SensitiveMapper = () => null;
