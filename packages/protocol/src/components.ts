import { z } from 'zod';
import { idSchema, revisionSchema, safeRecord } from './common.ts';
import {
  bulletinLevelSchema,
  connectionSchema,
  controllerServiceSchema,
  flowDocumentSchema,
  funnelSchema,
  labelSchema,
  PRIORITIZER_NAMES,
  parameterContextSchema,
  parameterSchema,
  portSchema,
  positionSchema,
  processGroupSchema,
  processorSchema,
  remoteProcessGroupSchema,
  retrySchema,
} from './flow.ts';
import { named } from './registry.ts';

/** The kinds of components the API edits (parameter contexts live beside the groups). */
export const COMPONENT_KINDS = [
  'processor',
  'connection',
  'input-port',
  'output-port',
  'funnel',
  'label',
  'controller-service',
  'process-group',
  'parameter-context',
  'remote-process-group',
] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];
export const componentKindSchema = z.enum(COMPONENT_KINDS);

const properties = safeRecord(z.string().nullable());
const name = z.string().min(1).max(256);
const partialScheduling = z
  .object({
    strategy: z.enum(['timer', 'cron']),
    period: z.string(),
    concurrentTasks: z.number().int().min(1).max(64),
    runDuration: z.string(),
    penaltyDuration: z.string(),
    yieldDuration: z.string(),
  })
  .partial()
  .strict();

// ---- create bodies --------------------------------------------------------------------------------

export const processorCreateSchema = named(
  'ProcessorCreate',
  z
    .object({
      type: z.string().min(1),
      name: name.optional(),
      position: positionSchema.optional(),
      comments: z.string().optional(),
      properties: properties.optional(),
      scheduling: partialScheduling.optional(),
      bulletinLevel: bulletinLevelSchema.optional(),
      autoTerminate: z.array(z.string()).optional(),
      retry: retrySchema.optional(),
    })
    .strict(),
  'A new processor; it is created STOPPED, with the scheduling defaults of its type where none are given.',
);

const connectionEnd = z.object({ id: idSchema }).strict();
const connectionSettings = {
  name: z.string().max(256).optional(),
  relationships: z.array(z.string()).optional(),
  backPressureObjectThreshold: z.number().int().min(0).optional(),
  backPressureDataSizeThreshold: z.string().optional(),
  flowFileExpiration: z.string().optional(),
  prioritizers: z.array(z.enum(PRIORITIZER_NAMES)).optional(),
  bends: z.array(positionSchema).optional(),
};

export const connectionCreateSchema = named(
  'ConnectionCreate',
  z.object({ source: connectionEnd, destination: connectionEnd, ...connectionSettings }).strict(),
);

export const portCreateSchema = named(
  'PortCreate',
  z
    .object({
      name,
      position: positionSchema.optional(),
      comments: z.string().optional(),
      allowRemoteAccess: z.boolean().optional(),
    })
    .strict(),
);

/** A remote port as a client writes it: without an id, the server gives it one. */
const remotePortInput = z
  .object({
    id: idSchema.optional(),
    name,
    remoteId: z.string().min(1).max(256).optional(),
    useCompression: z.boolean().optional(),
    batchCount: z.number().int().min(0).optional(),
    batchSize: z.string().min(1).optional(),
    batchDuration: z.string().min(1).optional(),
    concurrentTasks: z.number().int().min(1).max(64).optional(),
    state: z.enum(['RUNNING', 'STOPPED']).optional(),
  })
  .strict();
export type RemotePortInput = z.output<typeof remotePortInput>;

const remoteSettings = {
  targetUris: z.string().min(1).max(4096),
  transport: z.enum(['HTTP']),
  communicationsTimeout: z.string().min(1),
  yieldDuration: z.string().min(1),
  inputPorts: z.array(remotePortInput).max(1000),
  outputPorts: z.array(remotePortInput).max(1000),
};

export const remoteProcessGroupCreateSchema = named(
  'RemoteProcessGroupCreate',
  z
    .object({
      name: name.optional(),
      position: positionSchema.optional(),
      comments: z.string().optional(),
      ...remoteSettings,
      transport: remoteSettings.transport.optional(),
      accessToken: z.string().min(1).optional(),
      sslContextService: idSchema.optional(),
      communicationsTimeout: remoteSettings.communicationsTimeout.optional(),
      yieldDuration: remoteSettings.yieldDuration.optional(),
      inputPorts: remoteSettings.inputPorts.optional(),
      outputPorts: remoteSettings.outputPorts.optional(),
    })
    .strict(),
  'A new Remote Process Group (docs/flow-format.md): its ports are named by the remote port names; new ports come in STOPPED.',
);

export const funnelCreateSchema = named('FunnelCreate', z.object({ position: positionSchema.optional() }).strict());

export const labelCreateSchema = named(
  'LabelCreate',
  z
    .object({
      text: z.string().max(10_000),
      position: positionSchema.optional(),
      width: z.number().positive().optional(),
      height: z.number().positive().optional(),
      style: safeRecord(z.string()).optional(),
    })
    .strict(),
);

export const controllerServiceCreateSchema = named(
  'ControllerServiceCreate',
  z
    .object({
      type: z.string().min(1),
      name: name.optional(),
      comments: z.string().optional(),
      properties: properties.optional(),
    })
    .strict(),
  'A new controller service; it is created DISABLED.',
);

export const processGroupCreateSchema = named(
  'ProcessGroupCreate',
  z
    .object({
      name,
      position: positionSchema.optional(),
      comments: z.string().optional(),
      parameterContextId: idSchema.optional(),
    })
    .strict(),
);

export const parameterContextCreateSchema = named(
  'ParameterContextCreate',
  z
    .object({
      name,
      description: z.string().optional(),
      parameters: z.array(parameterSchema).optional(),
      inherits: z.array(idSchema).optional(),
    })
    .strict(),
);

// ---- update bodies --------------------------------------------------------------------------------
// Each update names the revision it is based on and the fields to change; fields left out keep their
// value. `null` clears an optional field. Properties merge: a name mapped to null is removed.
// Run state is not part of an update: it changes through the run-status routes.

export const processorChangesSchema = z
  .object({
    name,
    position: positionSchema,
    comments: z.string().nullable(),
    properties,
    scheduling: partialScheduling,
    bulletinLevel: bulletinLevelSchema,
    autoTerminate: z.array(z.string()),
    retry: retrySchema.nullable(),
  })
  .partial()
  .strict();

export const connectionChangesSchema = z
  .object({
    name: z.string().max(256).nullable(),
    destination: connectionEnd,
    relationships: z.array(z.string()),
    backPressureObjectThreshold: z.number().int().min(0),
    backPressureDataSizeThreshold: z.string(),
    flowFileExpiration: z.string(),
    prioritizers: z.array(z.enum(PRIORITIZER_NAMES)),
    bends: z.array(positionSchema).nullable(),
  })
  .partial()
  .strict();

export const portChangesSchema = z
  .object({ name, position: positionSchema, comments: z.string().nullable(), allowRemoteAccess: z.boolean().nullable() })
  .partial()
  .strict();

export const funnelChangesSchema = z.object({ position: positionSchema }).partial().strict();

export const labelChangesSchema = z
  .object({
    text: z.string().max(10_000),
    position: positionSchema,
    width: z.number().positive().nullable(),
    height: z.number().positive().nullable(),
    style: safeRecord(z.string()).nullable(),
  })
  .partial()
  .strict();

export const controllerServiceChangesSchema = z.object({ name, comments: z.string().nullable(), properties }).partial().strict();

export const processGroupChangesSchema = z
  .object({ name, position: positionSchema, comments: z.string().nullable(), parameterContextId: idSchema.nullable() })
  .partial()
  .strict();

export const remoteProcessGroupChangesSchema = z
  .object({
    name,
    position: positionSchema,
    comments: z.string().nullable(),
    ...remoteSettings,
    /** A new token; null removes it; the "set" marker keeps the stored one. */
    accessToken: z.string().min(1).nullable(),
    /** The SSL context service (id) for https URLs; null removes it. */
    sslContextService: idSchema.nullable(),
  })
  .partial()
  .strict();

export const parameterContextChangesSchema = z
  .object({
    name,
    description: z.string().nullable(),
    /** The whole list; a sensitive parameter sent with the "set" marker keeps its value. */
    parameters: z.array(parameterSchema),
    inherits: z.array(idSchema),
  })
  .partial()
  .strict();

function update<T extends z.ZodType>(id: string, changes: T) {
  return named(id, z.object({ revision: revisionSchema, component: changes }).strict());
}

export const processorUpdateSchema = update('ProcessorUpdate', processorChangesSchema);
export const connectionUpdateSchema = update('ConnectionUpdate', connectionChangesSchema);
export const portUpdateSchema = update('PortUpdate', portChangesSchema);
export const funnelUpdateSchema = update('FunnelUpdate', funnelChangesSchema);
export const labelUpdateSchema = update('LabelUpdate', labelChangesSchema);
export const controllerServiceUpdateSchema = update('ControllerServiceUpdate', controllerServiceChangesSchema);
export const processGroupUpdateSchema = update('ProcessGroupUpdate', processGroupChangesSchema);
export const parameterContextUpdateSchema = update('ParameterContextUpdate', parameterContextChangesSchema);
export const remoteProcessGroupUpdateSchema = update('RemoteProcessGroupUpdate', remoteProcessGroupChangesSchema);

// ---- entities (responses) -------------------------------------------------------------------------

function entity<T extends z.ZodType>(id: string, component: T, kinds: readonly [ComponentKind, ...ComponentKind[]]) {
  return named(
    id,
    z.object({
      kind: z.enum(kinds),
      id: idSchema,
      /** The group it is in (null for the root group and parameter contexts). */
      groupId: idSchema.nullable(),
      revision: revisionSchema,
      component,
    }),
  );
}

export const processorEntitySchema = entity('ProcessorEntity', processorSchema, ['processor']);
export const connectionEntitySchema = entity('ConnectionEntity', connectionSchema, ['connection']);
export const portEntitySchema = entity('PortEntity', portSchema, ['input-port', 'output-port']);
export const funnelEntitySchema = entity('FunnelEntity', funnelSchema, ['funnel']);
export const labelEntitySchema = entity('LabelEntity', labelSchema, ['label']);
export const controllerServiceEntitySchema = entity('ControllerServiceEntity', controllerServiceSchema, ['controller-service']);
export const processGroupEntitySchema = entity('ProcessGroupEntity', processGroupSchema, ['process-group']);
export const parameterContextEntitySchema = entity('ParameterContextEntity', parameterContextSchema, ['parameter-context']);
export const remoteProcessGroupEntitySchema = entity('RemoteProcessGroupEntity', remoteProcessGroupSchema, [
  'remote-process-group',
]);

/** Any component entity (flow change events carry these). */
export const componentEntitySchema = named(
  'ComponentEntity',
  z.object({
    kind: componentKindSchema,
    id: idSchema,
    groupId: idSchema.nullable(),
    revision: revisionSchema,
    component: z.union([
      processorSchema,
      connectionSchema,
      portSchema,
      funnelSchema,
      labelSchema,
      controllerServiceSchema,
      processGroupSchema,
      parameterContextSchema,
      remoteProcessGroupSchema,
    ]),
  }),
);
export type ComponentEntity = z.infer<typeof componentEntitySchema>;

export const parameterContextListSchema = named(
  'ParameterContextList',
  z.object({ parameterContexts: z.array(parameterContextEntitySchema) }),
);

/** The whole flow with every component's revision. */
export const flowEntitySchema = named(
  'FlowEntity',
  z.object({
    /** The flow version: bumped by every stored change. */
    version: z.number().int(),
    flow: flowDocumentSchema,
    /** Revision of every component, by id. */
    revisions: z.record(z.string(), revisionSchema),
  }),
);
export type FlowEntity = z.infer<typeof flowEntitySchema>;

// ---- selections: move, delete, copy, paste --------------------------------------------------------

export const moveRequestSchema = named(
  'MoveRequest',
  z
    .object({
      items: z.array(z.object({ id: idSchema, revision: revisionSchema, position: positionSchema.optional() }).strict()).min(1),
      /**
       * Moves the items into this process group (connections between moved items go along; a
       * connection between a moved and a staying component is refused). Omit to change positions only.
       */
      groupId: idSchema.optional(),
    })
    .strict(),
);

export const deleteRequestSchema = named(
  'DeleteRequest',
  z.object({ items: z.array(z.object({ id: idSchema, revision: revisionSchema }).strict()).min(1) }).strict(),
  'Deletes a selection. Connections of deleted components are deleted with them (each must be empty).',
);

/** Components affected by a selection change, with their new revisions. */
export const selectionResultSchema = named(
  'SelectionResult',
  z.object({
    version: z.number().int(),
    revisions: z.record(z.string(), revisionSchema),
    deleted: z.array(idSchema),
  }),
);

/** A piece of a flow: the content of a process group, without the group itself. */
export const flowFragmentSchema = named(
  'FlowFragment',
  z
    .object({
      processors: z.array(processorSchema).default([]),
      connections: z.array(connectionSchema).default([]),
      inputPorts: z.array(portSchema).default([]),
      outputPorts: z.array(portSchema).default([]),
      funnels: z.array(funnelSchema).default([]),
      labels: z.array(labelSchema).default([]),
      controllerServices: z.array(controllerServiceSchema).default([]),
      processGroups: z.array(processGroupSchema).default([]),
      remoteProcessGroups: z.array(remoteProcessGroupSchema).default([]),
    })
    .strict(),
);
export type FlowFragment = z.output<typeof flowFragmentSchema>;

export const copyRequestSchema = named(
  'CopyRequest',
  z.object({ componentIds: z.array(idSchema).min(1) }).strict(),
  'Components of one process group to copy; connections between them are included.',
);

export const pasteRequestSchema = named(
  'PasteRequest',
  z
    .object({
      /** Copy these components (server side, sensitive values included) ... */
      componentIds: z.array(idSchema).min(1).optional(),
      /** ... or paste this fragment (from `POST /flow/copy`, possibly of another instance). */
      fragment: flowFragmentSchema.optional(),
      /** Added to every pasted position (default 25, 25). */
      offset: positionSchema.optional(),
    })
    .strict()
    .refine((r) => (r.componentIds === undefined) !== (r.fragment === undefined), {
      message: 'give either componentIds or fragment',
      path: ['componentIds'],
    }),
);

export const pasteResultSchema = named(
  'PasteResult',
  z.object({
    version: z.number().int(),
    /** Old id -> new id of everything pasted. */
    idMap: z.record(z.string(), idSchema),
    created: z.array(componentEntitySchema),
  }),
);
