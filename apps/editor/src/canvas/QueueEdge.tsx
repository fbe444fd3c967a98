import type { Connection, ConnectionStatusDto } from '@sluice/protocol';
import { BaseEdge, type Edge, EdgeLabelRenderer, type EdgeProps, getBezierPath } from '@xyflow/react';
import { memo } from 'react';
import { useTranslation } from 'react-i18next';
import { fillLevel, formatBytes, formatCount } from '../format.ts';
import { useConnectionStatus } from '../status-store.ts';
import { useZoomedOut } from './nodes.tsx';

export type QueueEdgeData = { connection: Connection; onOpen: (id: string) => void };
export type QueueFlowEdge = Edge<QueueEdgeData, 'queue'>;

function FillBar({ ratio, testId, title }: { ratio: number; testId: string; title: string }) {
  const clamped = Math.max(0, Math.min(1, ratio));
  return (
    <div className="fill-bar" title={title}>
      <div
        className={`fill fill-${fillLevel(clamped)}`}
        data-testid={testId}
        data-level={fillLevel(clamped)}
        data-ratio={clamped.toFixed(3)}
        style={{ width: `${clamped * 100}%` }}
      />
    </div>
  );
}

/** A connection: relationships, queued count and size, and fill bars against both thresholds. */
export const QueueEdge = memo(function QueueEdge(props: EdgeProps<QueueFlowEdge>) {
  const { id, data, selected } = props;
  const status = useConnectionStatus(id);
  const [path, labelX, labelY] = getBezierPath(props);
  const zoomedOut = useZoomedOut();
  if (data === undefined || zoomedOut)
    // Zoomed out: no label and no wide invisible hit path (hit-testing 1,000 of them makes panning stutter).
    return (
      <BaseEdge
        path={path}
        markerEnd={props.markerEnd}
        interactionWidth={0}
        className={status?.full === true ? 'edge-lite edge-full' : 'edge-lite'}
      />
    );
  return (
    <QueueLabel
      id={id}
      connection={data.connection}
      onOpen={data.onOpen}
      selected={selected ?? false}
      status={status}
      path={path}
      labelX={labelX}
      labelY={labelY}
      markerEnd={props.markerEnd}
    />
  );
});

function QueueLabel({
  id,
  connection,
  onOpen,
  selected,
  status,
  path,
  labelX,
  labelY,
  markerEnd,
}: {
  id: string;
  connection: Connection;
  onOpen: (id: string) => void;
  selected: boolean;
  status: ConnectionStatusDto | undefined;
  path: string;
  labelX: number;
  labelY: number;
  markerEnd: string | undefined;
}) {
  const { t } = useTranslation();
  const queued = status?.queued ?? { count: 0, bytes: 0 };
  const fill = status?.fill ?? { count: 0, bytes: 0 };
  return (
    <>
      <BaseEdge path={path} markerEnd={markerEnd} className={selected ? 'edge-selected' : ''} />
      <EdgeLabelRenderer>
        {/* biome-ignore lint/a11y/noStaticElementInteractions: a double-click shortcut; the toolbar's Configure opens the same dialog from the keyboard */}
        <div
          className={`edge-label nodrag nopan${selected ? ' selected' : ''}${status?.full === true ? ' full' : ''}`}
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          data-testid="connection-label"
          data-connection-id={id}
          data-queued={queued.count}
          onDoubleClick={(e) => {
            // The label is portalled but its React events still bubble to the edge (which opens it too).
            e.stopPropagation();
            onOpen(id);
          }}
          title={status?.full === true ? t('edge.full') : undefined}
        >
          <div className="edge-name">{connection.name ?? connection.relationships.join(', ')}</div>
          <div className="edge-queued" data-testid="queued">
            {t('edge.queued', { count: formatCount(queued.count), size: formatBytes(queued.bytes) })}
          </div>
          <FillBar
            ratio={fill.count}
            testId="fill-count"
            title={t('edge.objectFill', { percent: Math.round(fill.count * 100) })}
          />
          <FillBar ratio={fill.bytes} testId="fill-size" title={t('edge.sizeFill', { percent: Math.round(fill.bytes * 100) })} />
        </div>
      </EdgeLabelRenderer>
    </>
  );
}

export const edgeTypes = { queue: QueueEdge };
