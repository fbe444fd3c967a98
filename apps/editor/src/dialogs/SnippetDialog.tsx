import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { Dialog, ErrorLine } from './Dialog.tsx';

/** Saves the selection as a named snippet (kept in this browser; pasted from the palette). */
export function SnippetDialog({ ids }: { ids: readonly string[] }) {
  const { t } = useTranslation();
  const ctx = useEditor();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  const save = async () => {
    try {
      const fragment = await call('copySelection', { body: { componentIds: ids.map((id) => ctx.aliases.resolve(id)) } });
      ctx.snippets.save(name.trim(), fragment);
      ctx.notify(t('snippets.saved', { name: name.trim() }));
      ctx.close();
    } catch (e) {
      setError(errorMessage(e));
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
          <button
            type="button"
            className="primary"
            data-testid="snippet-save"
            disabled={name.trim() === ''}
            onClick={() => void save()}
          >
            {t('app.save')}
          </button>
        </>
      }
    >
      <p className="hint">{t('snippets.paste')}</p>
      <label htmlFor="snippet-name">{t('snippets.name')}</label>{' '}
      <input
        id="snippet-name"
        data-testid="snippet-name"
        autoFocus
        value={name}
        onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && name.trim() !== '') void save();
        }}
      />
    </Dialog>
  );
}
