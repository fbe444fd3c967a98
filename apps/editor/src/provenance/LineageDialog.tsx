import {
  Background,
  Controls,
  type Edge,
  Handle,
  MarkerType,
  type Node,
  type NodeProps,
  Position,
  ReactFlow,
} from '@xyflow/react';
import { memo, useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { call, errorMessage, type Reply } from '../api.ts';
import { Dialog } from '../dialogs/Dialog.tsx';
import { useEditor } from '../editor-context.ts';
import { formatTime } from '../format.ts';
import { layeredLayout } from '../layout.ts';

type Graph = Reply<'getLineage'>;
type GraphNode = Graph['nodes'][number];
type EventGraphNode = Extract<GraphNode, { kind: 'event' }>;

type LineageNode = Node<{ node: GraphNode; focus: boolean }, 'lineage'>;

const EXPANDABLE = new Set(['FORK', 'JOIN', 'CLONE', 'REPLAY']);
const SIZE = { flowfile: { width: 36, height: 36 }, event: { width: 170, height: 56 } };

const LineageNodeView = memo(function LineageNodeView({ data }: NodeProps<LineageNode>) {
  const { node, focus } = data;
  return (
    <>
      <Handle type="target" position={Position.Top} isConnectable={false} />
      {node.kind === 'flowfile' ? (
        <div className={`lineage-flowfile${focus ? ' focus' : ''}`} data-testid="lineage-flowfile" title={node.uuid} />
      ) : (
        <div
          className={`lineage-event type-${node.eventType}${EXPANDABLE.has(node.eventType) ? ' expandable' : ''}`}
          data-testid="lineage-event"
          data-event-type={node.eventType}
          data-event-id={node.eventId}
          title={formatTime(node.eventTime)}
        >
          <strong>{node.eventType}</strong>
          <span>{node.componentName ?? node.componentId}</span>
        </div>
      )}
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </>
  );
});

const lineageNodeTypes = { lineage: LineageNodeView };

function merge(a: Graph, b: Graph): Graph {
  const ids = new Set(a.nodes.map((n) => n.id));
  const links = new Set(a.links.map((l) => `${l.source}>${l.target}`));
  return {
    nodes: [...a.nodes, ...b.nodes.filter((n) => !ids.has(n.id))],
    links: [...a.links, ...b.links.filter((l) => !links.has(`${l.source}>${l.target}`))],
    truncated: a.truncated || b.truncated,
  };
}

/** The lineage graph of a FlowFile, laid out by elkjs; click an event to open it, double-click to expand. */
export function LineageDialog({ uuid }: { uuid: string }) {
  const { t } = useTranslation();
  const { open } = useEditor();
  const [graph, setGraph] = useState<Graph | undefined>();
  const [nodes, setNodes] = useState<LineageNode[]>([]);
  const [edges, setEdges] = useState<Edge[]>([]);
  const [error, setError] = useState<string | undefined>();
  // A click opens the event a moment later, unless it was the first half of a double-click (expand).
  const pendingClick = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const cancelClick = useCallback(() => {
    clearTimeout(pendingClick.current);
    pendingClick.current = undefined;
  }, []);
  useEffect(() => cancelClick, [cancelClick]);

  useEffect(() => {
    call('getLineage', { query: { uuid } }).then(setGraph, (e: unknown) => setError(errorMessage(e)));
  }, [uuid]);

  useEffect(() => {
    if (graph === undefined) return;
    let cancelled = false;
    layeredLayout({ nodes: graph.nodes.map((n) => ({ id: n.id, ...SIZE[n.kind] })), links: graph.links }, 40).then(
      (positions) => {
        if (cancelled) return;
        setNodes(
          graph.nodes.map((n) => ({
            id: n.id,
            type: 'lineage',
            position: positions.get(n.id) ?? { x: 0, y: 0 },
            data: { node: n, focus: n.kind === 'flowfile' && n.uuid === uuid },
            draggable: false,
            connectable: false,
          })),
        );
        setEdges(
          graph.links.map((l, i) => ({
            id: `l${i}`,
            source: l.source,
            target: l.target,
            markerEnd: { type: MarkerType.ArrowClosed },
          })),
        );
      },
      (e: unknown) => setError(errorMessage(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [graph, uuid]);

  const expand = useCallback(
    async (node: EventGraphNode) => {
      if (!EXPANDABLE.has(node.eventType) || graph === undefined) return;
      try {
        const [parents, children] = await Promise.all([
          call('expandParents', { params: { eventId: node.eventId } }),
          call('expandChildren', { params: { eventId: node.eventId } }),
        ]);
        setGraph(merge(merge(graph, parents), children));
      } catch (e) {
        setError(errorMessage(e));
      }
    },
    [graph],
  );

  return (
    <Dialog title={t('provenance.lineageHeading', { uuid })} testId="lineage-dialog" wide>
      <p className="hint">{t('provenance.lineageHint')}</p>
      {graph?.truncated === true && <p className="hint">{t('provenance.truncated')}</p>}
      {error !== undefined && <p className="error">{error}</p>}
      <div className="lineage-canvas" data-testid="lineage-graph" data-nodes={nodes.length}>
        {nodes.length > 0 && (
          <ReactFlow<LineageNode, Edge>
            nodes={nodes}
            edges={edges}
            nodeTypes={lineageNodeTypes}
            fitView
            fitViewOptions={{ padding: 0.2, maxZoom: 1.2 }}
            nodesConnectable={false}
            nodesDraggable={false}
            zoomOnDoubleClick={false}
            onNodeClick={(e, n) => {
              const node = n.data.node;
              cancelClick();
              if (node.kind !== 'event' || e.detail > 1) return;
              pendingClick.current = setTimeout(() => open({ kind: 'event', eventId: node.eventId }), 300);
            }}
            onNodeDoubleClick={(_e, n) => {
              cancelClick();
              if (n.data.node.kind === 'event') void expand(n.data.node);
            }}
            minZoom={0.05}
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <Controls showInteractive={false} />
          </ReactFlow>
        )}
      </div>
    </Dialog>
  );
}
