import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, type Reply, routeUrl } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { AttributeTable } from './AttributeTable.tsx';
import { ContentView } from './ContentView.tsx';
import { Dialog, Tabs } from './Dialog.tsx';

/** A queued FlowFile: attributes, and content (operators). */
export function FlowFileDialog({ connectionId, uuid }: { connectionId: string; uuid: string }) {
  const { t } = useTranslation();
  const { canOperate } = useEditor();
  const [tab, setTab] = useState<'attributes' | 'content'>('attributes');
  const [detail, setDetail] = useState<Reply<'getQueuedFlowFile'> | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    call('getQueuedFlowFile', { params: { id: connectionId, uuid } }).then(setDetail, (e: unknown) => setError(errorMessage(e)));
  }, [connectionId, uuid]);
  return (
    <Dialog title={t('flowFile.heading', { uuid })} testId="flowfile-dialog" wide>
      <Tabs
        current={tab}
        onChange={setTab}
        tabs={[
          { id: 'attributes', label: t('flowFile.attributes') },
          { id: 'content', label: t('flowFile.content') },
        ]}
      />
      {error !== undefined && <p className="error">{error}</p>}
      {detail !== undefined && tab === 'attributes' && <AttributeTable attributes={detail.attributes} />}
      {detail !== undefined &&
        tab === 'content' &&
        (!canOperate ? (
          <p className="hint">{t('flowFile.noPermission')}</p>
        ) : !detail.contentAvailable ? (
          <p className="hint">{t('flowFile.contentUnavailable')}</p>
        ) : (
          <ContentView
            url={routeUrl('/connections/:id/queue/:uuid/content', { id: connectionId, uuid })}
            mimeType={detail.mimeType}
            size={detail.size}
          />
        ))}
    </Dialog>
  );
}
