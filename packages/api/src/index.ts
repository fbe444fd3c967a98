/**
 * @sluice/api: the processor contract. Processors and controller services import this package and
 * nothing else of Sluice's; the engine supplies everything they use at run time.
 */
export { ContentTooLargeError, ProcessException, PropertyValueError } from './errors.ts';
export { CoreAttributes, type FlowFile, FORBIDDEN_ATTRIBUTE_KEYS } from './flowfile.ts';
export {
  FLOWFILE_V3_MIME_TYPE,
  FlowFileV3Error,
  packFlowFileV3,
  packFlowFileV3Header,
  type UnpackedFlowFile,
  type UnpackLimits,
  unpackFlowFileV3,
} from './flowfile-v3.ts';
export { type ComponentLogger, LOG_LEVELS, type LogLevel, logLevelRank } from './logger.ts';
export {
  type AnyProcessorDefinition,
  activeRelationships,
  type DefaultSchedule,
  type DynamicPropertiesSpec,
  defineProcessor,
  type JsonPathQuery,
  type ProcessContext,
  type ProcessorDefinition,
  type PropertyValue,
  type RelationshipSpec,
  relationshipDescription,
  type ValidationContext,
} from './processor.ts';
export {
  type AllowableValue,
  boolean,
  choice,
  dataSize,
  type ExpressionScope,
  integer,
  jsonPath,
  type NumericOptions,
  number,
  type PropertyDescriptor,
  type PropertyKind,
  type PropertyOptions,
  regex,
  service,
  string,
  timePeriod,
  usesExpression,
  validateLiteral,
} from './properties.ts';
export { type AnyServiceDefinition, defineService, type ServiceContext, type ServiceDefinition } from './service.ts';
export type {
  ContentData,
  ContentSource,
  FlowFileFilter,
  MergeOptions,
  ProcessSession,
  ProvenanceReporter,
  SessionState,
  StateReader,
  StateScan,
  TransitOptions,
} from './session.ts';
export { formatDataSize, parseDataSize, parseTimePeriod } from './units.ts';
