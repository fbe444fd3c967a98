import { z } from 'zod';
import { idSchema } from './common.ts';
import { named } from './registry.ts';

// The flow document, as the wire carries it. It is the same format as the engine's
// (packages/engine/src/flow/flow-definition.ts, docs/flow-format.md); a server test compares the two
// JSON Schemas so they cannot drift apart. Protocol depends on nothing of ours, hence the copy.

/** The flow format version. */
export const FLOW_FORMAT_VERSION = 1;

export const positionSchema = named('Position', z.object({ x: z.number(), y: z.number() }).strict());
export type Position = z.infer<typeof positionSchema>;

export const runStateSchema = z.enum(['RUNNING', 'STOPPED', 'DISABLED']);
export type ComponentRunState = z.infer<typeof runStateSchema>;

export const bulletinLevelSchema = z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']);

export const schedulingSchema = named(
  'Scheduling',
  z
    .object({
      strategy: z.enum(['timer', 'cron']).default('timer'),
      period: z.string().default('0 sec'),
      concurrentTasks: z.number().int().min(1).max(64).default(1),
      runDuration: z.string().default('0 ms'),
      penaltyDuration: z.string().default('30 sec'),
      yieldDuration: z.string().default('1 sec'),
    })
    .strict(),
);

export const retrySchema = named(
  'Retry',
  z
    .object({
      relationships: z.array(z.string()).default([]),
      count: z.number().int().min(0).max(100).default(10),
      backoff: z.enum(['penalize', 'yield']).default('penalize'),
      maxBackoff: z.string().default('10 mins'),
    })
    .strict(),
);

/** Property values: strings, `null` = unset (the default applies). */
export const propertiesSchema = z.record(z.string(), z.string().nullable());

export const processorSchema = named(
  'Processor',
  z
    .object({
      id: idSchema,
      name: z.string().min(1).max(256),
      type: z.string().min(1),
      position: positionSchema.optional(),
      comments: z.string().optional(),
      properties: propertiesSchema.default({}),
      scheduling: schedulingSchema.default(() => schedulingSchema.parse({})),
      bulletinLevel: bulletinLevelSchema.default('WARN'),
      autoTerminate: z.array(z.string()).default([]),
      retry: retrySchema.optional(),
      state: runStateSchema.default('STOPPED'),
    })
    .strict(),
);
export type Processor = z.output<typeof processorSchema>;

export const portSchema = named(
  'Port',
  z
    .object({
      id: idSchema,
      name: z.string().min(1).max(256),
      position: positionSchema.optional(),
      comments: z.string().optional(),
      state: runStateSchema.default('RUNNING'),
      allowRemoteAccess: z.boolean().optional(),
      /** Site-to-Site client identities allowed to use this root-group port (`*`: any); none: nobody. */
      allowedIdentities: z.array(z.string().min(1).max(1024)).optional(),
    })
    .strict(),
);
export type Port = z.output<typeof portSchema>;

/** A port of a remote instance, as a Remote Process Group sees it (connections name its `id`). */
export const remotePortSchema = named(
  'RemotePort',
  z
    .object({
      id: idSchema,
      /** The remote port's name (or its id on the remote instance). */
      name: z.string().min(1).max(256),
      remoteId: z.string().min(1).max(256).optional(),
      useCompression: z.boolean().default(false),
      batchCount: z.number().int().min(0).default(0),
      batchSize: z.string().default('0 B'),
      batchDuration: z.string().default('0 sec'),
      concurrentTasks: z.number().int().min(1).max(64).default(1),
      state: runStateSchema.default('RUNNING'),
    })
    .strict(),
);
export type RemotePort = z.output<typeof remotePortSchema>;

/** A Remote Process Group: another instance's root-group ports, reached over Site-to-Site. */
export const remoteProcessGroupSchema = named(
  'RemoteProcessGroup',
  z
    .object({
      id: idSchema,
      name: z.string().min(1).max(256),
      position: positionSchema.optional(),
      comments: z.string().optional(),
      targetUris: z.string().min(1),
      transport: z.enum(['HTTP']).default('HTTP'),
      accessToken: z.string().optional(),
      /** An SSL context service (id) for https URLs: trusted CAs, and a client certificate for mutual TLS. */
      sslContextService: z.string().optional(),
      communicationsTimeout: z.string().default('30 sec'),
      yieldDuration: z.string().default('10 sec'),
      inputPorts: z.array(remotePortSchema).default([]),
      outputPorts: z.array(remotePortSchema).default([]),
    })
    .strict(),
);
export type RemoteProcessGroup = z.output<typeof remoteProcessGroupSchema>;

export const funnelSchema = named('Funnel', z.object({ id: idSchema, position: positionSchema.optional() }).strict());
export type Funnel = z.output<typeof funnelSchema>;

export const labelSchema = named(
  'Label',
  z
    .object({
      id: idSchema,
      text: z.string().max(10_000),
      position: positionSchema.optional(),
      width: z.number().positive().optional(),
      height: z.number().positive().optional(),
      style: z.record(z.string(), z.string()).optional(),
    })
    .strict(),
);
export type Label = z.output<typeof labelSchema>;

export const controllerServiceSchema = named(
  'ControllerService',
  z
    .object({
      id: idSchema,
      name: z.string().min(1).max(256),
      type: z.string().min(1),
      comments: z.string().optional(),
      properties: propertiesSchema.default({}),
      state: z.enum(['ENABLED', 'DISABLED']).default('DISABLED'),
    })
    .strict(),
);
export type ControllerService = z.output<typeof controllerServiceSchema>;

const connectionEnd = z.object({ id: idSchema }).strict();

export const PRIORITIZER_NAMES = ['FirstInFirstOut', 'OldestFlowFileFirst', 'NewestFlowFileFirst', 'PriorityAttribute'] as const;

export const connectionSchema = named(
  'Connection',
  z
    .object({
      id: idSchema,
      name: z.string().max(256).optional(),
      source: connectionEnd,
      destination: connectionEnd,
      relationships: z.array(z.string()).default([]),
      backPressureObjectThreshold: z.number().int().min(0).default(10_000),
      backPressureDataSizeThreshold: z.string().default('1 GB'),
      flowFileExpiration: z.string().default('0 sec'),
      prioritizers: z.array(z.enum(PRIORITIZER_NAMES)).default([]),
      bends: z.array(positionSchema).optional(),
    })
    .strict(),
);
export type Connection = z.output<typeof connectionSchema>;

export const parameterSchema = named(
  'Parameter',
  z
    .object({
      name: z
        .string()
        .min(1)
        .regex(/^[A-Za-z0-9 ._-]+$/, 'may only contain letters, digits, spaces and . _ -'),
      value: z.string().nullable(),
      sensitive: z.boolean().default(false),
      description: z.string().optional(),
    })
    .strict(),
);
export type Parameter = z.output<typeof parameterSchema>;

export const parameterContextSchema = named(
  'ParameterContext',
  z
    .object({
      id: idSchema,
      name: z.string().min(1).max(256),
      description: z.string().optional(),
      parameters: z.array(parameterSchema).default([]),
      inherits: z.array(idSchema).default([]),
    })
    .strict(),
);
export type ParameterContext = z.output<typeof parameterContextSchema>;

/** A process group: the canvas, or a box on it holding its own components. */
export interface ProcessGroup {
  id: string;
  name: string;
  position?: { x: number; y: number } | undefined;
  comments?: string | undefined;
  parameterContextId?: string | undefined;
  processors: Processor[];
  connections: Connection[];
  inputPorts: Port[];
  outputPorts: Port[];
  funnels: Funnel[];
  labels: Label[];
  controllerServices: ControllerService[];
  processGroups: ProcessGroup[];
  remoteProcessGroups?: RemoteProcessGroup[] | undefined;
}

/** A process group as a client may write it (defaults not filled in). */
export interface ProcessGroupInput {
  id: string;
  name: string;
  position?: { x: number; y: number } | undefined;
  comments?: string | undefined;
  parameterContextId?: string | undefined;
  processors?: z.input<typeof processorSchema>[] | undefined;
  connections?: z.input<typeof connectionSchema>[] | undefined;
  inputPorts?: z.input<typeof portSchema>[] | undefined;
  outputPorts?: z.input<typeof portSchema>[] | undefined;
  funnels?: z.input<typeof funnelSchema>[] | undefined;
  labels?: z.input<typeof labelSchema>[] | undefined;
  controllerServices?: z.input<typeof controllerServiceSchema>[] | undefined;
  processGroups?: ProcessGroupInput[] | undefined;
  remoteProcessGroups?: z.input<typeof remoteProcessGroupSchema>[] | undefined;
}

export const processGroupSchema: z.ZodType<ProcessGroup, ProcessGroupInput> = named(
  'ProcessGroup',
  z.lazy(() => processGroupShape),
);

const processGroupShape = z
  .object({
    id: idSchema,
    name: z.string().min(1).max(256),
    position: positionSchema.optional(),
    comments: z.string().optional(),
    parameterContextId: idSchema.optional(),
    processors: z.array(processorSchema).default([]),
    connections: z.array(connectionSchema).default([]),
    inputPorts: z.array(portSchema).default([]),
    outputPorts: z.array(portSchema).default([]),
    funnels: z.array(funnelSchema).default([]),
    labels: z.array(labelSchema).default([]),
    controllerServices: z.array(controllerServiceSchema).default([]),
    remoteProcessGroups: z.array(remoteProcessGroupSchema).default([]),
    get processGroups(): z.ZodDefault<z.ZodArray<typeof processGroupSchema>> {
      return z.array(processGroupSchema).default([]);
    },
  })
  .strict();

export const flowDocumentSchema = named(
  'FlowDocument',
  z
    .object({
      sluiceFlow: z.literal(FLOW_FORMAT_VERSION, {
        error: `sluiceFlow must be ${FLOW_FORMAT_VERSION} (the flow format version)`,
      }),
      name: z.string().optional(),
      parameterContexts: z.array(parameterContextSchema).default([]),
      rootGroup: processGroupSchema,
    })
    .strict(),
  'A whole flow (docs/flow-format.md). Sensitive values are replaced by the "set" marker.',
);
export type FlowDocument = z.output<typeof flowDocumentSchema>;
export type FlowDocumentInput = z.input<typeof flowDocumentSchema>;
