import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { editorActions } from '../actions.ts';
import { errorMessage } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { allProcessors, componentName, relationshipsOf } from '../flow-model.ts';
import { Dialog } from './Dialog.tsx';

/** After dragging a connection: which relationships of the source go through it. */
export function RelationshipPicker({ sourceId, destinationId }: { sourceId: string; destinationId: string }) {
  const { t } = useTranslation();
  const ctx = useEditor();
  const processors = allProcessors(ctx.flow.flow.rootGroup);
  const source = processors.find((p) => p.id === sourceId);
  const available = source === undefined ? [] : relationshipsOf(source, ctx.types.get(source.type));
  const [picked, setPicked] = useState<string[]>(available.length === 1 ? available : []);
  const [error, setError] = useState<string | undefined>();
  const create = async () => {
    if (picked.length === 0 && available.length > 0) {
      setError(t('relationships.needOne'));
      return;
    }
    try {
      await editorActions(ctx).connect(sourceId, destinationId, picked);
      ctx.close();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <Dialog
      title={t('relationships.heading', {
        source: source?.name ?? sourceId,
        destination: componentName(ctx.flow.flow.rootGroup, destinationId) ?? destinationId,
      })}
      testId="relationship-picker"
      footer={
        <>
          {error !== undefined && (
            <span className="error" role="alert">
              {error}
            </span>
          )}
          <button type="button" onClick={ctx.close}>
            {t('app.cancel')}
          </button>
          <button
            type="button"
            className="primary"
            data-testid="relationship-create"
            disabled={picked.length === 0 && available.length > 0}
            onClick={() => void create()}
          >
            {t('relationships.create')}
          </button>
        </>
      }
    >
      <p>{available.length === 0 ? t('relationships.none') : t('relationships.pick')}</p>
      {available.map((r) => (
        <label key={r} className="check-row">
          <input
            type="checkbox"
            data-testid={`pick-relationship-${r}`}
            checked={picked.includes(r)}
            onChange={() => setPicked(picked.includes(r) ? picked.filter((x) => x !== r) : [...picked, r])}
          />
          {r}
        </label>
      ))}
    </Dialog>
  );
}
