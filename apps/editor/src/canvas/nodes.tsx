import type { ComponentStatusDto, ProcessGroup, Processor } from '@sluice/protocol';
import { Handle, type Node, type NodeProps, Position, type ReactFlowState, useStore } from '@xyflow/react';
import { memo } from 'react';
import { useTranslation } from 'react-i18next';
import { formatBytes, formatCount } from '../format.ts';
import { useBulletinCount, useComponentStatus } from '../status-store.ts';

export type ProcessorNodeData = { processor: Processor };
export type GroupNodeData = { group: ProcessGroup; count: number };
export type PortNodeData = { name: string; kind: 'input-port' | 'output-port'; state: string };
export type LabelNodeData = { text: string; width: number; height: number };

export type ProcessorFlowNode = Node<ProcessorNodeData, 'processor'>;
export type GroupFlowNode = Node<GroupNodeData, 'group'>;
export type PortFlowNode = Node<PortNodeData, 'port'>;
export type FunnelFlowNode = Node<Record<string, never>, 'funnel'>;
export type LabelFlowNode = Node<LabelNodeData, 'label'>;
export type CanvasNode = ProcessorFlowNode | GroupFlowNode | PortFlowNode | FunnelFlowNode | LabelFlowNode;

const STATE_ICON: Record<string, string> = {
  RUNNING: '▶',
  STOPPED: '■',
  STARTING: '▷',
  STOPPING: '□',
  DISABLED: '⊘',
  INVALID: '⚠',
};

/** Below this zoom the canvas draws plain boxes: text nobody can read only costs frames. */
export const DETAIL_ZOOM = 0.45;
const zoomedOutSelector = (s: ReactFlowState) => s.transform[2] < DETAIL_ZOOM;

/** Whether the canvas is zoomed out too far for details (re-renders only when that flips). */
export function useZoomedOut(): boolean {
  return useStore(zoomedOutSelector);
}

function Handles() {
  return (
    <>
      <Handle type="target" position={Position.Top} data-testid="handle-target" />
      <Handle type="source" position={Position.Bottom} data-testid="handle-source" />
    </>
  );
}

/** A processor: name, type, run state, validity (hover lists problems), 5-minute in/out, bulletins. */
export const ProcessorNode = memo(function ProcessorNode({ id, data, selected }: NodeProps<ProcessorFlowNode>) {
  const status = useComponentStatus(id);
  const { processor } = data;
  const allProblems = status?.validationErrors ?? [];
  const runState = status?.runState ?? processor.state;
  const shown = runState === 'STOPPED' && allProblems.length > 0 ? 'INVALID' : runState;
  const zoomedOut = useZoomedOut();
  if (zoomedOut) {
    // No translation or bulletin subscriptions here: a zoomed-out canvas may hold thousands of these.
    return (
      <div
        className={`node processor-node simple state-${shown}${selected ? ' selected' : ''}`}
        data-testid="processor-node"
        data-name={processor.name}
        data-state={shown}
        data-live={status === undefined ? 'no' : 'yes'}
        title={processor.name}
      >
        <Handles />
      </div>
    );
  }
  return (
    <ProcessorDetails id={id} processor={processor} status={status} shown={shown} problems={allProblems} selected={selected} />
  );
});

function ProcessorDetails({
  id,
  processor,
  status,
  shown,
  problems: allProblems,
  selected,
}: {
  id: string;
  processor: Processor;
  status: ComponentStatusDto | undefined;
  shown: string;
  problems: readonly string[];
  selected: boolean;
}) {
  const { t } = useTranslation();
  const bulletins = useBulletinCount(id);
  return (
    <div
      className={`node processor-node state-${shown}${selected ? ' selected' : ''}`}
      data-testid="processor-node"
      data-name={processor.name}
      data-state={shown}
      data-live={status === undefined ? 'no' : 'yes'}
    >
      <Handles />
      <div className="node-head">
        <span className="run-state" data-testid="run-state" title={t(`state.${shown}`)}>
          {STATE_ICON[shown] ?? '?'}
        </span>
        <strong className="node-name">{processor.name}</strong>
        {bulletins > 0 && (
          <span className="bulletin-marker" data-testid="bulletin-marker" title={t('node.bulletins', { count: bulletins })}>
            ●
          </span>
        )}
      </div>
      <div className="node-type">{processor.type}</div>
      {allProblems.length > 0 && (
        <div className="problems" data-testid="validation-marker" tabIndex={-1}>
          <span>⚠ {allProblems.length}</span>
          <div className="problems-list" role="tooltip" data-testid="validation-problems">
            <strong>{t('node.invalid')}</strong>
            <ul>
              {allProblems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        </div>
      )}
      <table className="node-stats">
        <tbody>
          <tr>
            <th>{t('node.in')}</th>
            <td data-testid="stat-in" data-count={status?.input.count ?? 0}>
              {formatCount(status?.input.count ?? 0)} ({formatBytes(status?.input.bytes ?? 0)})
            </td>
            <td rowSpan={2} className="stat-window">
              {t('node.fiveMin')}
            </td>
          </tr>
          <tr>
            <th>{t('node.out')}</th>
            <td data-testid="stat-out" data-count={status?.output.count ?? 0}>
              {formatCount(status?.output.count ?? 0)} ({formatBytes(status?.output.bytes ?? 0)})
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

/** A process group: double-click to enter. */
export const GroupNode = memo(function GroupNode({ data, selected }: NodeProps<GroupFlowNode>) {
  const { t } = useTranslation();
  return (
    <div className={`node group-node${selected ? ' selected' : ''}`} data-testid="group-node" data-name={data.group.name}>
      <Handles />
      <div className="node-head">
        <span className="group-icon">▣</span>
        <strong className="node-name">{data.group.name}</strong>
      </div>
      <div className="node-type">{t('node.groupContents', { count: data.count })}</div>
    </div>
  );
});

export const PortNode = memo(function PortNode({ data, selected }: NodeProps<PortFlowNode>) {
  const { t } = useTranslation();
  return (
    <div className={`node port-node${selected ? ' selected' : ''}`} data-testid="port-node" data-name={data.name}>
      <Handles />
      <span className="port-icon">{data.kind === 'input-port' ? '⇥' : '↦'}</span> {data.name}
      <div className="node-type">{t(data.kind === 'input-port' ? 'palette.inputPort' : 'palette.outputPort')}</div>
    </div>
  );
});

export const FunnelNode = memo(function FunnelNode({ selected }: NodeProps<FunnelFlowNode>) {
  const { t } = useTranslation();
  return (
    <div className={`node funnel-node${selected ? ' selected' : ''}`} data-testid="funnel-node" title={t('palette.funnel')}>
      <Handles />⏷
    </div>
  );
});

export const LabelNode = memo(function LabelNode({ data, selected }: NodeProps<LabelFlowNode>) {
  return (
    <div
      className={`node label-node${selected ? ' selected' : ''}`}
      data-testid="label-node"
      style={{ width: data.width, height: data.height }}
    >
      {data.text}
    </div>
  );
});

export const nodeTypes = {
  processor: ProcessorNode,
  group: GroupNode,
  port: PortNode,
  funnel: FunnelNode,
  label: LabelNode,
};
