import { logLevelRank } from '@sluice/api';
import { routes } from '@sluice/protocol';
import { statusSnapshot } from '../dto.ts';
import { notFound } from '../http/errors.ts';
import { bind } from '../http/router.ts';
import type { ServerContext } from '../server-context.ts';

/** Status, status history, bulletins, diagnostics and the OpenAPI document. */
export function statusRoutes(context: ServerContext) {
  const { engine } = context;
  return {
    getStatus: bind(routes.getStatus, () => statusSnapshot(engine)),
    getStatusHistory: bind(routes.getStatusHistory, ({ params }) => {
      const history = context.history.history(params.id);
      if (history !== undefined) return history;
      // Known but not sampled yet (created within the last minute): an empty history, not a 404.
      const component = engine.component(params.id);
      const connection = engine.connection(params.id);
      if (component === undefined && connection === undefined) throw notFound(`component or connection "${params.id}"`);
      return {
        id: params.id,
        name: component?.name ?? connection?.displayName ?? params.id,
        kind: component === undefined ? 'connection' : 'component',
        intervalMs: context.history.intervalMs,
        times: [],
        series: {},
      };
    }),
    listBulletins: bind(routes.listBulletins, ({ query }) => {
      const minLevel = query.minLevel;
      const list = engine.bulletins.list({
        ...(query.componentId === undefined ? {} : { componentId: query.componentId }),
        ...(query.afterId === undefined ? {} : { afterId: query.afterId }),
      });
      return {
        bulletins: minLevel === undefined ? list : list.filter((b) => logLevelRank(b.level) >= logLevelRank(minLevel)),
      };
    }),
    getDiagnostics: bind(routes.getDiagnostics, () => context.diagnostics.gather()),
    getOpenApi: bind(routes.getOpenApi, () => context.openApi),
  };
}
