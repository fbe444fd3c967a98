import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, type Reply, routeUrl } from '../api.ts';
import { AttributeTable } from '../dialogs/AttributeTable.tsx';
import { ContentView } from '../dialogs/ContentView.tsx';
import { Dialog, KeyValueTable, Tabs } from '../dialogs/Dialog.tsx';
import { useEditor } from '../editor-context.ts';
import { formatBytes, formatTime } from '../format.ts';

type Tab = 'details' | 'attributes' | 'input' | 'output';

/** One provenance event: details, attributes before/after as a diff, content, replay. */
export function EventDialog({ eventId }: { eventId: number }) {
  const { t } = useTranslation();
  const { canOperate, open, notify } = useEditor();
  const [tab, setTab] = useState<Tab>('details');
  const [event, setEvent] = useState<Reply<'getProvenanceEvent'> | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [onlyChanged, setOnlyChanged] = useState(false);
  useEffect(() => {
    call('getProvenanceEvent', { params: { eventId } }).then(setEvent, (e: unknown) => setError(errorMessage(e)));
  }, [eventId]);

  const replay = async () => {
    try {
      const result = await call('replayEvent', { params: { eventId } });
      notify(t('provenance.replayed', { uuid: result.uuid }));
      setError(undefined);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const rows: [string, string][] =
    event === undefined
      ? []
      : [
          [t('provenance.time'), formatTime(event.eventTime)],
          [t('provenance.type'), event.eventType],
          [t('provenance.uuid'), event.flowFileUuid],
          [t('provenance.filename'), event.filename ?? ''],
          [t('provenance.size'), formatBytes(event.fileSize)],
          [t('provenance.componentName'), `${event.componentName ?? ''} (${event.componentType}, ${event.componentId})`],
          [t('provenance.relationship'), event.relationship ?? ''],
          [t('provenance.detailsText'), event.details ?? ''],
          [t('provenance.parents'), event.parentUuids.join(', ')],
          [t('provenance.children'), event.childUuids.join(', ')],
        ];

  return (
    <Dialog
      title={t('provenance.event', { id: eventId, type: event?.eventType ?? '' })}
      testId="event-dialog"
      wide
      footer={
        event !== undefined && (
          <>
            {error !== undefined && (
              <span className="error" role="alert" data-testid="event-error">
                {error}
              </span>
            )}
            <button type="button" data-testid="event-lineage" onClick={() => open({ kind: 'lineage', uuid: event.flowFileUuid })}>
              {t('provenance.lineage')}
            </button>
            {canOperate && (
              <button
                type="button"
                className="primary"
                data-testid="event-replay"
                disabled={!event.replayable}
                title={event.replayable ? undefined : t('provenance.notReplayable', { why: event.replayExplanation ?? '' })}
                onClick={() => void replay()}
              >
                {t('provenance.replay')}
              </button>
            )}
          </>
        )
      }
    >
      {event === undefined ? (
        <p>{error ?? t('app.loading')}</p>
      ) : (
        <>
          <Tabs<Tab>
            current={tab}
            onChange={setTab}
            tabs={[
              { id: 'details', label: t('provenance.details') },
              { id: 'attributes', label: t('flowFile.attributes') },
              { id: 'input', label: t('provenance.inputContent') },
              { id: 'output', label: t('provenance.outputContent') },
            ]}
          />
          {tab === 'details' && <KeyValueTable rows={rows} testId="event-details" />}
          {tab === 'attributes' && (
            <>
              <label className="check-row">
                <input type="checkbox" checked={onlyChanged} onChange={(e) => setOnlyChanged(e.target.checked)} />
                {t('provenance.onlyChanged')}
              </label>
              <AttributeTable attributes={event.attributes} previous={event.previousAttributes} onlyChanged={onlyChanged} />
            </>
          )}
          {(tab === 'input' || tab === 'output') &&
            (() => {
              const content = tab === 'input' ? event.inputContent : event.outputContent;
              if (!canOperate) return <p className="hint">{t('flowFile.noPermission')}</p>;
              if (content === null || !content.available) return <p className="hint">{t('flowFile.contentUnavailable')}</p>;
              return (
                <ContentView
                  key={tab}
                  url={routeUrl('/provenance/events/:eventId/content/:direction', { eventId, direction: tab })}
                  mimeType={event.attributes['mime.type'] ?? null}
                  size={content.size}
                />
              );
            })()}
        </>
      )}
    </Dialog>
  );
}
