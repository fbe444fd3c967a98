import { type FlowDocument, parseFlowDocument } from '@sluice/engine';
import { type FlowFragment, flowFragmentSchema, routes, SENSITIVE_VALUE_SET } from '@sluice/protocol';
import { indexFlow } from '../flow/document.ts';
import { copyFragment, deleteComponents, groupIn, moveComponents, pasteFragment } from '../flow/edits.ts';
import { asNewGroup, exportDocument, mapImport } from '../flow/import.ts';
import { mask, strip } from '../flow/sensitive.ts';
import { ApiError, notFound } from '../http/errors.ts';
import { bind } from '../http/router.ts';
import { SensitiveCipher } from '../security/sensitive-cipher.ts';
import type { ServerContext } from '../server-context.ts';

/** The flow as a whole: read, export/import, versions, and selections (move, delete, copy, paste). */
export function flowRoutes(context: ServerContext) {
  const { flows, engine, registry } = context;

  /** Sensitive values of a client-supplied fragment cannot be trusted or kept: they are cleared. */
  const clearMarkers = (fragment: FlowFragment): FlowFragment => {
    const holder = {
      sluiceFlow: 1 as const,
      parameterContexts: [],
      rootGroup: { id: 'fragment', name: 'fragment', ...fragment },
    };
    const cleared = flows.policy.map(holder, (value) =>
      value === SENSITIVE_VALUE_SET || SensitiveCipher.isEncrypted(value) ? null : value,
    );
    const { id: _id, name: _name, ...content } = cleared.rootGroup;
    return flowFragmentSchema.parse(content);
  };

  return {
    getFlow: bind(routes.getFlow, () => flows.snapshot()),
    exportFlow: bind(routes.exportFlow, ({ query, res }) => {
      const document = exportDocument(flows.document, query.groupId);
      if (document === undefined) throw notFound(`process group "${query.groupId ?? ''}"`);
      const name = (query.groupId === undefined ? 'flow' : document.rootGroup.name).replace(/[^A-Za-z0-9._-]+/g, '-');
      res.setHeader('Content-Disposition', `attachment; filename="${name}.json"`);
      return flows.policy.map(document, strip);
    }),
    importFlow: bind(routes.importFlow, async ({ body, change }) => {
      const mapped = mapImport(body.document, registry, flows.policy, body.keepRunStates);
      const issues = [...mapped.issues];
      if (body.mode === 'replace') {
        const version = await flows.mutateThen(
          change,
          'imported a flow (replacing the flow)',
          (draft) => {
            if (mapped.document.name === undefined) delete draft.name;
            else draft.name = mapped.document.name;
            draft.parameterContexts = mapped.document.parameterContexts;
            draft.rootGroup = mapped.document.rootGroup;
          },
          () => flows.version,
          { bumpAll: true },
        );
        return { version, groupId: mapped.document.rootGroup.id, imported: mapped.counts, issues };
      }
      const groupId = body.groupId ?? flows.document.rootGroup.id;
      flows.locate(groupId, ['process-group']);
      const { group, contexts } = asNewGroup(mapped.document, flows.document, issues);
      if (body.position !== undefined) group.position = body.position;
      const version = await flows.mutateThen(
        change,
        `imported "${group.name}" as a process group`,
        (draft) => {
          draft.parameterContexts.push(...contexts);
          groupIn(draft, groupId).processGroups.push(group);
        },
        () => flows.version,
      );
      return {
        version,
        groupId: group.id,
        imported: { ...mapped.counts, processGroups: mapped.counts.processGroups + 1, parameterContexts: contexts.length },
        issues,
      };
    }),
    listVersions: bind(routes.listVersions, async () => ({ current: flows.version, versions: await flows.store.versions() })),
    getVersion: bind(routes.getVersion, async ({ params }) => {
      const stored = await flows.store.version(params.version);
      if (stored === undefined) throw notFound(`version ${params.version} (only the last 20 are kept)`);
      const document = parseFlowDocument(stored.flow);
      return {
        version: stored.version,
        savedAt: stored.savedAt,
        savedBy: stored.savedBy,
        summary: stored.summary,
        flow: flows.policy.map(document, mask),
      };
    }),
    restoreVersion: bind(routes.restoreVersion, async ({ params, change }) => {
      const stored = await flows.store.version(params.version);
      if (stored === undefined) throw notFound(`version ${params.version} (only the last 20 are kept)`);
      const restored = flows.decryptStored(parseFlowDocument(stored.flow));
      const version = await flows.mutateThen(
        change,
        `restored version ${params.version}`,
        (draft) => {
          keepRunStates(restored, draft);
          if (restored.name === undefined) delete draft.name;
          else draft.name = restored.name;
          draft.parameterContexts = restored.parameterContexts;
          draft.rootGroup = restored.rootGroup;
        },
        () => flows.version,
        { bumpAll: true },
      );
      return { version, restoredFrom: params.version };
    }),
    moveSelection: bind(routes.moveSelection, ({ body, change }) =>
      flows.mutateThen(
        change,
        body.groupId === undefined
          ? `moved ${body.items.length} component(s)`
          : `moved ${body.items.length} component(s) into ${body.groupId}`,
        (draft) => moveComponents(draft, body.items, body.groupId),
        () => ({
          version: flows.version,
          revisions: Object.fromEntries(body.items.map((i) => [i.id, flows.revision(i.id)])),
          deleted: [],
        }),
        { expect: body.items },
      ),
    ),
    deleteSelection: bind(routes.deleteSelection, ({ body, change }) =>
      flows.mutateThen(
        change,
        `deleted ${body.items.length} component(s)`,
        (draft) =>
          deleteComponents(
            draft,
            body.items.map((i) => i.id),
            engine,
          ),
        (deleted) => ({ version: flows.version, revisions: {}, deleted }),
        { expect: body.items },
      ),
    ),
    copySelection: bind(routes.copySelection, ({ body }) => {
      const fragment = copyFragment(flows.document, body.componentIds);
      const holder: FlowDocument = { sluiceFlow: 1, parameterContexts: [], rootGroup: { id: 'copy', name: 'copy', ...fragment } };
      const { id: _id, name: _name, ...masked } = flows.policy.map(holder, mask).rootGroup;
      return masked;
    }),
    paste: bind(routes.paste, ({ params, body, change }) => {
      flows.locate(params.id, ['process-group']);
      const fragment = body.componentIds === undefined ? clearMarkers(body.fragment ?? flowFragmentSchema.parse({})) : undefined;
      return flows.mutateThen(
        change,
        'pasted components',
        (draft) => {
          const source = fragment ?? copyFragment(draft, body.componentIds ?? []);
          if (
            body.componentIds !== undefined &&
            source.processors.length +
              source.processGroups.length +
              source.funnels.length +
              source.labels.length +
              source.inputPorts.length +
              source.outputPorts.length +
              source.controllerServices.length ===
              0
          )
            throw new ApiError(400, 'nothing to paste: a selection of connections alone cannot be pasted');
          return pasteFragment(groupIn(draft, params.id), source, body.offset ?? { x: 25, y: 25 });
        },
        (idMap) => {
          const created = [...idMap.values()].flatMap((id) => {
            const located = indexFlow(flows.document).get(id);
            return located === undefined ? [] : [flows.entity(id)];
          });
          return { version: flows.version, idMap: Object.fromEntries(idMap), created };
        },
      );
    }),
  };
}

/** Components of the restored document keep the run state they have now; those not running now come back stopped. */
function keepRunStates(restored: FlowDocument, current: FlowDocument): void {
  const now = indexFlow(current);
  for (const located of indexFlow(restored).values()) {
    const present = now.get(located.entry.id);
    if (located.kind === 'processor' || located.kind === 'input-port' || located.kind === 'output-port') {
      const state = present?.kind === located.kind ? present.entry.state : undefined;
      located.entry.state = state ?? (located.entry.state === 'RUNNING' ? 'STOPPED' : located.entry.state);
    }
    if (located.kind === 'controller-service') {
      located.entry.state = present?.kind === 'controller-service' ? present.entry.state : 'DISABLED';
    }
  }
}
