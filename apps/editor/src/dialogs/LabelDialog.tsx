import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { editorActions } from '../actions.ts';
import { errorMessage } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { parentOf } from '../flow-model.ts';
import { Dialog, ErrorLine } from './Dialog.tsx';

/** A label's text (double-click a label); saved through the API and undoable. */
export function LabelDialog({ id }: { id: string }) {
  const { t } = useTranslation();
  const ctx = useEditor();
  const label = parentOf(ctx.flow.flow.rootGroup, id)?.labels.find((l) => l.id === id);
  const [text, setText] = useState(label?.text ?? '');
  const [error, setError] = useState<string | undefined>();
  if (label === undefined) return null;
  const save = async () => {
    try {
      if (text !== label.text) await ctx.undo.serial(() => editorActions(ctx).updateLabelText(id, text, label.text));
      ctx.close();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <Dialog
      title={t('label.heading')}
      testId="label-dialog"
      footer={
        <>
          <ErrorLine error={error} testId="label-error" />
          <button type="button" onClick={ctx.close}>
            {ctx.canEdit ? t('app.cancel') : t('app.close')}
          </button>
          {ctx.canEdit && (
            <button type="button" className="primary" data-testid="label-save" onClick={() => void save()}>
              {t('app.save')}
            </button>
          )}
        </>
      }
    >
      <label htmlFor="label-text">{t('label.text')}</label>
      <textarea
        id="label-text"
        className="comments"
        data-testid="label-text"
        disabled={!ctx.canEdit}
        rows={5}
        autoFocus
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
    </Dialog>
  );
}
