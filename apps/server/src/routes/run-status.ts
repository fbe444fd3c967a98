import { ConflictError, NotFoundError } from '@sluice/engine';
import { type RunStatusResult, routes } from '@sluice/protocol';
import { idsInGroup, indexFlow, indexRemotePorts, remotePortIds } from '../flow/document.ts';
import type { ChangeContext } from '../flow/flow-service.ts';
import { ApiError, notFound } from '../http/errors.ts';
import { bind } from '../http/router.ts';
import type { ServerContext } from '../server-context.ts';

const RUNNABLE = ['processor', 'input-port', 'output-port', 'funnel'] as const;

/** Start, stop, disable, run once, enable services; validation errors. */
export function runStatusRoutes(context: ServerContext) {
  const { flows, engine } = context;

  const nameOf = (id: string): string => engine.component(id)?.name ?? id;

  /** Sets run states of components; failures are collected, not thrown, when `collect`. */
  async function setStates(
    change: ChangeContext,
    ids: readonly string[],
    state: 'RUNNING' | 'STOPPED' | 'DISABLED',
    collect: boolean,
  ): Promise<RunStatusResult> {
    const index = indexFlow(flows.document);
    const remotePorts = indexRemotePorts(flows.document);
    const failures: RunStatusResult['failures'] = [];
    const targets: string[] = [];
    // A Remote Process Group stands for its ports (NiFi: enable or disable transmission).
    const expanded = ids.flatMap((id) => {
      const located = index.get(id);
      return located?.kind === 'remote-process-group' ? remotePortIds(located.entry) : [id];
    });
    for (const id of expanded) {
      const located = index.get(id);
      const remote = remotePorts.get(id);
      if (remote !== undefined) {
        if (state === 'DISABLED') {
          if (!collect) throw new ApiError(400, 'a remote port cannot be disabled');
          failures.push({ id, name: remote.port.name, reason: 'a remote port cannot be disabled' });
        } else {
          targets.push(id);
        }
        continue;
      }
      if (located === undefined || !RUNNABLE.some((k) => k === located.kind)) {
        if (!collect) throw notFound(`processor, port or funnel "${id}"`);
        failures.push({ id, name: id, reason: 'no such processor, port or funnel' });
        continue;
      }
      if (located.kind === 'funnel' && state === 'DISABLED') {
        if (!collect) throw new ApiError(400, 'a funnel cannot be disabled');
        failures.push({ id, name: 'Funnel', reason: 'a funnel cannot be disabled' });
        continue;
      }
      targets.push(id);
    }
    // DISABLED, and leaving DISABLED, are part of the flow document: a flow change without a new version.
    const documentState = (id: string): string | undefined => {
      const located = indexFlow(flows.document).get(id);
      return located !== undefined && 'state' in located.entry ? located.entry.state : undefined;
    };
    const viaDocument = targets.filter((id) => state === 'DISABLED' || (state === 'STOPPED' && documentState(id) === 'DISABLED'));
    if (viaDocument.length > 0) {
      await flows.mutate(
        change,
        `${state === 'DISABLED' ? 'disabled' : 'enabled'} ${viaDocument.length} component(s)`,
        (draft) => {
          const draftIndex = indexFlow(draft);
          for (const id of viaDocument) {
            const located = draftIndex.get(id);
            if (located?.kind === 'processor' || located?.kind === 'input-port' || located?.kind === 'output-port')
              located.entry.state = state;
          }
        },
        { newVersion: false, bumpRevisions: false },
      );
    }
    const viaEngine = targets.filter((id) => !viaDocument.includes(id));
    if (viaEngine.length > 0) {
      await flows.runStateChange(
        change,
        `${state === 'RUNNING' ? 'started' : 'stopped'} ${viaEngine.length} component(s)`,
        async () => {
          for (const id of viaEngine) {
            try {
              if (state === 'RUNNING') await engine.startComponent(id);
              else await engine.stopComponent(id);
            } catch (e) {
              if (!collect || !(e instanceof ConflictError || e instanceof NotFoundError)) throw e;
              failures.push({ id, name: nameOf(id), reason: e.message });
            }
          }
        },
      );
    }
    const failed = new Set(failures.map((f) => f.id));
    return { changed: targets.filter((id) => !failed.has(id)), failures };
  }

  return {
    setComponentRunStatus: bind(routes.setComponentRunStatus, ({ params, body, change }) =>
      setStates(change, [params.id], body.state, false),
    ),
    setSelectionRunStatus: bind(routes.setSelectionRunStatus, ({ body, change }) =>
      setStates(change, body.componentIds, body.state, true),
    ),
    setGroupRunStatus: bind(routes.setGroupRunStatus, async ({ params, body, change }) => {
      const located = flows.locate(params.id, ['process-group']);
      const inside = new Set(located.kind === 'process-group' ? idsInGroup(located.entry) : []);
      const members = [...engine.components()].filter((n) => inside.has(n.id)).map((n) => n.id);
      let failures: RunStatusResult['failures'] = [];
      await flows.runStateChange(change, `${body.state === 'RUNNING' ? 'started' : 'stopped'} group ${params.id}`, async () => {
        if (body.state === 'RUNNING') failures = await engine.startGroup(params.id);
        else await engine.stopGroup(params.id);
      });
      const failed = new Set(failures.map((f) => f.id));
      const disabled = new Set(members.filter((id) => engine.component(id)?.runState === 'DISABLED'));
      return { changed: members.filter((id) => !failed.has(id) && !disabled.has(id)), failures };
    }),
    runOnce: bind(routes.runOnce, async ({ params, change }) => {
      flows.locate(params.id, ['processor']);
      await flows.runStateChange(change, `ran ${nameOf(params.id)} once`, () => engine.runOnce(params.id));
      return { changed: [params.id], failures: [] };
    }),
    setServiceRunStatus: bind(routes.setServiceRunStatus, async ({ params, body, change }) => {
      flows.locate(params.id, ['controller-service']);
      await flows.mutate(
        change,
        `${body.state === 'ENABLED' ? 'enabled' : 'disabled'} controller service ${params.id}`,
        (draft) => {
          const located = indexFlow(draft).get(params.id);
          if (located?.kind === 'controller-service') located.entry.state = body.state;
        },
        { newVersion: false, bumpRevisions: false },
      );
      const service = [...engine.services()].find((s) => s.id === params.id);
      const enabled = service?.enabled === true;
      if ((body.state === 'ENABLED') === enabled) return { changed: [params.id], failures: [] };
      const reason =
        service === undefined
          ? 'unknown type'
          : service.validationErrors.length > 0
            ? service.validationErrors.join('; ')
            : (service.lastError ?? 'could not be enabled');
      return { changed: [], failures: [{ id: params.id, name: service?.name ?? params.id, reason }] };
    }),
    getValidation: bind(routes.getValidation, ({ params }) => {
      const located = flows.locate(params.id);
      const errors =
        located.kind === 'controller-service'
          ? ([...engine.services()].find((s) => s.id === params.id)?.validationErrors ?? [])
          : (engine.component(params.id)?.validationErrors ?? []);
      return { id: params.id, valid: errors.length === 0, errors: [...errors] };
    }),
  };
}
