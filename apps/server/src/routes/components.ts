import { type FlowDocument, uuidv7 } from '@sluice/engine';
import { routes } from '@sluice/protocol';
import { indexFlow, type Located } from '../flow/document.ts';
import {
  checkRemotePortsKept,
  deleteComponents,
  groupIn,
  newConnection,
  newGroup,
  newLabel,
  newParameterContext,
  newPort,
  newProcessor,
  newRemoteProcessGroup,
  newService,
  updateConnection,
  updateFunnel,
  updateGroup,
  updateLabel,
  updateParameterContext,
  updatePort,
  updateProcessor,
  updateRemoteProcessGroup,
  updateService,
} from '../flow/edits.ts';
import type { ChangeContext } from '../flow/flow-service.ts';
import { ApiError, notFound } from '../http/errors.ts';
import { bind } from '../http/router.ts';
import type { ServerContext } from '../server-context.ts';

type Kind = Located['kind'];

const LABELS: Record<Kind, string> = {
  processor: 'processor',
  connection: 'connection',
  'input-port': 'input port',
  'output-port': 'output port',
  funnel: 'funnel',
  label: 'label',
  'controller-service': 'controller service',
  'process-group': 'process group',
  'parameter-context': 'parameter context',
  'remote-process-group': 'remote process group',
};

function describe(located: Located): string {
  const entry = located.entry;
  const name =
    'name' in entry && typeof entry.name === 'string' ? entry.name : 'text' in entry ? entry.text.slice(0, 40) : entry.id;
  return `${LABELS[located.kind]} "${name}"`;
}

/** Create, read, update and delete of everything that lives in a process group, and parameter contexts. */
export function componentRoutes(context: ServerContext) {
  const { flows, registry, engine } = context;

  /** Finds a component of a kind in a draft. @throws {ApiError} 404 */
  function find<K extends Kind>(draft: FlowDocument, id: string, kind: K): Extract<Located, { kind: K }> {
    const located = indexFlow(draft).get(id);
    if (located === undefined || !isLocatedKind(located, kind)) throw notFound(`${LABELS[kind]} "${id}"`);
    return located;
  }

  /** Applies `edit` to one component, based on the revision the client saw. */
  function update<K extends Kind>(
    change: ChangeContext,
    id: string,
    kind: K,
    revision: number,
    edit: (located: Extract<Located, { kind: K }>) => void,
  ) {
    const current = flows.locate(id, [kind]);
    return flows.mutateThen(
      change,
      `updated ${describe(current)}`,
      (draft) => edit(find(draft, id, kind)),
      () => flows.typed(id, kind),
      { expect: [{ id, revision }] },
    );
  }

  /** Deletes one component (and its connections), based on the revision the client saw. */
  async function remove(change: ChangeContext, id: string, kind: Kind, revision: number): Promise<undefined> {
    const current = flows.locate(id, [kind]);
    await flows.mutate(change, `deleted ${describe(current)}`, (draft) => deleteComponents(draft, [id], engine), {
      expect: [{ id, revision }],
    });
    return undefined;
  }

  /** Adds a new component to a group and returns its entity. */
  function create<K extends Kind>(
    change: ChangeContext,
    groupId: string,
    kind: K,
    id: string,
    summary: string,
    add: (group: ReturnType<typeof groupIn>) => void,
  ) {
    flows.locate(groupId, ['process-group']);
    return flows.mutateThen(
      change,
      summary,
      (draft) => add(groupIn(draft, groupId)),
      () => flows.typed(id, kind),
    );
  }

  return {
    // ---- process groups ----
    getGroup: bind(routes.getGroup, ({ params }) => flows.typed(params.id, 'process-group')),
    createGroup: bind(routes.createGroup, ({ params, body, change }) => {
      if (body.parameterContextId !== undefined) flows.locate(body.parameterContextId, ['parameter-context']);
      const entry = newGroup(body);
      return create(change, params.id, 'process-group', entry.id, `added process group "${entry.name}"`, (g) => {
        g.processGroups.push(entry);
      });
    }),
    updateGroup: bind(routes.updateGroup, ({ params, body, change }) =>
      update(change, params.id, 'process-group', body.revision, (l) => updateGroup(l.entry, body.component)),
    ),
    deleteGroup: bind(routes.deleteGroup, ({ params, query, change }) => {
      if (params.id === flows.document.rootGroup.id) throw new ApiError(400, 'the root process group cannot be deleted');
      return remove(change, params.id, 'process-group', query.revision);
    }),

    // ---- processors ----
    createProcessor: bind(routes.createProcessor, ({ params, body, change }) => {
      const entry = newProcessor(registry, body);
      return create(change, params.id, 'processor', entry.id, `added processor "${entry.name}" (${entry.type})`, (g) => {
        g.processors.push(entry);
      });
    }),
    getProcessor: bind(routes.getProcessor, ({ params }) => flows.typed(params.id, 'processor')),
    updateProcessor: bind(routes.updateProcessor, ({ params, body, change }) =>
      update(change, params.id, 'processor', body.revision, (l) => updateProcessor(l.entry, body.component)),
    ),
    deleteProcessor: bind(routes.deleteProcessor, ({ params, query, change }) =>
      remove(change, params.id, 'processor', query.revision),
    ),

    // ---- connections ----
    createConnection: bind(routes.createConnection, ({ params, body, change }) => {
      const entry = newConnection(body);
      return create(
        change,
        params.id,
        'connection',
        entry.id,
        `added connection ${entry.source.id} -> ${entry.destination.id}`,
        (g) => {
          g.connections.push(entry);
        },
      );
    }),
    getConnection: bind(routes.getConnection, ({ params }) => flows.typed(params.id, 'connection')),
    updateConnection: bind(routes.updateConnection, ({ params, body, change }) =>
      update(change, params.id, 'connection', body.revision, (l) => updateConnection(l.entry, body.component)),
    ),
    deleteConnection: bind(routes.deleteConnection, ({ params, query, change }) =>
      remove(change, params.id, 'connection', query.revision),
    ),

    // ---- ports ----
    createInputPort: bind(routes.createInputPort, ({ params, body, change }) => {
      const entry = newPort(body);
      return create(change, params.id, 'input-port', entry.id, `added input port "${entry.name}"`, (g) => {
        g.inputPorts.push(entry);
      });
    }),
    getInputPort: bind(routes.getInputPort, ({ params }) => flows.typed(params.id, 'input-port')),
    updateInputPort: bind(routes.updateInputPort, ({ params, body, change }) =>
      update(change, params.id, 'input-port', body.revision, (l) => updatePort(l.entry, body.component)),
    ),
    deleteInputPort: bind(routes.deleteInputPort, ({ params, query, change }) =>
      remove(change, params.id, 'input-port', query.revision),
    ),
    createOutputPort: bind(routes.createOutputPort, ({ params, body, change }) => {
      const entry = newPort(body);
      return create(change, params.id, 'output-port', entry.id, `added output port "${entry.name}"`, (g) => {
        g.outputPorts.push(entry);
      });
    }),
    getOutputPort: bind(routes.getOutputPort, ({ params }) => flows.typed(params.id, 'output-port')),
    updateOutputPort: bind(routes.updateOutputPort, ({ params, body, change }) =>
      update(change, params.id, 'output-port', body.revision, (l) => updatePort(l.entry, body.component)),
    ),
    deleteOutputPort: bind(routes.deleteOutputPort, ({ params, query, change }) =>
      remove(change, params.id, 'output-port', query.revision),
    ),

    // ---- funnels and labels ----
    createFunnel: bind(routes.createFunnel, ({ params, body, change }) => {
      const entry = { id: uuidv7(), ...(body.position === undefined ? {} : { position: body.position }) };
      return create(change, params.id, 'funnel', entry.id, 'added a funnel', (g) => {
        g.funnels.push(entry);
      });
    }),
    getFunnel: bind(routes.getFunnel, ({ params }) => flows.typed(params.id, 'funnel')),
    updateFunnel: bind(routes.updateFunnel, ({ params, body, change }) =>
      update(change, params.id, 'funnel', body.revision, (l) => updateFunnel(l.entry, body.component)),
    ),
    deleteFunnel: bind(routes.deleteFunnel, ({ params, query, change }) => remove(change, params.id, 'funnel', query.revision)),
    createLabel: bind(routes.createLabel, ({ params, body, change }) => {
      const entry = newLabel(body);
      return create(change, params.id, 'label', entry.id, 'added a label', (g) => {
        g.labels.push(entry);
      });
    }),
    getLabel: bind(routes.getLabel, ({ params }) => flows.typed(params.id, 'label')),
    updateLabel: bind(routes.updateLabel, ({ params, body, change }) =>
      update(change, params.id, 'label', body.revision, (l) => updateLabel(l.entry, body.component)),
    ),
    deleteLabel: bind(routes.deleteLabel, ({ params, query, change }) => remove(change, params.id, 'label', query.revision)),

    // ---- remote process groups ----
    createRemoteProcessGroup: bind(routes.createRemoteProcessGroup, ({ params, body, change }) => {
      const entry = newRemoteProcessGroup(body);
      return create(change, params.id, 'remote-process-group', entry.id, `added remote process group "${entry.name}"`, (g) => {
        g.remoteProcessGroups = [...(g.remoteProcessGroups ?? []), entry];
      });
    }),
    getRemoteProcessGroup: bind(routes.getRemoteProcessGroup, ({ params }) => flows.typed(params.id, 'remote-process-group')),
    updateRemoteProcessGroup: bind(routes.updateRemoteProcessGroup, ({ params, body, change }) =>
      update(change, params.id, 'remote-process-group', body.revision, (l) => {
        const before = structuredClone(l.entry);
        updateRemoteProcessGroup(l.entry, body.component);
        checkRemotePortsKept(l.parent, before, l.entry);
      }),
    ),
    deleteRemoteProcessGroup: bind(routes.deleteRemoteProcessGroup, ({ params, query, change }) =>
      remove(change, params.id, 'remote-process-group', query.revision),
    ),

    // ---- controller services ----
    createService: bind(routes.createService, ({ params, body, change }) => {
      const entry = newService(registry, body);
      return create(
        change,
        params.id,
        'controller-service',
        entry.id,
        `added controller service "${entry.name}" (${entry.type})`,
        (g) => {
          g.controllerServices.push(entry);
        },
      );
    }),
    getService: bind(routes.getService, ({ params }) => flows.typed(params.id, 'controller-service')),
    updateService: bind(routes.updateService, ({ params, body, change }) =>
      update(change, params.id, 'controller-service', body.revision, (l) => {
        if (l.entry.state === 'ENABLED' && body.component.properties !== undefined) {
          throw new ApiError(409, `"${l.entry.name}" is enabled; disable it before changing its properties`);
        }
        updateService(l.entry, body.component);
      }),
    ),
    deleteService: bind(routes.deleteService, ({ params, query, change }) =>
      remove(change, params.id, 'controller-service', query.revision),
    ),

    // ---- parameter contexts ----
    listParameterContexts: bind(routes.listParameterContexts, () => ({
      parameterContexts: flows.document.parameterContexts.map((c) => flows.typed(c.id, 'parameter-context')),
    })),
    createParameterContext: bind(routes.createParameterContext, ({ body, change }) => {
      const entry = newParameterContext(body);
      return flows.mutateThen(
        change,
        `added parameter context "${entry.name}"`,
        (draft) => {
          draft.parameterContexts.push(entry);
        },
        () => flows.typed(entry.id, 'parameter-context'),
      );
    }),
    getParameterContext: bind(routes.getParameterContext, ({ params }) => flows.typed(params.id, 'parameter-context')),
    updateParameterContext: bind(routes.updateParameterContext, ({ params, body, change }) =>
      update(change, params.id, 'parameter-context', body.revision, (l) => updateParameterContext(l.entry, body.component)),
    ),
    deleteParameterContext: bind(routes.deleteParameterContext, ({ params, query, change }) =>
      remove(change, params.id, 'parameter-context', query.revision),
    ),
  };
}

function isLocatedKind<K extends Kind>(located: Located, kind: K): located is Extract<Located, { kind: K }> {
  return located.kind === kind;
}
