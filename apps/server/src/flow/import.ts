import { activeRelationships } from '@sluice/api';
import {
  type ExtensionRegistry,
  type FlowDocument,
  FlowValidationError,
  type ParameterContextDefinition,
  type ProcessGroupDefinition,
  parseFlowDocument,
  uuidv7,
} from '@sluice/engine';
import { type ImportIssue, type ImportResult, SENSITIVE_VALUE_SET } from '@sluice/protocol';
import { ApiError, flowRefused } from '../http/errors.ts';
import { SensitiveCipher } from '../security/sensitive-cipher.ts';
import { indexFlow } from './document.ts';
import { reassignIds, stopEverything } from './edits.ts';
import type { SensitivePolicy } from './sensitive.ts';

/** A document mapped onto what this server can run, with the report of what did not fit. */
export interface MappedImport {
  readonly document: FlowDocument;
  readonly issues: ImportIssue[];
  readonly counts: ImportResult['imported'];
}

/**
 * Parses an imported flow document and maps it onto the registered types: components of unknown
 * types are left out (with their connections), undeclared properties and relationships are dropped,
 * sensitive values that cannot be carried over are cleared, and unless `keepRunStates` everything
 * comes in stopped. Each such change is an issue of the report.
 * @throws {ApiError} 400 when the document is not a flow document at all (every shape problem listed).
 */
export function mapImport(
  input: unknown,
  registry: ExtensionRegistry,
  policy: SensitivePolicy,
  keepRunStates: boolean,
): MappedImport {
  let document: FlowDocument;
  try {
    document = parseFlowDocument(input);
  } catch (e) {
    if (e instanceof FlowValidationError) {
      const refused = flowRefused(e);
      throw new ApiError(
        400,
        `not a flow document Sluice can read: ${refused.details[0]?.path ?? ''}: ${refused.details[0]?.message ?? ''}`,
        refused.details.map((d) => ({ ...d, path: `document.${d.path}` })),
      );
    }
    throw e;
  }
  const issues: ImportIssue[] = [];
  const counts = {
    processors: 0,
    connections: 0,
    ports: 0,
    funnels: 0,
    labels: 0,
    controllerServices: 0,
    processGroups: 0,
    parameterContexts: document.parameterContexts.length,
  };
  const contextIds = new Set(document.parameterContexts.map((c) => c.id));
  for (const context of document.parameterContexts) {
    context.inherits = context.inherits.filter((parent) => {
      if (contextIds.has(parent)) return true;
      issues.push({
        path: `parameterContexts.${context.id}.inherits`,
        componentId: context.id,
        componentName: context.name,
        message: `inherits parameter context "${parent}", which is not in the document; left out`,
        action: 'changed',
      });
      return false;
    });
  }

  const visit = (group: ProcessGroupDefinition, path: string): void => {
    counts.processGroups++;
    if (group.parameterContextId !== undefined && !contextIds.has(group.parameterContextId)) {
      issues.push({
        path: `${path}.parameterContextId`,
        componentId: group.id,
        componentName: group.name,
        message: `parameter context "${group.parameterContextId}" is not in the document; the group has none`,
        action: 'changed',
      });
      delete group.parameterContextId;
    }
    const skipped = new Set<string>();
    group.processors = group.processors.filter((p, i) => {
      const where = `${path}.processors[${i}]`;
      const definition = registry.processor(p.type);
      if (definition === undefined) {
        const suggestion = registry.suggestProcessor(p.type);
        issues.push({
          path: `${where}.type`,
          componentId: p.id,
          componentName: p.name,
          message: `unknown processor type "${p.type}"${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}; left out, with its connections`,
          action: 'skipped',
        });
        skipped.add(p.id);
        return false;
      }
      for (const name of Object.keys(p.properties)) {
        if (!Object.hasOwn(definition.properties, name) && definition.dynamicProperties === undefined) {
          issues.push({
            path: `${where}.properties.${name}`,
            componentId: p.id,
            componentName: p.name,
            message: `${p.type} has no property "${name}"; left out`,
            action: 'changed',
          });
          delete p.properties[name];
        }
      }
      const relationships = activeRelationships(definition, p.properties);
      const unknownTerminate = p.autoTerminate.filter((r) => !relationships.has(r));
      if (unknownTerminate.length > 0) {
        issues.push({
          path: `${where}.autoTerminate`,
          componentId: p.id,
          componentName: p.name,
          message: `${p.type} has no relationship ${unknownTerminate.map((r) => `"${r}"`).join(', ')}; left out of auto-terminate`,
          action: 'changed',
        });
        p.autoTerminate = p.autoTerminate.filter((r) => relationships.has(r));
      }
      counts.processors++;
      return true;
    });
    group.controllerServices = group.controllerServices.filter((s, i) => {
      const definition = registry.service(s.type);
      if (definition === undefined) {
        issues.push({
          path: `${path}.controllerServices[${i}].type`,
          componentId: s.id,
          componentName: s.name,
          message: `unknown controller service type "${s.type}"; left out (processors using it become invalid)`,
          action: 'skipped',
        });
        return false;
      }
      counts.controllerServices++;
      return true;
    });
    counts.ports += group.inputPorts.length + group.outputPorts.length;
    counts.funnels += group.funnels.length;
    counts.labels += group.labels.length;
    const processors = new Map(group.processors.map((p) => [p.id, p]));
    group.connections = group.connections.filter((c, i) => {
      const where = `${path}.connections[${i}]`;
      const name = c.name ?? c.id;
      if (skipped.has(c.source.id) || skipped.has(c.destination.id)) {
        issues.push({
          path: where,
          componentId: c.id,
          componentName: name,
          message: 'left out: one of its ends was left out',
          action: 'skipped',
        });
        return false;
      }
      const source = processors.get(c.source.id);
      const definition = source === undefined ? undefined : registry.processor(source.type);
      if (source !== undefined && definition !== undefined) {
        const relationships = activeRelationships(definition, source.properties);
        const unknown = c.relationships.filter((r) => !relationships.has(r));
        if (unknown.length > 0) {
          c.relationships = c.relationships.filter((r) => relationships.has(r));
          if (c.relationships.length === 0) {
            issues.push({
              path: `${where}.relationships`,
              componentId: c.id,
              componentName: name,
              message: `"${source.name}" has no relationship ${unknown.map((r) => `"${r}"`).join(', ')}; the connection is left out`,
              action: 'skipped',
            });
            return false;
          }
          issues.push({
            path: `${where}.relationships`,
            componentId: c.id,
            componentName: name,
            message: `"${source.name}" has no relationship ${unknown.map((r) => `"${r}"`).join(', ')}; left out`,
            action: 'changed',
          });
        }
      }
      counts.connections++;
      return true;
    });
    group.processGroups.forEach((child, i) => {
      visit(child, `${path}.processGroups[${i}]`);
    });
  };
  visit(document.rootGroup, 'rootGroup');
  counts.processGroups--; // the root group itself is not an added group

  policy.mapInPlace(document, (value, place) => {
    if (value === SENSITIVE_VALUE_SET || SensitiveCipher.isEncrypted(value)) {
      issues.push({
        path: place,
        message: 'a sensitive value cannot be imported (exports leave them out); set it again',
        action: 'changed',
      });
      return null;
    }
    return value;
  });
  if (!keepRunStates) {
    let running = 0;
    const count = (g: ProcessGroupDefinition): void => {
      running += g.processors.filter((p) => p.state === 'RUNNING').length;
      running += g.controllerServices.filter((s) => s.state === 'ENABLED').length;
      for (const child of g.processGroups) count(child);
    };
    count(document.rootGroup);
    stopEverything(document.rootGroup);
    if (running > 0) {
      issues.push({
        path: 'rootGroup',
        message: `${running} processors and services marked running or enabled come in stopped/disabled; start them when ready`,
        action: 'changed',
      });
    }
  }
  return { document, issues, counts };
}

/**
 * Fits an imported document into a current flow as a new process group: every id is new, and its
 * parameter contexts are matched to existing ones by name (or added with new ids).
 * Returns the new group and the contexts to add.
 */
export function asNewGroup(
  imported: FlowDocument,
  current: FlowDocument,
  issues: ImportIssue[],
): { group: ProcessGroupDefinition; contexts: ParameterContextDefinition[] } {
  const group = imported.rootGroup;
  const idMap = new Map<string, string>();
  reassignIds(group, idMap);
  const contextMap = new Map<string, string>();
  const contexts: ParameterContextDefinition[] = [];
  for (const context of imported.parameterContexts) {
    const existing = current.parameterContexts.find((c) => c.name === context.name);
    if (existing !== undefined) {
      contextMap.set(context.id, existing.id);
      issues.push({
        path: `parameterContexts.${context.id}`,
        componentId: existing.id,
        componentName: context.name,
        message: `uses the existing parameter context "${context.name}" (same name) instead of importing it`,
        action: 'mapped',
      });
    } else {
      contextMap.set(context.id, uuidv7());
    }
  }
  for (const context of imported.parameterContexts) {
    const id = contextMap.get(context.id);
    if (id === undefined || current.parameterContexts.some((c) => c.id === id)) continue;
    contexts.push({ ...context, id, inherits: context.inherits.map((p) => contextMap.get(p) ?? p) });
  }
  const remapContexts = (g: ProcessGroupDefinition): void => {
    if (g.parameterContextId !== undefined) g.parameterContextId = contextMap.get(g.parameterContextId) ?? g.parameterContextId;
    for (const child of g.processGroups) remapContexts(child);
  };
  remapContexts(group);
  return { group, contexts };
}

/** The document to export: the whole flow, or one group with the parameter contexts it uses. */
export function exportDocument(document: FlowDocument, groupId: string | undefined): FlowDocument | undefined {
  if (groupId === undefined || groupId === document.rootGroup.id) return document;
  const located = indexFlow(document).get(groupId);
  if (located?.kind !== 'process-group') return undefined;
  const group = located.entry;
  const used = new Set<string>();
  const collect = (g: ProcessGroupDefinition): void => {
    if (g.parameterContextId !== undefined) used.add(g.parameterContextId);
    for (const child of g.processGroups) collect(child);
  };
  collect(group);
  // Inherited contexts come along, transitively.
  let grew = true;
  while (grew) {
    grew = false;
    for (const context of document.parameterContexts) {
      if (!used.has(context.id)) continue;
      for (const parent of context.inherits) {
        if (!used.has(parent)) {
          used.add(parent);
          grew = true;
        }
      }
    }
  }
  return {
    sluiceFlow: document.sluiceFlow,
    ...(document.name === undefined ? {} : { name: document.name }),
    parameterContexts: document.parameterContexts.filter((c) => used.has(c.id)),
    rootGroup: group,
  };
}
