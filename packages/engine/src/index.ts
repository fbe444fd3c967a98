/** @sluice/engine: FlowFiles, repositories, queues, sessions, scheduling, provenance and state. */
export type { ConnectionRuntime } from './components/connection.ts';
export type { NodeKind, NodeRunState, ProcessorNode } from './components/processor-node.ts';
export {
  adoptFlowFile,
  type PortSession,
  REMOTE_INPUT_PORT_TYPE,
  REMOTE_OUTPUT_PORT_TYPE,
  REMOTE_PORT_PROPERTIES,
  readContents,
  type SiteToSitePortView,
  writeContents,
} from './components/remote.ts';
export type { ServiceNode } from './components/service-node.ts';
export type { ContentRepository, ContentRepositoryStats } from './content/types.ts';
export { ContentNotFoundError, ContentRepositoryFullError } from './content/types.ts';
export { type ApplyReport, ConflictError, Engine, type EngineOptions, NotFoundError } from './engine.ts';
export {
  type ConnectionDefinition,
  type ControllerServiceDefinition,
  describeProblem,
  emptyFlow,
  FLOW_FORMAT_VERSION,
  type FlowDocument,
  type FlowDocumentInput,
  type FlowProblem,
  FlowValidationError,
  flowDocumentSchema,
  flowJsonSchema,
  type ParameterContextDefinition,
  type PortDefinition,
  type ProcessGroupDefinition,
  type ProcessorDefinitionEntry,
  parseFlowDocument,
  parseFlowJson,
  type RemotePortDefinition,
  type RemoteProcessGroupDefinition,
  type RunState,
} from './flow/flow-definition.ts';
export type { ContentClaim } from './flowfile/claim.ts';
export { FlowFileRecord } from './flowfile/flowfile-record.ts';
export { uuidv7 } from './flowfile/uuid.ts';
export { errorText, type LogEntry, type LogSink } from './logging.ts';
export { FileProvenanceRepository } from './provenance/index.ts';
export {
  type LineageGraph,
  type LineageNode,
  PROVENANCE_EVENT_TYPES,
  type ProvenanceEventInput,
  type ProvenanceEventRecord,
  type ProvenanceEventType,
  type ProvenanceQuery,
  type ProvenanceRepository,
} from './provenance/types.ts';
export { PRIORITIZERS, type PrioritizerName, type QueueListingEntry, type QueueSize } from './queue/types.ts';
export { ExtensionRegistry } from './registry.ts';
export { FlowFileHandlingError } from './session/process-session.ts';
export type { Bulletin } from './status/bulletins.ts';
export type { Amount, ComponentStatus, ConnectionStatus } from './status/flow-status.ts';
