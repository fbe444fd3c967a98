import type { FlowDocument } from '@sluice/engine';
import { type FlowFragment, flowFragmentSchema, routes } from '@sluice/protocol';
import { strip } from '../flow/sensitive.ts';
import { ApiError, notFound } from '../http/errors.ts';
import { bind } from '../http/router.ts';
import type { ServerContext } from '../server-context.ts';
import { SnippetRefusedError } from '../store/snippet-store.ts';

/**
 * Snippets: named fragments kept on the server for every user. Like a copy, a snippet never holds
 * a sensitive value: whatever the client sends for one (a value, the "set" marker) is stored as null.
 */
export function snippetRoutes(context: ServerContext) {
  const { snippets, flows } = context;

  const withoutSensitive = (fragment: FlowFragment): FlowFragment => {
    const holder: FlowDocument = {
      sluiceFlow: 1,
      parameterContexts: [],
      rootGroup: { id: 'snippet', name: 'snippet', ...fragment },
    };
    const { id: _id, name: _name, ...content } = flows.policy.map(holder, strip).rootGroup;
    return flowFragmentSchema.parse(content);
  };

  return {
    listSnippets: bind(routes.listSnippets, () => ({ snippets: snippets.list() })),
    getSnippet: bind(routes.getSnippet, ({ params }) => {
      const snippet = snippets.get(params.id);
      if (snippet === undefined) throw notFound(`snippet "${params.id}"`);
      return snippet;
    }),
    createSnippet: bind(routes.createSnippet, async ({ body, change }) => {
      try {
        return await snippets.save({
          name: body.name,
          fragment: withoutSensitive(body.fragment),
          replace: body.replace,
          by: change.by,
          clientId: change.clientId,
        });
      } catch (e) {
        if (!(e instanceof SnippetRefusedError)) throw e;
        const detail =
          e.reason === 'duplicate'
            ? { path: 'body.name', message: 'is taken (send replace: true to replace that snippet)' }
            : e.reason === 'too-large'
              ? { path: 'body.fragment', message: 'is too large' }
              : { path: 'body', message: 'no room for another snippet' };
        throw new ApiError(e.reason === 'duplicate' ? 409 : 413, e.message, [detail]);
      }
    }),
    deleteSnippet: bind(routes.deleteSnippet, async ({ params, change }) => {
      if (!(await snippets.delete(params.id, change.by, change.clientId))) throw notFound(`snippet "${params.id}"`);
      return undefined;
    }),
  };
}
