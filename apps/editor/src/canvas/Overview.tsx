import { getBezierPath, Position, ViewportPortal } from '@xyflow/react';
import { memo, useMemo, useSyncExternalStore } from 'react';
import { statusStore } from '../status-store.ts';
import type { CanvasNode } from './nodes.tsx';
import type { QueueFlowEdge } from './QueueEdge.tsx';

/** A processor's box when zoomed out (`.processor-node.simple` in styles.css has the same size). */
export const SIMPLE_WIDTH = 220;
export const SIMPLE_HEIGHT = 96;
/** Where a connection ends beyond the box: half of React Flow's 8 px handle (see LiteHandles). */
const HANDLE_OFFSET = 4;
/** React Flow's closed arrow marker at stroke width 1: 12.5 / 20 of its -5..0 by -4..4 polyline. */
const ARROW_LENGTH = 3.125;
const ARROW_HALF_WIDTH = 2.5;

/** What a processor shows when zoomed out: its run state, INVALID when stopped with problems. */
export function shownState(id: string, configured: string): string {
  const status = statusStore.component(id);
  const runState = status?.runState ?? configured;
  return runState === 'STOPPED' && (status?.validationErrors.length ?? 0) > 0 ? 'INVALID' : runState;
}

/** A processor's shown state, re-rendering only when it changes (not on every status push). */
export function useShownState(id: string, configured: string): string {
  return useSyncExternalStore(statusStore.subscribe, () => shownState(id, configured));
}

/**
 * Whether a connection is drawn by the overview when zoomed out: one between two processors, not
 * selected (a selected one stays with React Flow, highlighted).
 */
export function inOverview(edge: QueueFlowEdge, processors: ReadonlySet<string>): boolean {
  return (
    edge.selected !== true &&
    processors.has(edge.source) &&
    processors.has(edge.target) &&
    edge.sourceHandle == null &&
    edge.targetHandle == null
  );
}

const Box = memo(function Box({
  id,
  x,
  y,
  configured,
  selected,
}: {
  id: string;
  x: number;
  y: number;
  configured: string;
  selected: boolean;
}) {
  const shown = useShownState(id, configured);
  return (
    <rect
      className={`overview-box state-${shown}${selected ? ' selected' : ''}`}
      x={x + 2}
      y={y + 2}
      width={SIMPLE_WIDTH - 4}
      height={SIMPLE_HEIGHT - 4}
      rx={4}
    />
  );
});

/** The ids of the given connections whose queue is full, as one string (a stable snapshot). */
function fullKey(ids: readonly string[]): string {
  let key = '';
  for (const id of ids) if (statusStore.connection(id)?.full === true) key += `${id}\n`;
  return key;
}

/**
 * The zoomed-out canvas of a big flow in one SVG under the nodes: processors as boxes coloured by
 * state and the connections between them as two paths (normal and full queues) with their arrows.
 * React Flow keeps the processors as invisible nodes (selection, dragging, double-click, tooltip)
 * but draws neither their boxes nor these connections: a thousand separately transformed boxes
 * and SVGs cost the browser most of every pan frame, one SVG almost nothing.
 */
export function Overview({ nodes, edges }: { nodes: readonly CanvasNode[]; edges: readonly QueueFlowEdge[] }) {
  const positions = useMemo(() => {
    const map = new Map<string, { x: number; y: number }>();
    for (const n of nodes) if (n.type === 'processor') map.set(n.id, n.position);
    return map;
  }, [nodes]);
  const ids = useMemo(() => edges.map((e) => e.id), [edges]);
  const full = useSyncExternalStore(statusStore.subscribe, () => fullKey(ids));
  const paths = useMemo(() => {
    const fullIds = new Set(full.split('\n'));
    const lines = { normal: [] as string[], full: [] as string[] };
    const arrows = { normal: [] as string[], full: [] as string[] };
    for (const e of edges) {
      const from = positions.get(e.source);
      const to = positions.get(e.target);
      if (from === undefined || to === undefined) continue;
      const targetX = to.x + SIMPLE_WIDTH / 2;
      const targetY = to.y - HANDLE_OFFSET;
      const [path] = getBezierPath({
        sourceX: from.x + SIMPLE_WIDTH / 2,
        sourceY: from.y + SIMPLE_HEIGHT + HANDLE_OFFSET,
        sourcePosition: Position.Bottom,
        targetX,
        targetY,
        targetPosition: Position.Top,
      });
      const kind = fullIds.has(e.id) ? 'full' : 'normal';
      lines[kind].push(path);
      // A bezier into a top handle arrives straight down: the arrow points down.
      arrows[kind].push(
        `M${targetX},${targetY}L${targetX - ARROW_HALF_WIDTH},${targetY - ARROW_LENGTH}L${targetX + ARROW_HALF_WIDTH},${targetY - ARROW_LENGTH}Z`,
      );
    }
    return { lines, arrows };
  }, [edges, positions, full]);
  return (
    <ViewportPortal>
      <svg className="overview" data-testid="overview" aria-hidden="true">
        <path className="overview-edges" d={paths.lines.normal.join('')} />
        <path className="overview-arrows" d={paths.arrows.normal.join('')} />
        <path className="overview-edges full" d={paths.lines.full.join('')} />
        <path className="overview-arrows full" d={paths.arrows.full.join('')} />
        {nodes.map((n) =>
          n.type === 'processor' ? (
            <Box
              key={n.id}
              id={n.id}
              x={n.position.x}
              y={n.position.y}
              configured={n.data.processor.state}
              selected={n.selected ?? false}
            />
          ) : null,
        )}
      </svg>
    </ViewportPortal>
  );
}
