import type { Connection, FlowFragment, Position, ProcessGroup } from '@sluice/protocol';
import { call } from './api.ts';
import type { EditorContextValue } from './editor-context.ts';
import { findGroup, parentOf } from './flow-model.ts';

// Every change the canvas makes, each recorded on the undo stack with its inverse. Each action
// reloads the flow before it resolves, so the next one sees current revisions.

/** Things the palette can put on the canvas. */
export type NewComponent =
  | { readonly kind: 'processor'; readonly type: string }
  | { readonly kind: 'process-group'; readonly name: string }
  | { readonly kind: 'funnel' }
  | { readonly kind: 'label'; readonly text: string }
  | { readonly kind: 'input-port' | 'output-port'; readonly name: string }
  | { readonly kind: 'remote-process-group'; readonly settings: RemoteGroupSettings };

async function create(groupId: string, spec: NewComponent, position: Position): Promise<string> {
  const params = { id: groupId };
  switch (spec.kind) {
    case 'processor':
      return (await call('createProcessor', { params, body: { type: spec.type, position } })).id;
    case 'process-group':
      return (await call('createGroup', { params, body: { name: spec.name, position } })).id;
    case 'funnel':
      return (await call('createFunnel', { params, body: { position } })).id;
    case 'label':
      return (await call('createLabel', { params, body: { text: spec.text, position, width: 200, height: 60 } })).id;
    case 'input-port':
      return (await call('createInputPort', { params, body: { name: spec.name, position } })).id;
    case 'output-port':
      return (await call('createOutputPort', { params, body: { name: spec.name, position } })).id;
    case 'remote-process-group':
      return (await call('createRemoteProcessGroup', { params, body: { ...spec.settings, position } })).id;
  }
}

/** Connections of a group (all levels) that touch one of `ids`. */
function connectionsTouching(group: ProcessGroup, ids: ReadonlySet<string>): Connection[] {
  return [
    ...group.connections.filter((c) => ids.has(c.source.id) || ids.has(c.destination.id)),
    ...group.processGroups.flatMap((g) => connectionsTouching(g, ids)),
  ];
}

function connectionBody(c: Connection, resolve: (id: string) => string) {
  return {
    source: { id: resolve(c.source.id) },
    destination: { id: resolve(c.destination.id) },
    relationships: c.relationships,
    backPressureObjectThreshold: c.backPressureObjectThreshold,
    backPressureDataSizeThreshold: c.backPressureDataSizeThreshold,
    flowFileExpiration: c.flowFileExpiration,
    prioritizers: c.prioritizers,
    ...(c.name === undefined ? {} : { name: c.name }),
  };
}

/** The actions of the editor, bound to its context. */
export function editorActions(ctx: EditorContextValue) {
  const { aliases, undo } = ctx;
  const item = (id: string) => {
    const current = aliases.resolve(id);
    return { id: current, revision: ctx.revision(current) };
  };
  const groupOf = (id: string) => parentOf(ctx.flow.flow.rootGroup, aliases.resolve(id))?.id ?? ctx.groupId;

  return {
    /** Adds a component at a canvas position. */
    async add(spec: NewComponent, position: Position): Promise<string> {
      const groupId = ctx.groupId;
      const id = await create(groupId, spec, position);
      undo.push({
        label: `add ${spec.kind}`,
        undo: async () => {
          await call('deleteSelection', { body: { items: [item(id)] } });
          await ctx.refresh();
        },
        redo: async () => {
          aliases.alias(id, await create(groupId, spec, position));
          await ctx.refresh();
        },
      });
      await ctx.refresh();
      return id;
    },

    /** Connects two components with the chosen relationships. */
    async connect(sourceId: string, destinationId: string, relationships: string[]): Promise<void> {
      const groupId = ctx.groupId;
      const body = { source: { id: sourceId }, destination: { id: destinationId }, relationships };
      const first = await call('createConnection', { params: { id: groupId }, body });
      undo.push({
        label: 'connect',
        undo: async () => {
          await call('deleteSelection', { body: { items: [item(first.id)] } });
          await ctx.refresh();
        },
        redo: async () => {
          const again = await call('createConnection', {
            params: { id: groupId },
            body: { ...body, source: { id: aliases.resolve(sourceId) }, destination: { id: aliases.resolve(destinationId) } },
          });
          aliases.alias(first.id, again.id);
          await ctx.refresh();
        },
      });
      await ctx.refresh();
    },

    /** Records and stores new positions (after a drag, align or auto-layout). */
    async move(moves: readonly { id: string; from: Position; to: Position }[]): Promise<void> {
      if (moves.length === 0) return;
      const send = async (pick: 'from' | 'to') => {
        await call('moveSelection', { body: { items: moves.map((m) => ({ ...item(m.id), position: m[pick] })) } });
        await ctx.refresh();
      };
      await send('to');
      undo.push({ label: 'move', undo: () => send('from'), redo: () => send('to') });
    },

    /**
     * Deletes a selection. Undo pastes a copy taken just before (with new ids) and re-creates the
     * connections to components outside the selection.
     */
    async remove(ids: readonly string[]): Promise<void> {
      if (ids.length === 0) return;
      const root = ctx.flow.flow.rootGroup;
      const groupId = groupOf(ids[0] ?? '');
      const group = findGroup(root, groupId) ?? root;
      // The ends that go: the selected components, and the ports of selected process groups and
      // Remote Process Groups (connections in this group reach those ports, not the group).
      // Those inside a selected group's own content travel in the copy of the group.
      const selected = new Set(ids);
      for (const id of ids) {
        const holder = group.processGroups.find((g) => g.id === id) ?? group.remoteProcessGroups?.find((r) => r.id === id);
        for (const port of [...(holder?.inputPorts ?? []), ...(holder?.outputPorts ?? [])]) selected.add(port.id);
      }
      // Components: everything but connections; connections of deleted components go with them.
      const components = ids.filter((id) => !group.connections.some((c) => c.id === id));
      const touching = [
        ...connectionsTouching(group, new Set(ids)),
        ...group.connections.filter((c) => !ids.includes(c.source.id) && !ids.includes(c.destination.id)),
      ].filter((c, i, all) => all.indexOf(c) === i && (selected.has(c.source.id) || selected.has(c.destination.id)));
      const outside = touching.filter((c) => !(selected.has(c.source.id) && selected.has(c.destination.id)));
      const fragment = components.length > 0 ? await call('copySelection', { body: { componentIds: components } }) : undefined;
      const lone = group.connections.filter(
        (c) => selected.has(c.id) && !(selected.has(c.source.id) && selected.has(c.destination.id)),
      );
      const restoreConnections = [...outside, ...lone.filter((c) => !outside.includes(c))];
      const doDelete = async (list: readonly string[]) => {
        await call('deleteSelection', { body: { items: list.map(item) } });
        await ctx.refresh();
      };
      await doDelete(ids);
      undo.push({
        label: 'delete',
        undo: async () => {
          if (fragment !== undefined) {
            const pasted = await call('paste', { params: { id: groupId }, body: { fragment, offset: { x: 0, y: 0 } } });
            for (const [from, to] of Object.entries(pasted.idMap)) aliases.alias(from, to);
          }
          for (const c of restoreConnections) {
            const again = await call('createConnection', {
              params: { id: groupOf(c.source.id) },
              body: connectionBody(c, (id) => aliases.resolve(id)),
            });
            aliases.alias(c.id, again.id);
          }
          await ctx.refresh();
        },
        redo: () => doDelete(ids),
      });
    },

    /** Updates a processor; `previous` holds the old values of the changed fields (for undo). */
    async updateProcessor(id: string, changes: ProcessorChanges, previous: ProcessorChanges): Promise<void> {
      const send = async (component: ProcessorChanges) => {
        await call('updateProcessor', { params: { id: aliases.resolve(id) }, body: { revision: item(id).revision, component } });
        await ctx.refresh();
      };
      await send(changes);
      undo.push({ label: 'configure', undo: () => send(previous), redo: () => send(changes) });
    },

    async updateConnection(id: string, changes: ConnectionChanges, previous: ConnectionChanges): Promise<void> {
      const send = async (component: ConnectionChanges) => {
        await call('updateConnection', { params: { id: aliases.resolve(id) }, body: { revision: item(id).revision, component } });
        await ctx.refresh();
      };
      await send(changes);
      undo.push({ label: 'configure connection', undo: () => send(previous), redo: () => send(changes) });
    },

    /** Updates a Remote Process Group; `previous` holds the old values of the changed fields. */
    async updateRemoteGroup(id: string, changes: RemoteGroupChanges, previous: RemoteGroupChanges): Promise<void> {
      const send = async (component: RemoteGroupChanges) => {
        await call('updateRemoteProcessGroup', {
          params: { id: aliases.resolve(id) },
          body: { revision: item(id).revision, component },
        });
        await ctx.refresh();
      };
      await send(changes);
      undo.push({ label: 'configure remote process group', undo: () => send(previous), redo: () => send(changes) });
    },

    /** Changes a label's text (undoable). */
    async updateLabelText(id: string, text: string, previous: string): Promise<void> {
      const send = async (value: string) => {
        await call('updateLabel', {
          params: { id: aliases.resolve(id) },
          body: { revision: item(id).revision, component: { text: value } },
        });
        await ctx.refresh();
      };
      await send(text);
      undo.push({ label: 'edit label', undo: () => send(previous), redo: () => send(text) });
    },

    /** Starts or stops components; returns the failures (id, name, reason). */
    async setRunState(ids: readonly string[], state: 'RUNNING' | 'STOPPED') {
      const result = await call('setSelectionRunStatus', { body: { componentIds: ids.map((i) => aliases.resolve(i)), state } });
      await ctx.refresh();
      return result.failures;
    },

    async setGroupRunState(groupId: string, state: 'RUNNING' | 'STOPPED') {
      await call('setGroupRunStatus', { params: { id: groupId }, body: { state } });
      await ctx.refresh();
    },

    /** Pastes components (server-side copy) next to the originals. */
    async paste(ids: readonly string[]): Promise<void> {
      const groupId = ctx.groupId;
      const result = await call('paste', {
        params: { id: groupId },
        body: { componentIds: ids.map((i) => aliases.resolve(i)), offset: { x: 40, y: 40 } },
      });
      const created = result.created.map((c) => c.id);
      undo.push({
        label: 'paste',
        undo: async () => {
          await call('deleteSelection', { body: { items: created.map(item) } });
          await ctx.refresh();
        },
        redo: async () => {
          const again = await call('paste', {
            params: { id: groupId },
            body: { componentIds: ids.map((i) => aliases.resolve(i)), offset: { x: 40, y: 40 } },
          });
          for (const c of result.created) {
            const old = Object.entries(result.idMap).find(([, to]) => to === c.id)?.[0];
            const next = old === undefined ? undefined : again.idMap[old];
            if (next !== undefined) aliases.alias(c.id, next);
          }
          await ctx.refresh();
        },
      });
      await ctx.refresh();
    },

    /** Pastes a fragment (a saved snippet) into the current group, moved by `offset`. */
    async pasteFragment(fragment: FlowFragment, offset: Position): Promise<void> {
      const groupId = ctx.groupId;
      const first = await call('paste', { params: { id: groupId }, body: { fragment, offset } });
      const created = first.created.map((c) => c.id);
      undo.push({
        label: 'paste snippet',
        undo: async () => {
          await call('deleteSelection', { body: { items: created.map(item) } });
          await ctx.refresh();
        },
        redo: async () => {
          const again = await call('paste', { params: { id: groupId }, body: { fragment, offset } });
          for (const [old, id] of Object.entries(first.idMap)) {
            const next = again.idMap[old];
            if (next !== undefined) aliases.alias(id, next);
          }
          await ctx.refresh();
        },
      });
      await ctx.refresh();
    },

    /** Moves a selection into a new process group placed where the selection was. */
    async groupSelection(ids: readonly string[], name: string, position: Position): Promise<void> {
      const parent = ctx.groupId;
      const created = await call('createGroup', { params: { id: parent }, body: { name, position } });
      await call('moveSelection', { body: { items: ids.map(item), groupId: created.id } });
      await ctx.refresh();
      undo.push({
        label: 'group',
        undo: async () => {
          await call('moveSelection', { body: { items: ids.map(item), groupId: parent } });
          await call('deleteSelection', { body: { items: [item(created.id)] } });
          await ctx.refresh();
        },
        redo: async () => {
          const again = await call('createGroup', { params: { id: parent }, body: { name, position } });
          aliases.alias(created.id, again.id);
          await call('moveSelection', { body: { items: ids.map(item), groupId: again.id } });
          await ctx.refresh();
        },
      });
    },
  };
}

export type EditorActions = ReturnType<typeof editorActions>;

/** The fields of a processor update (the protocol's `processorChangesSchema`). */
export type ProcessorChanges = NonNullable<Parameters<typeof call<'updateProcessor'>>[1]>['body'] extends infer B
  ? B extends { component: infer C }
    ? C
    : never
  : never;
export type ConnectionChanges = NonNullable<Parameters<typeof call<'updateConnection'>>[1]>['body'] extends infer B
  ? B extends { component: infer C }
    ? C
    : never
  : never;

/** What a new Remote Process Group is created with (the protocol's create body, without position). */
export type RemoteGroupSettings = Omit<
  NonNullable<Parameters<typeof call<'createRemoteProcessGroup'>>[1]>['body'] & object,
  'position'
>;
export type RemoteGroupChanges = NonNullable<Parameters<typeof call<'updateRemoteProcessGroup'>>[1]>['body'] extends infer B
  ? B extends { component: infer C }
    ? C
    : never
  : never;
