import { z } from 'zod';
import { idSchema } from './common.ts';
import { named } from './registry.ts';

const amount = named('Amount', z.object({ count: z.number(), bytes: z.number() }));

export const nodeRunStateSchema = z.enum(['STOPPED', 'STARTING', 'RUNNING', 'STOPPING', 'DISABLED']);

export const componentStatusSchema = named(
  'ComponentStatus',
  z.object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    kind: z.enum(['processor', 'input-port', 'output-port', 'funnel']),
    groupId: z.string(),
    runState: nodeRunStateSchema,
    validationErrors: z.array(z.string()),
    activeTasks: z.number(),
    /** Counts over the last five minutes. */
    input: amount,
    output: amount,
    readBytes: z.number(),
    writtenBytes: z.number(),
    tasks: z.number(),
    taskTimeMs: z.number(),
    counters: z.record(z.string(), z.number()),
  }),
  'A processor, port or funnel: run state, validity and five-minute counters.',
);
export type ComponentStatusDto = z.infer<typeof componentStatusSchema>;

export const connectionStatusSchema = named(
  'ConnectionStatus',
  z.object({
    id: z.string(),
    name: z.string(),
    groupId: z.string(),
    sourceId: z.string(),
    destinationId: z.string(),
    queued: amount,
    thresholds: amount,
    /** Fill ratios 0..1 against each back-pressure threshold. */
    fill: z.object({ count: z.number(), bytes: z.number() }),
    /** Back pressure is engaged. */
    full: z.boolean(),
    swappedCount: z.number(),
    inFlightCount: z.number(),
    penalizedCount: z.number(),
    input: amount,
    output: amount,
  }),
);
export type ConnectionStatusDto = z.infer<typeof connectionStatusSchema>;

export const serviceStatusSchema = named(
  'ControllerServiceStatus',
  z.object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    groupId: z.string(),
    state: z.enum(['ENABLED', 'DISABLED']),
    validationErrors: z.array(z.string()),
    /** Why enabling failed, if it did. */
    lastError: z.string().nullable(),
  }),
);
export type ServiceStatusDto = z.infer<typeof serviceStatusSchema>;

export const statusSnapshotSchema = named(
  'StatusSnapshot',
  z.object({
    time: z.number(),
    components: z.array(componentStatusSchema),
    connections: z.array(connectionStatusSchema),
    services: z.array(serviceStatusSchema),
  }),
);
export type StatusSnapshot = z.infer<typeof statusSnapshotSchema>;

export const statusDeltaSchema = named(
  'StatusDelta',
  z.object({
    time: z.number(),
    components: z.array(componentStatusSchema),
    connections: z.array(connectionStatusSchema),
    services: z.array(serviceStatusSchema),
    /** Ids that no longer have a status (removed from the flow). */
    removed: z.array(z.string()),
  }),
  'Only what changed since the previous push.',
);
export type StatusDelta = z.infer<typeof statusDeltaSchema>;

export const statusHistorySchema = named(
  'StatusHistory',
  z.object({
    id: idSchema,
    name: z.string(),
    kind: z.enum(['component', 'connection']),
    /** Time between samples, ms (one minute, as NiFi). */
    intervalMs: z.number(),
    /** Sample times (epoch ms), oldest first; at most one day. */
    times: z.array(z.number()),
    /** One value per sample time for each field (five-minute counters, queue sizes). */
    series: z.record(z.string(), z.array(z.number())),
  }),
  'Counts over time for a component or connection, sampled every minute and kept for 24 hours.',
);
export type StatusHistory = z.infer<typeof statusHistorySchema>;

export const bulletinSchema = named(
  'Bulletin',
  z.object({
    id: z.number(),
    time: z.number(),
    level: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']),
    componentId: z.string().optional(),
    componentName: z.string().optional(),
    componentType: z.string().optional(),
    groupId: z.string().optional(),
    message: z.string(),
  }),
);
export type BulletinDto = z.infer<typeof bulletinSchema>;
export const bulletinListSchema = named('BulletinList', z.object({ bulletins: z.array(bulletinSchema) }));

export const bulletinQuerySchema = z
  .object({
    componentId: z.string().optional(),
    afterId: z.coerce.number().int().min(0).optional(),
    minLevel: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).optional(),
  })
  .strict();

export const diagnosticsSchema = named(
  'SystemDiagnostics',
  z.object({
    time: z.number(),
    uptimeMs: z.number(),
    version: z.string(),
    node: z.string(),
    platform: z.string(),
    cpus: z.number(),
    memory: z.object({
      rssBytes: z.number(),
      heapUsedBytes: z.number(),
      heapTotalBytes: z.number(),
      heapLimitBytes: z.number(),
      externalBytes: z.number(),
    }),
    /** Event loop delay over the last minute (perf_hooks.monitorEventLoopDelay), ms. */
    eventLoopDelayMs: z.object({ mean: z.number(), p50: z.number(), p99: z.number(), max: z.number() }),
    cpu: z.object({ userMs: z.number(), systemMs: z.number() }),
    repositories: z.object({
      content: z.object({
        liveBytes: z.number(),
        archivedBytes: z.number(),
        resourceFiles: z.number(),
        archivedFiles: z.number(),
        full: z.boolean(),
      }),
      flowFile: z.object({
        journalBytes: z.number(),
        swapFiles: z.number(),
        lastCheckpointAt: z.number(),
        transactions: z.number(),
      }),
      provenance: z.object({
        /** The repository the server runs with (`--provenance`). */
        mode: z.enum(['durable', 'volatile', 'off']),
        events: z.number(),
        bytes: z.number(),
        oldestEventTime: z.number().nullable(),
        indexLag: z.number(),
      }),
      flow: z.object({ bytes: z.number(), version: z.number() }),
    }),
    disk: z.object({ path: z.string(), totalBytes: z.number(), freeBytes: z.number(), usedFraction: z.number() }),
    queued: z.object({ count: z.number(), bytes: z.number() }),
    sockets: z.number(),
  }),
);
export type Diagnostics = z.infer<typeof diagnosticsSchema>;

// ---- run state ------------------------------------------------------------------------------------

export const runStatusRequestSchema = named(
  'RunStatusRequest',
  z.object({ state: z.enum(['RUNNING', 'STOPPED', 'DISABLED']) }).strict(),
  'RUNNING starts, STOPPED stops (tasks in flight finish), DISABLED keeps a stopped component from starting.',
);

export const selectionRunStatusRequestSchema = named(
  'SelectionRunStatusRequest',
  z.object({ componentIds: z.array(idSchema).min(1), state: z.enum(['RUNNING', 'STOPPED', 'DISABLED']) }).strict(),
);

export const groupRunStatusRequestSchema = named(
  'GroupRunStatusRequest',
  z.object({ state: z.enum(['RUNNING', 'STOPPED']) }).strict(),
  'Starts (every valid component) or stops everything in a process group and its subgroups.',
);

export const serviceRunStatusRequestSchema = named(
  'ControllerServiceRunStatusRequest',
  z.object({ state: z.enum(['ENABLED', 'DISABLED']) }).strict(),
);

export const runStatusResultSchema = named(
  'RunStatusResult',
  z.object({
    /** Components now in the requested state. */
    changed: z.array(z.string()),
    /** Components that could not change, and why (invalid, disabled, ...). */
    failures: z.array(z.object({ id: z.string(), name: z.string(), reason: z.string() })),
  }),
);
export type RunStatusResult = z.infer<typeof runStatusResultSchema>;

export const validationResultSchema = named(
  'ValidationResult',
  z.object({ id: z.string(), valid: z.boolean(), errors: z.array(z.string()) }),
);
