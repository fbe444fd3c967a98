import { PRIORITIZER_NAMES } from '@sluice/protocol';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ConnectionChanges, editorActions } from '../actions.ts';
import { call, errorMessage } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { allProcessors, parentOf, relationshipsOf } from '../flow-model.ts';
import { formatCount } from '../format.ts';
import { useConnectionStatus } from '../status-store.ts';
import { Dialog, ErrorLine, TextField } from './Dialog.tsx';

type Prioritizer = (typeof PRIORITIZER_NAMES)[number];
const DURATION = /^\s*\d+(\.\d+)?\s*[a-zA-Z]+\s*$/;

/** A connection's settings, and the way to its queue. */
export function ConnectionDialog({ id }: { id: string }) {
  const { t } = useTranslation();
  const ctx = useEditor();
  const { flow, canEdit, canOperate, close, open, notify } = ctx;
  const group = parentOf(flow.flow.rootGroup, id);
  const connection = group?.connections.find((c) => c.id === id);
  const status = useConnectionStatus(id);
  const [name, setName] = useState(connection?.name ?? '');
  const [relationships, setRelationships] = useState<string[]>(connection?.relationships ?? []);
  const [objects, setObjects] = useState(String(connection?.backPressureObjectThreshold ?? 10000));
  const [size, setSize] = useState(connection?.backPressureDataSizeThreshold ?? '1 GB');
  const [expiration, setExpiration] = useState(connection?.flowFileExpiration ?? '0 sec');
  const [prioritizers, setPrioritizers] = useState<Prioritizer[]>(connection?.prioritizers ?? []);
  const [error, setError] = useState<string | undefined>();
  if (connection === undefined) return null;
  const processors = allProcessors(flow.flow.rootGroup);
  const source = processors.find((p) => p.id === connection.source.id);
  const destination = processors.find((p) => p.id === connection.destination.id);
  const available = source === undefined ? [] : relationshipsOf(source, ctx.types.get(source.type));
  const objectsInvalid = !/^\d+$/.test(objects.trim());
  const invalid =
    objectsInvalid || !DURATION.test(size) || !DURATION.test(expiration) || (source !== undefined && relationships.length === 0);
  const readOnly = !canEdit;

  const save = async () => {
    const changes: ConnectionChanges = {};
    const previous: ConnectionChanges = {};
    if (name !== (connection.name ?? '')) [changes.name, previous.name] = [name === '' ? null : name, connection.name ?? null];
    if (relationships.join() !== connection.relationships.join())
      [changes.relationships, previous.relationships] = [relationships, connection.relationships];
    if (Number(objects) !== connection.backPressureObjectThreshold)
      [changes.backPressureObjectThreshold, previous.backPressureObjectThreshold] = [
        Number(objects),
        connection.backPressureObjectThreshold,
      ];
    if (size !== connection.backPressureDataSizeThreshold)
      [changes.backPressureDataSizeThreshold, previous.backPressureDataSizeThreshold] = [
        size,
        connection.backPressureDataSizeThreshold,
      ];
    if (expiration !== connection.flowFileExpiration)
      [changes.flowFileExpiration, previous.flowFileExpiration] = [expiration, connection.flowFileExpiration];
    if (prioritizers.join() !== connection.prioritizers.join())
      [changes.prioritizers, previous.prioritizers] = [prioritizers, connection.prioritizers];
    try {
      if (Object.keys(changes).length > 0) await editorActions(ctx).updateConnection(id, changes, previous);
      close();
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const emptyQueue = async () => {
    if (!window.confirm(t('connection.emptyConfirm', { count: formatCount(status?.queued.count ?? 0) }))) return;
    try {
      const result = await call('emptyQueue', { params: { id } });
      notify(t('connection.emptied', { count: result.dropped }));
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const move = (index: number, delta: number) => {
    const next = [...prioritizers];
    const [item] = next.splice(index, 1);
    if (item === undefined) return;
    next.splice(Math.max(0, Math.min(next.length, index + delta)), 0, item);
    setPrioritizers(next);
  };

  return (
    <Dialog
      title={t('connection.heading', { name: connection.name ?? connection.relationships.join(', ') })}
      testId="connection-dialog"
      wide
      footer={
        <>
          <ErrorLine error={error} testId="connection-error" />
          <button type="button" data-testid="list-queue" onClick={() => open({ kind: 'queue', connectionId: id })}>
            {t('connection.listQueue')}
          </button>
          {canOperate && (
            <button type="button" data-testid="empty-queue" onClick={() => void emptyQueue()}>
              {t('connection.emptyQueue')}
            </button>
          )}
          <span className="header-spacer" />
          <button type="button" onClick={close}>
            {readOnly ? t('app.close') : t('app.cancel')}
          </button>
          {!readOnly && (
            <button
              type="button"
              className="primary"
              data-testid="connection-save"
              disabled={invalid}
              onClick={() => void save()}
            >
              {t('app.save')}
            </button>
          )}
        </>
      }
    >
      <p>
        {t('connection.from', {
          source: source?.name ?? connection.source.id,
          destination: destination?.name ?? connection.destination.id,
        })}
      </p>
      <div className="form-grid">
        <TextField
          id="conn-name"
          label={t('connection.name')}
          testId="connection-name"
          disabled={readOnly}
          value={name}
          onChange={setName}
        />
        {available.length > 0 && (
          <>
            <span>{t('connection.relationships')}</span>
            <div>
              {available.map((r) => (
                <label key={r} className="check-row">
                  <input
                    type="checkbox"
                    data-testid={`connection-relationship-${r}`}
                    disabled={readOnly}
                    checked={relationships.includes(r)}
                    onChange={() =>
                      setRelationships(relationships.includes(r) ? relationships.filter((x) => x !== r) : [...relationships, r])
                    }
                  />
                  {r}
                </label>
              ))}
            </div>
          </>
        )}
        <TextField
          id="conn-objects"
          label={t('connection.objectThreshold')}
          testId="connection-object-threshold"
          disabled={readOnly}
          value={objects}
          onChange={setObjects}
        />
        <TextField
          id="conn-size"
          label={t('connection.sizeThreshold')}
          testId="connection-size-threshold"
          disabled={readOnly}
          value={size}
          onChange={setSize}
        />
        <TextField
          id="conn-expiration"
          label={t('connection.expiration')}
          testId="connection-expiration"
          disabled={readOnly}
          value={expiration}
          title={t('connection.expirationHint')}
          onChange={setExpiration}
        />
        <span>{t('connection.prioritizers')}</span>
        <div className="prioritizers">
          <ol data-testid="prioritizers-selected">
            {prioritizers.map((p, i) => (
              <li key={p}>
                {p}
                {!readOnly && (
                  <>
                    <button type="button" className="link" title={t('connection.up')} onClick={() => move(i, -1)}>
                      ↑
                    </button>
                    <button type="button" className="link" title={t('connection.down')} onClick={() => move(i, 1)}>
                      ↓
                    </button>
                    <button
                      type="button"
                      className="link"
                      title={t('app.remove')}
                      onClick={() => setPrioritizers(prioritizers.filter((x) => x !== p))}
                    >
                      ✕
                    </button>
                  </>
                )}
              </li>
            ))}
          </ol>
          {!readOnly && (
            <div className="available">
              {t('connection.available')}:{' '}
              {PRIORITIZER_NAMES.filter((p) => !prioritizers.includes(p)).map((p) => (
                <button
                  key={p}
                  type="button"
                  data-testid={`add-prioritizer-${p}`}
                  onClick={() => setPrioritizers([...prioritizers, p])}
                >
                  + {p}
                </button>
              ))}
            </div>
          )}
        </div>
      </div>
    </Dialog>
  );
}
