import type { ProcessGroup } from '@sluice/protocol';
import {
  applyEdgeChanges,
  applyNodeChanges,
  Background,
  Controls,
  type EdgeChange,
  type Connection as FlowConnection,
  getNodesBounds,
  getViewportForBounds,
  MarkerType,
  MiniMap,
  type NodeChange,
  ReactFlow,
  type ReactFlowState,
  useReactFlow,
  useStore,
  type Viewport,
} from '@xyflow/react';
import { type DragEvent, type PointerEvent, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type EditorActions, editorActions } from '../actions.ts';
import { errorMessage } from '../api.ts';
import { useEditor } from '../editor-context.ts';
import { allProcessors, countComponents, findGroup, groupPath, parentOf, remoteGroupOfPort } from '../flow-model.ts';
import { layeredLayout } from '../layout.ts';
import { offsetTo } from '../snippets.ts';
import { type CanvasNode, DETAIL_ZOOM, nodeTypes, PORT_HANDLE, ZoomedOutContext, zoomedOutSelector } from './nodes.tsx';
import { inOverview, Overview } from './Overview.tsx';
import { PALETTE_MIME, Palette, type PaletteSpec } from './Palette.tsx';
import { edgeTypes, type QueueFlowEdge } from './QueueEdge.tsx';
import { rebuildEdges, rebuildNodes, useMeasureStragglers } from './rebuild.ts';

const GRID = 16;
const MIN_ZOOM = 0.05;
const FIT = { padding: 0.2, maxZoom: 1 };
const panZoomReady = (s: ReactFlowState) => s.panZoom !== null;
const MINIMAP_LIMIT = 300;

/** Nodes of one group, in React Flow's terms. */
function buildNodes(group: ProcessGroup): CanvasNode[] {
  const at = (p: { x: number; y: number } | undefined) => p ?? { x: 0, y: 0 };
  return [
    ...group.processors.map(
      // Initial sizes let React Flow paint nodes before it has measured them (big flows render sooner).
      (p): CanvasNode => ({
        id: p.id,
        type: 'processor',
        position: at(p.position),
        data: { processor: p },
        initialWidth: 220,
        initialHeight: 96,
      }),
    ),
    ...group.processGroups.map(
      (g): CanvasNode => ({ id: g.id, type: 'group', position: at(g.position), data: { group: g, count: countComponents(g) } }),
    ),
    ...(['input-port', 'output-port'] as const).flatMap((kind) =>
      (kind === 'input-port' ? group.inputPorts : group.outputPorts).map(
        (p): CanvasNode => ({ id: p.id, type: 'port', position: at(p.position), data: { name: p.name, kind, state: p.state } }),
      ),
    ),
    ...group.funnels.map((f): CanvasNode => ({ id: f.id, type: 'funnel', position: at(f.position), data: {} })),
    ...(group.remoteProcessGroups ?? []).map(
      (r): CanvasNode => ({ id: r.id, type: 'remote', position: at(r.position), data: { remote: r } }),
    ),
    ...group.labels.map(
      (l): CanvasNode => ({
        id: l.id,
        type: 'label',
        position: at(l.position),
        data: { text: l.text, width: l.width ?? 200, height: l.height ?? 60 },
        zIndex: -1,
      }),
    ),
  ];
}

/**
 * Where a connection end shows on this canvas: the component, or the child group or Remote Process
 * Group holding the port.
 */
function endpoint(group: ProcessGroup, id: string): string {
  for (const child of group.processGroups) {
    if (child.inputPorts.some((p) => p.id === id) || child.outputPorts.some((p) => p.id === id)) return child.id;
  }
  return remoteGroupOfPort(group, id)?.id ?? id;
}

/** The handle of a connection end: a child group's port has its own, other components one each way. */
function handleOf(group: ProcessGroup, id: string): string | undefined {
  return endpoint(group, id) === id ? undefined : `${PORT_HANDLE}${id}`;
}

/** The component a drag ended at: the child group's port when it was one of a group's port handles. */
export function connectionEnd(node: string, handle: string | null | undefined): string {
  return handle?.startsWith(PORT_HANDLE) === true ? handle.slice(PORT_HANDLE.length) : node;
}

function buildEdges(group: ProcessGroup, onOpen: (id: string) => void): QueueFlowEdge[] {
  return group.connections.map((c) => ({
    id: c.id,
    type: 'queue',
    source: endpoint(group, c.source.id),
    target: endpoint(group, c.destination.id),
    sourceHandle: handleOf(group, c.source.id) ?? null,
    targetHandle: handleOf(group, c.destination.id) ?? null,
    markerEnd: { type: MarkerType.ArrowClosed },
    data: { connection: c, onOpen },
  }));
}

/**
 * A drag that starts on the empty pane pans the view: capturing the pointer there spares the browser
 * a hit test of every node and connection under the pointer on each move (most of a pan frame's
 * time with a thousand processors).
 */
function capturePanPointer(event: PointerEvent<HTMLDivElement>): void {
  const target = event.target;
  if (event.button === 0 && target instanceof Element && target.classList.contains('react-flow__pane'))
    target.setPointerCapture(event.pointerId);
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

/** The canvas of the current process group with its toolbar, palette and breadcrumbs. */
export function Canvas({ dialogOpen }: { dialogOpen: boolean }) {
  const { t } = useTranslation();
  const ctx = useEditor();
  const { flow, groupId, canEdit, canOperate, open, notify, undo } = ctx;
  const flowApi = useReactFlow<CanvasNode, QueueFlowEdge>();
  const wrapper = useRef<HTMLDivElement>(null);
  const root = flow.flow.rootGroup;
  const group = findGroup(root, groupId) ?? root;
  const actions: EditorActions = useMemo(() => editorActions(ctx), [ctx]);
  const [nodes, setNodes] = useState<CanvasNode[]>(() => buildNodes(group));
  const [edges, setEdges] = useState<QueueFlowEdge[]>([]);
  const [clipboard, setClipboard] = useState<string[]>([]);
  const [search, setSearch] = useState('');
  // Fit on first render only when there is something to fit (else the first added node is zoomed to).
  const [fitOnInit] = useState(() => nodes.length > 0);
  // The first viewport, fitted before React Flow first renders (from the canvas's size and the
  // nodes' initial sizes): a big flow then renders zoomed out at once, instead of in full detail at
  // zoom 1 until fitView has measured every node. React Flow still fits once it has measured them.
  const [initialViewport, setInitialViewport] = useState<Viewport | undefined>();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the first render's nodes only
  useLayoutEffect(() => {
    const box = wrapper.current?.getBoundingClientRect();
    setInitialViewport(
      fitOnInit && box !== undefined && box.width > 0 && box.height > 0
        ? getViewportForBounds(getNodesBounds(nodes), box.width, box.height, MIN_ZOOM, FIT.maxZoom, FIT.padding)
        : { x: 0, y: 0, zoom: 1 },
    );
  }, []);

  // Zoomed out, the overview draws the processors and the connections between them (Overview.tsx).
  // Until React Flow has set up its viewport, the initial one tells.
  const viewportReady = useStore(panZoomReady);
  const storeZoomedOut = useStore(zoomedOutSelector);
  const zoomedOut = viewportReady ? storeZoomedOut : (initialViewport?.zoom ?? 1) < DETAIL_ZOOM;
  const processorIds = useMemo(() => new Set(group.processors.map((p) => p.id)), [group]);
  const [flowEdges, overviewEdges] = useMemo(
    () =>
      zoomedOut
        ? [edges.filter((e) => !inOverview(e, processorIds)), edges.filter((e) => inOverview(e, processorIds))]
        : [edges, []],
    [edges, zoomedOut, processorIds],
  );

  const openConnection = useCallback((id: string) => open({ kind: 'connection', id }), [open]);

  // Rebuild from the flow, keeping the selection and the measured sizes (rebuild.ts).
  useEffect(() => {
    setNodes((previous) => rebuildNodes(previous, buildNodes(group)));
    setEdges((previous) => rebuildEdges(previous, buildEdges(group, openConnection)));
  }, [group, openConnection]);
  useMeasureStragglers(nodes);

  // Fit when entering a group that has something in it (not when the first component is added).
  const fittedGroup = useRef<string>(groupId);
  useEffect(() => {
    if (fittedGroup.current === groupId) return;
    fittedGroup.current = groupId;
    setTimeout(() => void flowApi.fitView(FIT), 50);
  }, [groupId, flowApi]);

  const onNodesChange = useCallback(
    (changes: NodeChange<CanvasNode>[]) =>
      setNodes((ns) => applyNodeChanges(canEdit ? changes : changes.filter((c) => c.type !== 'position'), ns)),
    [canEdit],
  );
  const onEdgesChange = useCallback(
    (changes: EdgeChange<QueueFlowEdge>[]) => setEdges((es) => applyEdgeChanges(changes, es)),
    [],
  );

  const run = useCallback(
    async (work: () => Promise<unknown>) => {
      try {
        await undo.serial(work);
      } catch (e) {
        notify(t('app.error', { message: errorMessage(e) }), 'error');
        await ctx.refresh();
      }
    },
    [notify, t, ctx, undo],
  );

  const selectedNodes = nodes.filter((n) => n.selected);
  const selectedEdges = edges.filter((e) => e.selected);
  const selectedIds = [...selectedNodes.map((n) => n.id), ...selectedEdges.map((e) => e.id)];

  const originalPosition = useCallback(
    (id: string) => {
      const n = buildNodes(group).find((node) => node.id === id);
      return n?.position ?? { x: 0, y: 0 };
    },
    [group],
  );

  const onNodeDragStop = useCallback(
    (_e: unknown, _node: CanvasNode, dragged: CanvasNode[]) => {
      if (!canEdit) return;
      const moves = dragged
        .map((n) => ({
          id: n.id,
          from: originalPosition(n.id),
          to: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
        }))
        .filter((m) => m.from.x !== m.to.x || m.from.y !== m.to.y);
      void run(() => actions.move(moves));
    },
    [actions, canEdit, originalPosition, run],
  );

  const onConnect = useCallback(
    (c: FlowConnection) => {
      if (!canEdit) return;
      const source = connectionEnd(c.source, c.sourceHandle);
      const destination = connectionEnd(c.target, c.targetHandle);
      if (group.processors.some((p) => p.id === source)) open({ kind: 'connect', sourceId: source, destinationId: destination });
      // A remote output port is a source with one relationship, success (flow-format.md).
      else if (remoteGroupOfPort(group, source) !== undefined) void run(() => actions.connect(source, destination, ['success']));
      else void run(() => actions.connect(source, destination, []));
    },
    [actions, canEdit, group, open, run],
  );

  const addAt = useCallback(
    (spec: PaletteSpec, position: { x: number; y: number }) => {
      const snapped = { x: Math.round(position.x / GRID) * GRID, y: Math.round(position.y / GRID) * GRID };
      if (spec.kind === 'remote-process-group') {
        // A Remote Process Group needs its URL first: the dialog creates it where it was dropped.
        open({ kind: 'remote-new', position: snapped });
        return;
      }
      if (spec.kind !== 'snippet') {
        void run(() => actions.add(spec, snapped));
        return;
      }
      void run(async () => {
        const snippet = await ctx.snippets.fetch(spec.name);
        await actions.pasteFragment(snippet.fragment, offsetTo(snippet.fragment, snapped));
      });
    },
    [actions, run, ctx.snippets, open],
  );

  const onDrop = useCallback(
    (event: DragEvent) => {
      event.preventDefault();
      const raw = event.dataTransfer.getData(PALETTE_MIME);
      if (raw === '' || !canEdit) return;
      const spec = paletteSpec(raw);
      if (spec !== undefined) addAt(spec, flowApi.screenToFlowPosition({ x: event.clientX, y: event.clientY }));
    },
    [addAt, canEdit, flowApi],
  );

  const addInMiddle = useCallback(
    (spec: PaletteSpec) => {
      const box = wrapper.current?.getBoundingClientRect();
      const center = box === undefined ? { x: 0, y: 0 } : { x: box.left + box.width / 2, y: box.top + box.height / 2 };
      const p = flowApi.screenToFlowPosition(center);
      addAt(spec, { x: p.x - 110, y: p.y - 40 });
    },
    [addAt, flowApi],
  );

  const deleteSelection = () => {
    if (!canEdit || selectedIds.length === 0) return;
    void run(() => actions.remove(selectedIds));
  };

  const runnable = selectedNodes
    .filter((n) => n.type === 'processor' || n.type === 'port' || n.type === 'funnel' || n.type === 'remote')
    .map((n) => n.id);
  const setRunState = (state: 'RUNNING' | 'STOPPED') =>
    void run(async () => {
      if (runnable.length === 0) {
        await actions.setGroupRunState(groupId, state);
        return;
      }
      const failures = await actions.setRunState(runnable, state);
      for (const f of failures) notify(t('toolbar.startFailed', { name: f.name, reason: f.reason }), 'error');
    });

  const configure = () => {
    const [node] = selectedNodes;
    const [edge] = selectedEdges;
    if (selectedNodes.length === 1 && node?.type === 'processor') open({ kind: 'configure', id: node.id });
    else if (selectedNodes.length === 1 && node?.type === 'label') open({ kind: 'label', id: node.id });
    else if (selectedNodes.length === 1 && node?.type === 'remote') open({ kind: 'remote', id: node.id });
    else if (selectedNodes.length === 0 && selectedEdges.length === 1 && edge !== undefined)
      open({ kind: 'connection', id: edge.id });
  };

  // Status history: one processor or one connection selected.
  const [onlyNode] = selectedNodes;
  const [onlyEdge] = selectedEdges;
  const historyTarget =
    selectedIds.length !== 1
      ? undefined
      : onlyNode?.type === 'processor'
        ? { id: onlyNode.id, name: onlyNode.data.processor.name }
        : onlyEdge !== undefined
          ? {
              id: onlyEdge.id,
              name: onlyEdge.data?.connection.name ?? onlyEdge.data?.connection.relationships.join(', ') ?? onlyEdge.id,
            }
          : undefined;
  const openHistory = () => {
    if (historyTarget !== undefined) open({ kind: 'history', ...historyTarget });
  };

  const layout = () =>
    void run(async () => {
      const positions = await layeredLayout({
        nodes: nodes.map((n) => ({ id: n.id, width: n.measured?.width ?? 220, height: n.measured?.height ?? 100 })),
        links: edges.map((e) => ({ source: e.source, target: e.target })),
      });
      await actions.move(
        nodes.flatMap((n) => {
          const to = positions.get(n.id);
          return to === undefined ? [] : [{ id: n.id, from: n.position, to: { x: Math.round(to.x), y: Math.round(to.y) } }];
        }),
      );
      requestAnimationFrame(() => void flowApi.fitView(FIT));
    });

  const alignLeft = () => {
    const x = Math.min(...selectedNodes.map((n) => n.position.x));
    void run(() => actions.move(selectedNodes.map((n) => ({ id: n.id, from: n.position, to: { x, y: n.position.y } }))));
  };

  const groupSelection = () => {
    const components = selectedNodes.map((n) => n.id);
    if (components.length === 0) return;
    const x = Math.min(...selectedNodes.map((n) => n.position.x));
    const y = Math.min(...selectedNodes.map((n) => n.position.y));
    void run(() => actions.groupSelection(components, t('toolbar.newGroupName'), { x, y }));
  };

  const findComponent = () => {
    const query = search.trim().toLowerCase();
    if (query === '') return;
    const found = allProcessors(root).find((p) => p.name.toLowerCase().includes(query) || p.id === query);
    if (found === undefined) return;
    const parent = parentOf(root, found.id);
    if (parent !== undefined) ctx.setGroupId(parent.id);
    setNodes((ns) => ns.map((n) => ({ ...n, selected: n.id === found.id })));
    const p = found.position ?? { x: 0, y: 0 };
    requestAnimationFrame(() => void flowApi.setCenter(p.x + 110, p.y + 50, { zoom: 1, duration: 300 }));
  };

  // Keyboard shortcuts: Delete, Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y, Ctrl+C / Ctrl+V, Ctrl+A.
  // The handler sees this render's selection; the listener is registered once.
  const onKeyRef = useRef<(e: KeyboardEvent) => void>(undefined);
  onKeyRef.current = (e: KeyboardEvent) => {
    if (dialogOpen || isTyping(e.target)) return;
    const mod = e.ctrlKey || e.metaKey;
    if ((e.key === 'Delete' || e.key === 'Backspace') && canEdit) {
      e.preventDefault();
      deleteSelection();
    } else if (mod && e.key.toLowerCase() === 'z' && canEdit) {
      e.preventDefault();
      void run(() => (e.shiftKey ? undo.redo() : undo.undo()));
    } else if (mod && e.key.toLowerCase() === 'y' && canEdit) {
      e.preventDefault();
      void run(() => undo.redo());
    } else if (mod && e.key.toLowerCase() === 'c') {
      setClipboard(selectedNodes.map((n) => n.id));
    } else if (mod && e.key.toLowerCase() === 'v' && canEdit && clipboard.length > 0) {
      e.preventDefault();
      void run(() => actions.paste(clipboard));
    } else if (mod && e.key.toLowerCase() === 'a') {
      e.preventDefault();
      setNodes((ns) => ns.map((n) => ({ ...n, selected: true })));
    }
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => onKeyRef.current?.(e);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const undoState = ctx.undoState;
  const path = groupPath(root, groupId);

  return (
    <div className="workspace">
      {canEdit && <Palette onAdd={addInMiddle} />}
      <div className="canvas-column">
        <nav className="breadcrumbs" aria-label={t('breadcrumbs.label')} data-testid="breadcrumbs">
          {path.map((g, i) => (
            <span key={g.id}>
              {i > 0 && ' › '}
              <button
                type="button"
                className="link"
                data-testid={`breadcrumb-${g.id}`}
                disabled={g.id === groupId}
                onClick={() => ctx.setGroupId(g.id)}
              >
                {g.name}
              </button>
            </span>
          ))}
        </nav>
        <div className="toolbar" role="toolbar" data-testid="toolbar">
          {canOperate && (
            <>
              <button type="button" data-testid="toolbar-start" onClick={() => setRunState('RUNNING')}>
                ▶ {runnable.length > 0 ? t('toolbar.start') : t('toolbar.startGroup')}
              </button>
              <button type="button" data-testid="toolbar-stop" onClick={() => setRunState('STOPPED')}>
                ■ {runnable.length > 0 ? t('toolbar.stop') : t('toolbar.stopGroup')}
              </button>
            </>
          )}
          <button type="button" data-testid="toolbar-configure" onClick={configure} disabled={selectedIds.length !== 1}>
            ⚙ {t('toolbar.configure')}
          </button>
          {canEdit && (
            <>
              <button type="button" data-testid="toolbar-delete" onClick={deleteSelection} disabled={selectedIds.length === 0}>
                ✕ {t('toolbar.delete')}
              </button>
              <button
                type="button"
                data-testid="toolbar-undo"
                disabled={undoState[0] !== '1'}
                onClick={() => void run(() => undo.undo())}
              >
                ↶ {t('toolbar.undo')}
              </button>
              <button
                type="button"
                data-testid="toolbar-redo"
                disabled={undoState[1] !== '1'}
                onClick={() => void run(() => undo.redo())}
              >
                ↷ {t('toolbar.redo')}
              </button>
              <button
                type="button"
                data-testid="toolbar-copy"
                disabled={selectedNodes.length === 0}
                onClick={() => setClipboard(selectedNodes.map((n) => n.id))}
              >
                {t('toolbar.copy')}
              </button>
              <button
                type="button"
                data-testid="toolbar-paste"
                disabled={clipboard.length === 0}
                onClick={() => void run(() => actions.paste(clipboard))}
              >
                {t('toolbar.paste')}
              </button>
              <button
                type="button"
                data-testid="toolbar-snippet"
                disabled={selectedNodes.length === 0}
                onClick={() => open({ kind: 'snippet', ids: selectedNodes.map((n) => n.id) })}
              >
                {t('toolbar.saveSnippet')}
              </button>
              <button type="button" data-testid="toolbar-group" disabled={selectedNodes.length === 0} onClick={groupSelection}>
                {t('toolbar.group')}
              </button>
              <button type="button" data-testid="toolbar-align" disabled={selectedNodes.length < 2} onClick={alignLeft}>
                {t('toolbar.align')}
              </button>
              <button type="button" data-testid="toolbar-layout" onClick={layout}>
                {t('toolbar.layout')}
              </button>
            </>
          )}
          <button type="button" data-testid="toolbar-history" disabled={historyTarget === undefined} onClick={openHistory}>
            {t('toolbar.history')}
          </button>
          <button type="button" data-testid="toolbar-fit" onClick={() => void flowApi.fitView(FIT)}>
            ⤢ {t('toolbar.fit')}
          </button>
          <input
            className="component-search"
            data-testid="component-search"
            placeholder={t('toolbar.searchComponents')}
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') findComponent();
            }}
          />
          {selectedIds.length > 0 && (
            <span className="selection-count">{t('toolbar.selected', { count: selectedIds.length })}</span>
          )}
          {!canEdit && (
            <span className="read-only" data-testid="read-only">
              {t('toolbar.readOnly')}
            </span>
          )}
        </div>
        <div
          className="canvas"
          role="application"
          aria-label={t('breadcrumbs.label')}
          ref={wrapper}
          onDragOver={(e) => e.preventDefault()}
          onDrop={onDrop}
          onPointerDownCapture={capturePanPointer}
          data-testid="canvas"
        >
          <ZoomedOutContext.Provider value={zoomedOut}>
            {initialViewport !== undefined && (
              <ReactFlow<CanvasNode, QueueFlowEdge>
                nodes={nodes}
                edges={flowEdges}
                nodeTypes={nodeTypes}
                edgeTypes={edgeTypes}
                onNodesChange={onNodesChange}
                onEdgesChange={onEdgesChange}
                onNodeDragStop={onNodeDragStop}
                onConnect={onConnect}
                onNodeDoubleClick={(_e, node) => {
                  if (node.type === 'processor') open({ kind: 'configure', id: node.id });
                  else if (node.type === 'group') ctx.setGroupId(node.id);
                  else if (node.type === 'label') open({ kind: 'label', id: node.id });
                  else if (node.type === 'remote') open({ kind: 'remote', id: node.id });
                }}
                onEdgeDoubleClick={(_e, edge) => openConnection(edge.id)}
                nodesDraggable={canEdit}
                nodesConnectable={canEdit}
                deleteKeyCode={null}
                selectionKeyCode="Shift"
                multiSelectionKeyCode={['Meta', 'Control']}
                // d3-zoom's double-click zoom swallows double-clicks on nodes that are not draggable (viewers).
                zoomOnDoubleClick={false}
                snapToGrid
                snapGrid={[GRID, GRID]}
                minZoom={MIN_ZOOM}
                maxZoom={2}
                fitView={fitOnInit}
                fitViewOptions={FIT}
                defaultViewport={initialViewport}
                // Zoomed in on a big flow only a few dozen nodes are on screen: React Flow renders just
                // those (zoomed out the overview draws everything and the nodes are cheap, invisible boxes).
                onlyRenderVisibleElements={!zoomedOut && nodes.length > MINIMAP_LIMIT}
                proOptions={{ hideAttribution: true }}
              >
                {/* Like the minimap, the dotted background repaints on every pan frame; big flows go without. */}
                {nodes.length <= MINIMAP_LIMIT && <Background gap={GRID * 2} />}
                {/* The minimap redraws every node on every pan frame: past a few hundred it costs more than it shows. */}
                {nodes.length <= MINIMAP_LIMIT && <MiniMap pannable zoomable data-testid="minimap" />}
                <Controls showInteractive={false} />
                {zoomedOut && <Overview nodes={nodes} edges={overviewEdges} />}
              </ReactFlow>
            )}
          </ZoomedOutContext.Provider>
        </div>
      </div>
    </div>
  );
}

/** Parses what the palette put in a drag: a component spec. */
export function paletteSpec(raw: string): PaletteSpec | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null || !('kind' in value)) return undefined;
    const fields = new Map<string, unknown>(Object.entries(value));
    const kind = fields.get('kind');
    const text = (key: string) => String(fields.get(key) ?? '');
    switch (kind) {
      case 'processor':
        return { kind, type: text('type') };
      case 'process-group':
      case 'input-port':
      case 'output-port':
        return { kind, name: text('name') };
      case 'label':
        return { kind, text: text('text') };
      case 'snippet':
        return { kind, name: text('name') };
      case 'funnel':
        return { kind };
      case 'remote-process-group':
        return { kind, settings: { targetUris: '' } };
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}
