import { PROVENANCE_EVENT_TYPE_NAMES } from '@sluice/protocol';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, type Reply } from '../api.ts';
import { Dialog } from '../dialogs/Dialog.tsx';
import { useEditor } from '../editor-context.ts';
import { allProcessors } from '../flow-model.ts';
import { formatBytes, formatTime } from '../format.ts';

type EventType = (typeof PROVENANCE_EVENT_TYPE_NAMES)[number];
type Summary = Reply<'searchProvenance'>['events'][number];

/** Provenance search: component, event type, FlowFile uuid, filename, attribute, time range. */
export function ProvenanceDialog({ componentId: initialComponent }: { componentId: string | undefined }) {
  const { t } = useTranslation();
  const { flow, open } = useEditor();
  const processors = allProcessors(flow.flow.rootGroup);
  const [componentId, setComponentId] = useState(initialComponent ?? '');
  const [eventType, setEventType] = useState<EventType | ''>('');
  const [uuid, setUuid] = useState('');
  const [filename, setFilename] = useState('');
  const [attributeName, setAttributeName] = useState('');
  const [attributeValue, setAttributeValue] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [events, setEvents] = useState<readonly Summary[]>([]);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [searched, setSearched] = useState(false);
  const [repository, setRepository] = useState<Reply<'searchProvenance'>['repository']>('durable');

  const search = useCallback(
    async (beforeEventId?: number) => {
      setError(undefined);
      try {
        const result = await call('searchProvenance', {
          query: {
            componentId: componentId || undefined,
            eventType: eventType || undefined,
            uuid: uuid.trim() || undefined,
            filename: filename.trim() || undefined,
            ...(attributeName.trim() === '' ? {} : { attributeName: attributeName.trim(), attributeValue }),
            startTime: from === '' ? undefined : new Date(from).getTime(),
            endTime: to === '' ? undefined : new Date(to).getTime(),
            limit: 100,
            beforeEventId,
          },
        });
        setEvents((previous) => (beforeEventId === undefined ? result.events : [...previous, ...result.events]));
        setMore(result.more);
        setRepository(result.repository);
        setSearched(true);
      } catch (e) {
        setError(errorMessage(e));
      }
    },
    [componentId, eventType, uuid, filename, attributeName, attributeValue, from, to],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: search once on open; later searches are explicit
  useEffect(() => void search(), []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void search();
  };

  return (
    <Dialog title={t('provenance.heading')} testId="provenance-dialog" wide>
      <form className="search-form" onSubmit={submit}>
        <label>
          {t('provenance.component')}
          <select data-testid="provenance-component" value={componentId} onChange={(e) => setComponentId(e.target.value)}>
            <option value="">{t('provenance.anyComponent')}</option>
            {processors.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('provenance.eventType')}
          <select
            data-testid="provenance-type"
            value={eventType}
            onChange={(e) => setEventType(PROVENANCE_EVENT_TYPE_NAMES.find((n) => n === e.target.value) ?? '')}
          >
            <option value="">{t('provenance.anyType')}</option>
            {PROVENANCE_EVENT_TYPE_NAMES.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
        <label>
          {t('provenance.uuid')}
          <input data-testid="provenance-uuid" value={uuid} onChange={(e) => setUuid(e.target.value)} />
        </label>
        <label>
          {t('provenance.filename')}
          <input value={filename} onChange={(e) => setFilename(e.target.value)} />
        </label>
        <label>
          {t('provenance.attributeName')}
          <input value={attributeName} onChange={(e) => setAttributeName(e.target.value)} />
        </label>
        <label>
          {t('provenance.attributeValue')}
          <input value={attributeValue} onChange={(e) => setAttributeValue(e.target.value)} />
        </label>
        <label>
          {t('provenance.from')}
          <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          {t('provenance.to')}
          <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <button type="submit" className="primary" data-testid="provenance-search">
          {t('provenance.search')}
        </button>
      </form>
      {repository !== 'durable' && (
        <p className="hint" data-testid="provenance-repository" data-repository={repository}>
          {t(repository === 'off' ? 'provenance.repositoryOff' : 'provenance.repositoryVolatile')}
        </p>
      )}
      {error !== undefined && <p className="error">{error}</p>}
      {searched && events.length === 0 && <p className="hint">{t('provenance.noEvents')}</p>}
      {events.length > 0 && (
        <table className="data-table" data-testid="provenance-table">
          <thead>
            <tr>
              <th>{t('provenance.time')}</th>
              <th>{t('provenance.type')}</th>
              <th>{t('provenance.uuid')}</th>
              <th>{t('provenance.filename')}</th>
              <th>{t('provenance.size')}</th>
              <th>{t('provenance.componentName')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr
                key={e.eventId}
                data-testid="provenance-row"
                data-event-type={e.eventType}
                data-component={e.componentName ?? ''}
              >
                <td>{formatTime(e.eventTime)}</td>
                <td>{e.eventType}</td>
                <td>
                  <code>{e.flowFileUuid}</code>
                </td>
                <td>{e.filename}</td>
                <td>{formatBytes(e.fileSize)}</td>
                <td>{e.componentName ?? e.componentId}</td>
                <td className="actions">
                  <button
                    type="button"
                    data-testid="provenance-details"
                    onClick={() => open({ kind: 'event', eventId: e.eventId })}
                  >
                    {t('provenance.details')}
                  </button>
                  <button
                    type="button"
                    data-testid="provenance-lineage"
                    onClick={() => open({ kind: 'lineage', uuid: e.flowFileUuid })}
                  >
                    {t('provenance.lineage')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more && (
        <p>
          {t('provenance.more')}{' '}
          <button type="button" onClick={() => void search(events[events.length - 1]?.eventId)}>
            {t('provenance.olderPage')}
          </button>
        </p>
      )}
    </Dialog>
  );
}
