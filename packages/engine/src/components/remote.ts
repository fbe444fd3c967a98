import type { FlowFile, ProcessSession } from '@sluice/api';
import type { ProcessorDefinitionEntry, RemotePortDefinition, RemoteProcessGroupDefinition } from '../flow/flow-definition.ts';
import { StandardProcessSession } from '../session/process-session.ts';

/**
 * Processor type of a Remote Process Group's input port (this instance pushes to the remote's
 * input port). The engine knows no HTTP: the server registers a definition of this type.
 */
export const REMOTE_INPUT_PORT_TYPE = 'RemoteInputPort';
/** Processor type of a Remote Process Group's output port (this instance pulls from it). */
export const REMOTE_OUTPUT_PORT_TYPE = 'RemoteOutputPort';

/**
 * The properties a remote port's processor gets, derived from its Remote Process Group and port
 * settings (the flow document holds them on the group and the port, as NiFi does).
 */
export const REMOTE_PORT_PROPERTIES = {
  groupId: 'remoteGroupId',
  targetUris: 'targetUris',
  transport: 'transport',
  accessToken: 'accessToken',
  sslContextService: 'sslContextService',
  communicationsTimeout: 'communicationsTimeout',
  yieldDuration: 'yieldDuration',
  portName: 'remotePortName',
  remotePortId: 'remotePortId',
  useCompression: 'useCompression',
  batchCount: 'batchCount',
  batchSize: 'batchSize',
  batchDuration: 'batchDuration',
} as const;

/** The processor configuration the engine runs for one port of a Remote Process Group. */
export function remotePortConfig(
  group: RemoteProcessGroupDefinition,
  port: RemotePortDefinition,
  direction: 'input' | 'output',
): ProcessorDefinitionEntry {
  const p = REMOTE_PORT_PROPERTIES;
  return {
    id: port.id,
    name: port.name,
    type: direction === 'input' ? REMOTE_INPUT_PORT_TYPE : REMOTE_OUTPUT_PORT_TYPE,
    properties: {
      [p.groupId]: group.id,
      [p.targetUris]: group.targetUris,
      [p.transport]: group.transport,
      [p.accessToken]: group.accessToken ?? null,
      [p.sslContextService]: group.sslContextService ?? null,
      [p.communicationsTimeout]: group.communicationsTimeout,
      [p.yieldDuration]: group.yieldDuration,
      [p.portName]: port.name,
      [p.remotePortId]: port.remoteId ?? null,
      [p.useCompression]: String(port.useCompression),
      [p.batchCount]: String(port.batchCount),
      [p.batchSize]: port.batchSize,
      [p.batchDuration]: port.batchDuration,
    },
    scheduling: {
      strategy: 'timer',
      period: '0 sec',
      concurrentTasks: port.concurrentTasks,
      runDuration: '0 ms',
      penaltyDuration: '30 sec',
      yieldDuration: group.yieldDuration,
    },
    bulletinLevel: 'WARN',
    autoTerminate: [],
    state: port.state,
  };
}

/** A root-group port open to Site-to-Site, as the server's Site-to-Site endpoints see it. */
export interface SiteToSitePortView {
  readonly id: string;
  readonly name: string;
  readonly comments: string | undefined;
  readonly direction: 'input' | 'output';
  /** Client identities allowed (`*`: every identified client); empty: nobody. */
  readonly allowedIdentities: readonly string[];
}

/**
 * A session on a port for work the scheduler does not drive (a Site-to-Site transfer): take or
 * create FlowFiles, then `commit` (durable, then visible downstream) or `rollback`.
 */
export interface PortSession extends ProcessSession {
  /** A new FlowFile keeping the uuid another instance gave it (report RECEIVE for it). */
  adopt(uuid: string): FlowFile;
}

/**
 * {@link PortSession.adopt} when `session` is the engine's own session; otherwise a plain
 * `create()` (a test double). Remote ports use it to keep uuids across instances.
 */
export function adoptFlowFile(session: ProcessSession, uuid: string): FlowFile {
  return session instanceof StandardProcessSession ? session.adopt(uuid) : session.create();
}

/**
 * The contents of `flowFiles`, read with one read per run of back-to-back contents when `session`
 * is the engine's own session; otherwise one `read` each (a test double).
 */
export function readContents(session: ProcessSession, flowFiles: readonly FlowFile[]): Buffer[] {
  return session instanceof StandardProcessSession
    ? session.readEach(flowFiles)
    : flowFiles.map((flowFile) => session.read(flowFile));
}

/**
 * Writes `contents[i]` as the content of `flowFiles[i]`, with one write when `session` is the
 * engine's own session (keep the total small: it is buffered); otherwise one `write` each.
 */
export function writeContents(
  session: ProcessSession,
  flowFiles: readonly FlowFile[],
  contents: readonly Uint8Array[],
): FlowFile[] {
  return session instanceof StandardProcessSession
    ? session.writeEach(flowFiles, contents)
    : flowFiles.map((flowFile, i) => session.write(flowFile, contents[i] ?? new Uint8Array(0)));
}
