import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, type Reply } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { Dialog } from './Dialog.tsx';

/** Downloads the whole flow as a flow document (sensitive values left out). */
export async function exportFlow(): Promise<void> {
  const document = await call('exportFlow', { query: {} });
  const blob = new Blob([`${JSON.stringify(document, null, 2)}\n`], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const link = window.document.createElement('a');
  link.href = url;
  link.download = `${(document.name ?? 'flow').replace(/[^A-Za-z0-9._-]+/g, '-')}.json`;
  window.document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Imports a flow document: replace the flow, or add it as a process group here. */
export function ImportDialog() {
  const { t } = useTranslation();
  const ctx = useEditor();
  const [mode, setMode] = useState<'replace' | 'group'>('replace');
  const [result, setResult] = useState<Reply<'importFlow'> | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const importFile = async (file: File) => {
    setError(undefined);
    setResult(undefined);
    let document: unknown;
    try {
      document = JSON.parse(await file.text());
    } catch (e) {
      setError(t('header.notJson', { message: errorMessage(e) }));
      return;
    }
    setBusy(true);
    try {
      const imported = await call('importFlow', {
        body: mode === 'replace' ? { document, mode } : { document, mode, groupId: ctx.groupId, position: { x: 0, y: 0 } },
      });
      setResult(imported);
      ctx.undo.clear();
      await ctx.refresh();
    } catch (e) {
      setError(t('header.importFailed', { message: errorMessage(e) }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={t('header.import')} testId="import-dialog">
      <fieldset>
        <legend>{t('header.importMode')}</legend>
        <label className="check-row">
          <input type="radio" name="mode" checked={mode === 'replace'} onChange={() => setMode('replace')} />
          {t('header.importReplace')}
        </label>
        <label className="check-row">
          <input
            type="radio"
            name="mode"
            data-testid="import-mode-group"
            checked={mode === 'group'}
            onChange={() => setMode('group')}
          />
          {t('header.importGroup')}
        </label>
      </fieldset>
      <label>
        {t('header.importChoose')}
        <input
          type="file"
          accept="application/json,.json"
          data-testid="import-file"
          disabled={busy}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file !== undefined) void importFile(file);
          }}
        />
      </label>
      {error !== undefined && (
        <p className="error" role="alert" data-testid="import-error">
          {error}
        </p>
      )}
      {result !== undefined && (
        <div data-testid="import-result">
          <p>{t('header.importDone', { processors: result.imported.processors, connections: result.imported.connections })}</p>
          {result.issues.length > 0 && (
            <>
              <p>{t('header.importIssues', { count: result.issues.length })}</p>
              <ul>
                {result.issues.map((i) => (
                  <li key={`${i.path}:${i.message}`}>
                    <code>{i.path}</code> {i.message}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </Dialog>
  );
}
