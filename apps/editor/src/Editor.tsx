import type { FlowEntity, ProcessorTypeDto, ServiceTypeDto, SessionDto } from '@sluice/protocol';
import { ReactFlowProvider } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { CLIENT_ID, call, errorMessage } from './api.ts';
import { Canvas } from './canvas/Canvas.tsx';
import { BulletinBoard } from './dialogs/BulletinBoard.tsx';
import { ConfigureProcessor } from './dialogs/ConfigureProcessor.tsx';
import { ConnectionDialog } from './dialogs/ConnectionDialog.tsx';
import { FlowFileDialog } from './dialogs/FlowFileDialog.tsx';
import { exportFlow, ImportDialog } from './dialogs/FlowTransfer.tsx';
import { LabelDialog } from './dialogs/LabelDialog.tsx';
import { ParametersDialog } from './dialogs/ParametersDialog.tsx';
import { QueueDialog } from './dialogs/QueueDialog.tsx';
import { RelationshipPicker } from './dialogs/RelationshipPicker.tsx';
import { RemoteGroupDialog } from './dialogs/RemoteGroupDialog.tsx';
import { ServiceDialog, ServicesDialog } from './dialogs/ServicesDialog.tsx';
import { SnippetDialog, SnippetListDialog } from './dialogs/SnippetDialog.tsx';
import { DiagnosticsDialog, HistoryDialog } from './dialogs/StatusDialogs.tsx';
import { type DialogState, EditorContext, type EditorContextValue, rolesOf } from './editor-context.ts';
import { findGroup } from './flow-model.ts';
import { LanguageSwitch } from './LanguageSwitch.tsx';
import { connectLive } from './live.ts';
import { EventDialog } from './provenance/EventDialog.tsx';
import { LineageDialog } from './provenance/LineageDialog.tsx';
import { ProvenanceDialog } from './provenance/ProvenanceDialog.tsx';
import { SnippetStore, snippetKey } from './snippets.ts';
import { statusStore, useBulletins } from './status-store.ts';
import { IdAliases, UndoStack } from './undo.ts';

interface Message {
  readonly id: number;
  readonly text: string;
  readonly kind: 'info' | 'error';
}

/** The logged-in editor: header, canvas, dialogs, live updates. */
export function Editor({
  session,
  onLogout,
  onSessionEnded,
}: {
  session: SessionDto;
  onLogout: () => void;
  onSessionEnded: (reason: string) => void;
}) {
  const { t } = useTranslation();
  const [flow, setFlow] = useState<FlowEntity | undefined>();
  const [typeList, setTypeList] = useState<readonly ProcessorTypeDto[]>([]);
  const [serviceTypes, setServiceTypes] = useState<readonly ServiceTypeDto[]>([]);
  const [groupId, setGroupId] = useState('');
  const [dialogs, setDialogs] = useState<DialogState[]>([]);
  const [messages, setMessages] = useState<readonly Message[]>([]);
  const [connected, setConnected] = useState(true);
  const [loadError, setLoadError] = useState<string | undefined>();
  const flowRef = useRef<FlowEntity | undefined>(undefined);
  const undo = useMemo(() => new UndoStack(), []);
  const aliases = useMemo(() => new IdAliases(), []);
  const snippets = useMemo(() => new SnippetStore(), []);
  const snippetList = useSyncExternalStore(snippets.subscribe, snippets.list);
  const undoState = useSyncExternalStore(undo.subscribe, undo.state);
  const bulletins = useBulletins();
  const { canEdit, canOperate } = rolesOf(session);

  const notify = useCallback((text: string, kind: 'info' | 'error' = 'info') => {
    const id = Date.now() + Math.random();
    setMessages((ms) => [...ms.slice(-4), { id, text, kind }]);
    if (kind === 'info') setTimeout(() => setMessages((ms) => ms.filter((m) => m.id !== id)), 5000);
  }, []);

  const refresh = useCallback(async () => {
    const next = await call('getFlow');
    // Reloads overlap (an action's own, and one per burst of live changes) and may answer out of
    // order: never let an older version replace a newer one (an undo would then miss a connection).
    const current = flowRef.current;
    if (current !== undefined && next.version < current.version) return;
    flowRef.current = next;
    setFlow(next);
  }, []);

  // Flow changes arrive in bursts (one per component of a selection): reload once per burst.
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refreshSoon = useCallback(() => {
    if (pending.current !== undefined) return;
    pending.current = setTimeout(() => {
      pending.current = undefined;
      refresh().catch((e: unknown) => notify(t('app.error', { message: errorMessage(e) }), 'error'));
    }, 50);
  }, [refresh, notify, t]);

  useEffect(() => {
    Promise.all([refresh(), call('listProcessorTypes'), call('listServiceTypes'), call('listBulletins', { query: {} })])
      .then(([, types, services, board]) => {
        setTypeList([...types.types].sort((a, b) => a.type.localeCompare(b.type)));
        setServiceTypes(services.types);
        statusStore.addBulletins(board.bulletins, true);
      })
      .catch((e: unknown) => setLoadError(errorMessage(e)));
  }, [refresh]);

  // Snippets live on the server. Earlier versions kept them in this browser: an admin's are moved
  // to the server once (names the server has are skipped), then the browser's copy is removed.
  useEffect(() => {
    const key = snippetKey(session.username);
    const moved =
      canEdit && window.localStorage.getItem(key) !== null
        ? snippets.migrate(window.localStorage, key).then((result) => {
            if (result.uploaded.length + result.skipped.length > 0)
              notify(t('snippets.migrated', { count: result.uploaded.length, skipped: result.skipped.length }));
            for (const failure of result.failed)
              notify(t('snippets.migrateFailed', { name: failure.name, message: failure.reason }), 'error');
          })
        : snippets.load();
    moved.catch((e: unknown) => notify(t('snippets.loadFailed', { message: errorMessage(e) }), 'error'));
  }, [snippets, session.username, canEdit, notify, t]);

  useEffect(
    () =>
      connectLive({
        onFlowChanged: (change) => {
          if (change.clientId !== CLIENT_ID && !change.reload)
            notify(t('app.changedBy', { user: change.by, summary: change.summary }));
          refreshSoon();
        },
        onSnippetsChanged: () => {
          snippets.load().catch(() => undefined);
        },
        onSessionEnded,
        onConnection: setConnected,
      }),
    [notify, onSessionEnded, refreshSoon, snippets, t],
  );

  // Stay in a group that still exists (another user may delete it).
  const rootId = flow?.flow.rootGroup.id;
  const currentGroup = flow === undefined ? undefined : findGroup(flow.flow.rootGroup, groupId);
  useEffect(() => {
    if (rootId !== undefined && currentGroup === undefined) setGroupId(rootId);
  }, [rootId, currentGroup]);

  const open = useCallback((dialog: DialogState) => setDialogs((ds) => [...ds, dialog]), []);
  const close = useCallback(() => setDialogs((ds) => ds.slice(0, -1)), []);

  const context: EditorContextValue | undefined = useMemo(() => {
    if (flow === undefined || currentGroup === undefined) return undefined;
    return {
      session,
      canEdit,
      canOperate,
      flow,
      types: new Map(typeList.map((type) => [type.type, type])),
      typeList,
      serviceTypes,
      groupId: currentGroup.id,
      setGroupId,
      refresh,
      revision: (id: string) => flowRef.current?.revisions[id] ?? 0,
      undo,
      undoState,
      aliases,
      snippets,
      open,
      close,
      notify,
    };
  }, [
    flow,
    currentGroup,
    session,
    canEdit,
    canOperate,
    typeList,
    serviceTypes,
    refresh,
    undo,
    undoState,
    aliases,
    snippets,
    open,
    close,
    notify,
  ]);

  const dialog = dialogs[dialogs.length - 1];
  const errorCount = bulletins.filter((b) => b.level === 'ERROR' || b.level === 'WARN').length;

  return (
    <div className="editor" data-testid="editor">
      <header className="app-header">
        <strong className="brand">{t('app.title')}</strong>
        <span className="header-spacer" />
        <button
          type="button"
          data-testid="open-bulletins"
          className={errorCount > 0 ? 'warn' : ''}
          onClick={() => open({ kind: 'bulletins' })}
        >
          {t('header.bulletins', { count: bulletins.length })}
        </button>
        <button type="button" data-testid="open-services" onClick={() => open({ kind: 'services' })}>
          {t('header.services')}
        </button>
        <button type="button" data-testid="open-parameters" onClick={() => open({ kind: 'parameters' })}>
          {t('header.parameters')}
        </button>
        <button type="button" data-testid="open-snippets" onClick={() => open({ kind: 'snippets' })}>
          {t('header.snippets', { count: snippetList.length })}
        </button>
        <button type="button" data-testid="open-diagnostics" onClick={() => open({ kind: 'diagnostics' })}>
          {t('header.diagnostics')}
        </button>
        <button type="button" data-testid="open-provenance" onClick={() => open({ kind: 'provenance' })}>
          {t('header.provenance')}
        </button>
        <button
          type="button"
          data-testid="export-flow"
          onClick={() => void exportFlow().catch((e: unknown) => notify(errorMessage(e), 'error'))}
        >
          {t('header.export')}
        </button>
        {canEdit && (
          <button type="button" data-testid="import-flow" onClick={() => open({ kind: 'import' })}>
            {t('header.import')}
          </button>
        )}
        <LanguageSwitch />
        <span className="user" data-testid="header-user" data-role={session.role}>
          {t('header.loggedInAs', { user: session.username, role: t(`role.${session.role}`) })}
        </span>
        <button type="button" data-testid="logout" onClick={onLogout}>
          {t('header.logout')}
        </button>
      </header>
      {!connected && <div className="banner warn">{t('app.disconnected')}</div>}
      <div className="messages" aria-live="polite">
        {messages.map((m) => (
          <div key={m.id} className={`message ${m.kind}`} data-testid={`message-${m.kind}`}>
            <span>{m.text}</span>
            <button type="button" className="link" onClick={() => setMessages((ms) => ms.filter((x) => x.id !== m.id))}>
              {t('app.close')}
            </button>
          </div>
        ))}
      </div>
      {context === undefined ? (
        <p className="loading">{loadError === undefined ? t('app.loading') : t('app.error', { message: loadError })}</p>
      ) : (
        <EditorContext.Provider value={context}>
          <ReactFlowProvider>
            <Canvas dialogOpen={dialog !== undefined} />
          </ReactFlowProvider>
          {dialogs.map((d, i) => (
            // Dialogs stack (provenance -> event -> lineage); each keeps its state underneath.
            // biome-ignore lint/suspicious/noArrayIndexKey: the stack only grows and shrinks at its end
            <DialogView key={i} dialog={d} />
          ))}
        </EditorContext.Provider>
      )}
    </div>
  );
}

function DialogView({ dialog }: { dialog: DialogState }) {
  switch (dialog.kind) {
    case 'configure':
      return <ConfigureProcessor key={dialog.id} id={dialog.id} />;
    case 'connection':
      return <ConnectionDialog key={dialog.id} id={dialog.id} />;
    case 'connect':
      return <RelationshipPicker sourceId={dialog.sourceId} destinationId={dialog.destinationId} />;
    case 'queue':
      return <QueueDialog connectionId={dialog.connectionId} />;
    case 'flowfile':
      return <FlowFileDialog connectionId={dialog.connectionId} uuid={dialog.uuid} />;
    case 'provenance':
      return <ProvenanceDialog componentId={dialog.componentId} />;
    case 'event':
      return <EventDialog key={dialog.eventId} eventId={dialog.eventId} />;
    case 'lineage':
      return <LineageDialog uuid={dialog.uuid} />;
    case 'bulletins':
      return <BulletinBoard />;
    case 'import':
      return <ImportDialog />;
    case 'services':
      return <ServicesDialog />;
    case 'parameters':
      return <ParametersDialog />;
    case 'snippet':
      return <SnippetDialog ids={dialog.ids} />;
    case 'snippets':
      return <SnippetListDialog />;
    case 'remote':
      return <RemoteGroupDialog key={dialog.id} id={dialog.id} />;
    case 'remote-new':
      return <RemoteGroupDialog position={dialog.position} />;
    case 'label':
      return <LabelDialog key={dialog.id} id={dialog.id} />;
    case 'history':
      return <HistoryDialog id={dialog.id} name={dialog.name} />;
    case 'diagnostics':
      return <DiagnosticsDialog />;
    case 'service':
      return <ServiceDialog key={dialog.id} id={dialog.id} />;
  }
}
