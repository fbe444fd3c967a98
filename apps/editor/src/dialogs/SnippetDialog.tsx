import { useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, call, errorMessage } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { formatTime } from '../format.ts';
import { Dialog, ErrorLine } from './Dialog.tsx';

/** Saves the selection as a named snippet (kept on the server for every user; pasted from the palette). */
export function SnippetDialog({ ids }: { ids: readonly string[] }) {
  const { t } = useTranslation();
  const ctx = useEditor();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  // The name the server said is taken: the dialog then offers to replace that snippet.
  const [taken, setTaken] = useState<string | undefined>();
  const trimmed = name.trim();
  const save = async (replace: boolean) => {
    try {
      const fragment = await call('copySelection', { body: { componentIds: ids.map((id) => ctx.aliases.resolve(id)) } });
      await ctx.snippets.save(trimmed, fragment, replace);
      ctx.notify(t('snippets.saved', { name: trimmed }));
      ctx.close();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        setTaken(trimmed);
        setError(t('snippets.exists', { name: trimmed }));
      } else {
        setTaken(undefined);
        setError(errorMessage(e));
      }
    }
  };
  return (
    <Dialog
      title={t('snippets.save')}
      testId="snippet-dialog"
      footer={
        <>
          <ErrorLine error={error} testId="snippet-error" />
          <button type="button" onClick={ctx.close}>
            {t('app.cancel')}
          </button>
          {taken !== undefined && taken === trimmed && (
            <button type="button" data-testid="snippet-replace" onClick={() => void save(true)}>
              {t('snippets.replace')}
            </button>
          )}
          <button
            type="button"
            className="primary"
            data-testid="snippet-save"
            disabled={trimmed === '' || taken === trimmed}
            onClick={() => void save(false)}
          >
            {t('app.save')}
          </button>
        </>
      }
    >
      <p className="hint">{t('snippets.shared')}</p>
      <label htmlFor="snippet-name">{t('snippets.name')}</label>{' '}
      <input
        id="snippet-name"
        data-testid="snippet-name"
        autoFocus
        maxLength={200}
        value={name}
        onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && trimmed !== '' && taken !== trimmed) void save(false);
        }}
      />
    </Dialog>
  );
}

/** Every snippet of the server, with who saved it and when; admins may delete them here too. */
export function SnippetListDialog() {
  const { t } = useTranslation();
  const ctx = useEditor();
  const snippets = useSyncExternalStore(ctx.snippets.subscribe, ctx.snippets.list);
  const [error, setError] = useState<string | undefined>();
  const remove = (name: string) => {
    ctx.snippets.remove(name).catch((e: unknown) => setError(errorMessage(e)));
  };
  return (
    <Dialog
      title={t('snippets.heading')}
      testId="snippet-list-dialog"
      footer={error === undefined ? undefined : <ErrorLine error={error} testId="snippet-list-error" />}
    >
      <p className="hint">{ctx.canEdit ? t('snippets.shared') : t('snippets.readOnly')}</p>
      {snippets.length === 0 ? (
        <p className="hint" data-testid="snippet-list-empty">
          {t('snippets.none')}
        </p>
      ) : (
        <table className="data-table" data-testid="snippet-table">
          <thead>
            <tr>
              <th>{t('snippets.name')}</th>
              <th>{t('snippets.components')}</th>
              <th>{t('snippets.savedBy')}</th>
              <th>{t('snippets.savedAt')}</th>
              {ctx.canEdit && <th />}
            </tr>
          </thead>
          <tbody>
            {snippets.map((snippet) => (
              <tr key={snippet.id} data-testid={`snippet-row-${snippet.name}`}>
                <td>{snippet.name}</td>
                <td>{snippet.componentCount}</td>
                <td>{snippet.savedBy}</td>
                <td>{formatTime(snippet.savedAt)}</td>
                {ctx.canEdit && (
                  <td>
                    <RemoveSnippetButton
                      name={snippet.name}
                      testId={`snippet-delete-${snippet.name}`}
                      onRemove={() => remove(snippet.name)}
                    />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Dialog>
  );
}

/** The ✕ that deletes a snippet (palette and snippet list). */
export function RemoveSnippetButton({ name, testId, onRemove }: { name: string; testId: string; onRemove: () => void }) {
  const { t } = useTranslation();
  return (
    <button
      type="button"
      className="link"
      data-testid={testId}
      aria-label={t('snippets.remove', { name })}
      title={t('snippets.remove', { name })}
      onClick={onRemove}
    >
      ✕
    </button>
  );
}
