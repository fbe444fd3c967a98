import type { ComponentStatusDto, ProcessGroup, Processor, RemotePort, RemoteProcessGroup } from '@sluice/protocol';
import { Handle, type Node, type NodeProps, Position, type ReactFlowState, useUpdateNodeInternals } from '@xyflow/react';
import { createContext, memo, useContext, useEffect, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { formatBytes, formatCount } from '../format.ts';
import { statusStore, useBulletinCount, useComponentStatus } from '../status-store.ts';
import { useShownState } from './Overview.tsx';

export type ProcessorNodeData = { processor: Processor };
export type GroupNodeData = { group: ProcessGroup; count: number };
export type PortNodeData = { name: string; kind: 'input-port' | 'output-port'; state: string };
export type LabelNodeData = { text: string; width: number; height: number };

export type ProcessorFlowNode = Node<ProcessorNodeData, 'processor'>;
export type GroupFlowNode = Node<GroupNodeData, 'group'>;
export type PortFlowNode = Node<PortNodeData, 'port'>;
export type FunnelFlowNode = Node<Record<string, never>, 'funnel'>;
export type LabelFlowNode = Node<LabelNodeData, 'label'>;
export type RemoteFlowNode = Node<{ remote: RemoteProcessGroup }, 'remote'>;
export type CanvasNode = ProcessorFlowNode | GroupFlowNode | PortFlowNode | FunnelFlowNode | LabelFlowNode | RemoteFlowNode;

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
export const zoomedOutSelector = (s: ReactFlowState) => s.transform[2] < DETAIL_ZOOM;

/**
 * Whether the canvas is zoomed out too far for details, provided by the canvas: one store
 * subscription for the whole canvas (one per node and connection ran thousands of selectors on
 * every pan frame).
 */
export const ZoomedOutContext = createContext(false);

/** Whether the canvas is zoomed out too far for details (re-renders only when that flips). */
export function useZoomedOut(): boolean {
  return useContext(ZoomedOutContext);
}

function Handles() {
  return (
    <>
      <Handle type="target" position={Position.Top} data-testid="handle-target" />
      <Handle type="source" position={Position.Bottom} data-testid="handle-source" />
    </>
  );
}

/**
 * Zoomed out, a processor's handles only tell React Flow where its connections end: two invisible,
 * untransformed boxes placed like the real handles, with the classes React Flow measures. No store
 * subscription, no paint, no hit-testing (thousands of real handles cost every pan frame). Drawing
 * a connection takes the real handles, there once zoomed in (below 45 % a handle is under 4 px).
 */
function LiteHandles({ nodeId }: { nodeId: string }) {
  return (
    <>
      <div className="lite-handle target lite-handle-top" data-nodeid={nodeId} data-handlepos={Position.Top} />
      <div className="lite-handle source lite-handle-bottom" data-nodeid={nodeId} data-handlepos={Position.Bottom} />
    </>
  );
}

/** A processor: name, type, run state, validity (hover lists problems), 5-minute in/out, bulletins. */
export const ProcessorNode = memo(function ProcessorNode({ id, data, selected }: NodeProps<ProcessorFlowNode>) {
  return useZoomedOut() ? (
    <SimpleProcessor id={id} processor={data.processor} selected={selected} />
  ) : (
    <DetailedProcessor id={id} processor={data.processor} selected={selected} />
  );
});

/**
 * Zoomed out: the canvas's overview draws the box (Overview.tsx); the node is an invisible box of
 * the same size for selecting, dragging, double-clicking and its tooltip. No translation, bulletin
 * or full status subscription: a zoomed-out canvas may hold thousands of these, and a status push
 * re-renders one only when its shown state changes.
 */
function SimpleProcessor({ id, processor, selected }: { id: string; processor: Processor; selected: boolean }) {
  const shown = useShownState(id, processor.state);
  const live = useSyncExternalStore(statusStore.subscribe, () => statusStore.component(id) !== undefined);
  return (
    <div
      className={`node processor-node simple state-${shown}${selected ? ' selected' : ''}`}
      data-testid="processor-node"
      data-name={processor.name}
      data-state={shown}
      data-live={live ? 'yes' : 'no'}
      title={processor.name}
    >
      <LiteHandles nodeId={id} />
    </div>
  );
}

function DetailedProcessor({ id, processor, selected }: { id: string; processor: Processor; selected: boolean }) {
  const status = useComponentStatus(id);
  const allProblems = status?.validationErrors ?? [];
  const runState = status?.runState ?? processor.state;
  const shown = runState === 'STOPPED' && allProblems.length > 0 ? 'INVALID' : runState;
  return (
    <ProcessorDetails id={id} processor={processor} status={status} shown={shown} problems={allProblems} selected={selected} />
  );
}

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

/** The handle id of a child group's port on the group's node (connections reach the port through it). */
export const PORT_HANDLE = 'port:';

/**
 * A process group: double-click to enter. Its input ports are target handles along the top and its
 * output ports source handles along the bottom, so the parent canvas connects straight to them.
 */
export const GroupNode = memo(function GroupNode({ id, data, selected }: NodeProps<GroupFlowNode>) {
  const { t } = useTranslation();
  const { inputPorts, outputPorts } = data.group;
  const updateNodeInternals = useUpdateNodeInternals();
  const portsKey = [...inputPorts, ...outputPorts].map((p) => p.id).join(',');
  useEffect(() => {
    // React Flow measures handles when a node appears; ports added or removed later need a re-measure.
    if (portsKey !== '') updateNodeInternals(id);
  }, [id, portsKey, updateNodeInternals]);
  return (
    <div className={`node group-node${selected ? ' selected' : ''}`} data-testid="group-node" data-name={data.group.name}>
      {inputPorts.length > 0 && (
        <div className="group-ports in">
          {inputPorts.map((p) => (
            <span
              key={p.id}
              className="group-port"
              data-testid="group-input-port"
              data-name={p.name}
              title={t('node.groupInput', { name: p.name })}
            >
              <Handle type="target" position={Position.Top} id={`${PORT_HANDLE}${p.id}`} data-testid="handle-target" />⇥ {p.name}
            </span>
          ))}
        </div>
      )}
      <div className="node-head">
        <span className="group-icon">▣</span>
        <strong className="node-name">{data.group.name}</strong>
      </div>
      <div className="node-type">{t('node.groupContents', { count: data.count })}</div>
      {outputPorts.length > 0 && (
        <div className="group-ports out">
          {outputPorts.map((p) => (
            <span
              key={p.id}
              className="group-port"
              data-testid="group-output-port"
              data-name={p.name}
              title={t('node.groupOutput', { name: p.name })}
            >
              ↦ {p.name}
              <Handle type="source" position={Position.Bottom} id={`${PORT_HANDLE}${p.id}`} data-testid="handle-source" />
            </span>
          ))}
        </div>
      )}
    </div>
  );
});

/** One port of a Remote Process Group: its handle, name and run state (live). */
function RemotePortChip({ port, direction }: { port: RemotePort; direction: 'input' | 'output' }) {
  const { t } = useTranslation();
  const status = useComponentStatus(port.id);
  const state = status?.runState ?? port.state;
  return (
    <span
      className={`group-port remote-port state-${state}`}
      data-testid={`remote-${direction}-port`}
      data-name={port.name}
      data-state={state}
      title={t(direction === 'input' ? 'remote.inputPortTitle' : 'remote.outputPortTitle', {
        name: port.name,
        state: t(`state.${state}`),
      })}
    >
      {direction === 'input' && (
        <Handle type="target" position={Position.Top} id={`${PORT_HANDLE}${port.id}`} data-testid="handle-target" />
      )}
      <span className="run-state">{STATE_ICON[state] ?? '?'}</span> {port.name}
      {direction === 'output' && (
        <Handle type="source" position={Position.Bottom} id={`${PORT_HANDLE}${port.id}`} data-testid="handle-source" />
      )}
    </span>
  );
}

/**
 * A Remote Process Group: the remote instance's URL, its remote input ports as target handles along
 * the top (push) and remote output ports as source handles along the bottom (pull), each with its
 * run state. Double-click to configure.
 */
export const RemoteGroupNode = memo(function RemoteGroupNode({ id, data, selected }: NodeProps<RemoteFlowNode>) {
  const { t } = useTranslation();
  const { remote } = data;
  const updateNodeInternals = useUpdateNodeInternals();
  const portsKey = [...remote.inputPorts, ...remote.outputPorts].map((p) => p.id).join(',');
  useEffect(() => {
    if (portsKey !== '') updateNodeInternals(id);
  }, [id, portsKey, updateNodeInternals]);
  return (
    <div
      className={`node group-node remote-node${selected ? ' selected' : ''}`}
      data-testid="remote-node"
      data-name={remote.name}
    >
      {remote.inputPorts.length > 0 && (
        <div className="group-ports in">
          {remote.inputPorts.map((p) => (
            <RemotePortChip key={p.id} port={p} direction="input" />
          ))}
        </div>
      )}
      <div className="node-head">
        <span className="group-icon">☁</span>
        <strong className="node-name">{remote.name}</strong>
      </div>
      <div className="node-type" title={remote.targetUris}>
        {t('remote.summary', { uris: remote.targetUris })}
      </div>
      {remote.outputPorts.length > 0 && (
        <div className="group-ports out">
          {remote.outputPorts.map((p) => (
            <RemotePortChip key={p.id} port={p} direction="output" />
          ))}
        </div>
      )}
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
  const { t } = useTranslation();
  return (
    <div
      className={`node label-node${selected ? ' selected' : ''}`}
      data-testid="label-node"
      title={t('label.edit')}
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
  remote: RemoteGroupNode,
};
