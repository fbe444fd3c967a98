import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, type Reply } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { parentOf } from '../flow-model.ts';
import { formatBytes, formatCount, formatDuration } from '../format.ts';
import { Dialog } from './Dialog.tsx';

const PAGE = 50;

/** A connection's queue in delivery order, paged (any size). */
export function QueueDialog({ connectionId }: { connectionId: string }) {
  const { t } = useTranslation();
  const { flow, open } = useEditor();
  const connection = parentOf(flow.flow.rootGroup, connectionId)?.connections.find((c) => c.id === connectionId);
  const [offset, setOffset] = useState(0);
  const [listing, setListing] = useState<Reply<'listQueue'> | undefined>();
  const [error, setError] = useState<string | undefined>();
  const load = useCallback(() => {
    call('listQueue', { params: { id: connectionId }, query: { offset, limit: PAGE } }).then(setListing, (e: unknown) =>
      setError(errorMessage(e)),
    );
  }, [connectionId, offset]);
  useEffect(load, [load]);
  const total = listing?.total.count ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const now = Date.now();
  return (
    <Dialog
      title={t('queue.heading', { name: connection?.name ?? connection?.relationships.join(', ') ?? connectionId })}
      testId="queue-dialog"
      wide
    >
      {error !== undefined && <p className="error">{error}</p>}
      {listing !== undefined && (
        <>
          <p data-testid="queue-total" data-count={total}>
            {t('queue.total', { count: formatCount(total), size: formatBytes(listing.total.bytes) })}{' '}
            <button type="button" onClick={load}>
              {t('app.refresh')}
            </button>
          </p>
          {listing.items.length === 0 ? (
            <p className="hint">{t('queue.empty')}</p>
          ) : (
            <table className="data-table" data-testid="queue-table">
              <thead>
                <tr>
                  <th>{t('queue.position')}</th>
                  <th>{t('queue.uuid')}</th>
                  <th>{t('queue.filename')}</th>
                  <th>{t('queue.size')}</th>
                  <th>{t('queue.queuedFor')}</th>
                  <th>{t('queue.penalized')}</th>
                </tr>
              </thead>
              <tbody>
                {listing.items.map((item) => (
                  <tr
                    key={item.uuid}
                    className="clickable"
                    data-testid="queue-row"
                    onClick={() => open({ kind: 'flowfile', connectionId, uuid: item.uuid })}
                  >
                    <td>{item.position}</td>
                    <td>
                      <code>{item.uuid}</code>
                    </td>
                    <td>{item.filename}</td>
                    <td>{formatBytes(item.size)}</td>
                    <td>{formatDuration(now - item.enqueuedAt)}</td>
                    <td>{item.penalized ? t('app.yes') : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <div className="pager">
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              {t('queue.previous')}
            </button>
            <span>{t('queue.page', { page: Math.floor(offset / PAGE) + 1, pages })}</span>
            <button type="button" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
              {t('queue.next')}
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}
