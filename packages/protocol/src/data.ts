import { z } from 'zod';
import { named } from './registry.ts';

// Queues and provenance: the data moving through the flow.

export const queueListingQuerySchema = z
  .object({
    offset: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(10_000).default(100),
  })
  .strict();

export const queueEntrySchema = named(
  'QueueEntry',
  z.object({
    /** 1-based position in delivery order. */
    position: z.number(),
    uuid: z.string(),
    filename: z.string().nullable(),
    size: z.number(),
    entryDate: z.number(),
    lineageStartDate: z.number(),
    enqueuedAt: z.number(),
    penalized: z.boolean(),
    swapped: z.boolean(),
  }),
);

export const queueListingSchema = named(
  'QueueListing',
  z.object({
    connectionId: z.string(),
    total: z.object({ count: z.number(), bytes: z.number() }),
    offset: z.number(),
    limit: z.number(),
    items: z.array(queueEntrySchema),
  }),
  'A page of a queue in delivery order. Any offset works, whatever the queue size (swapped FlowFiles included).',
);

export const flowFileDetailSchema = named(
  'FlowFileDetail',
  z.object({
    uuid: z.string(),
    filename: z.string().nullable(),
    mimeType: z.string().nullable(),
    size: z.number(),
    entryDate: z.number(),
    lineageStartDate: z.number(),
    enqueuedAt: z.number(),
    penalized: z.boolean(),
    position: z.number(),
    attributes: z.record(z.string(), z.string()),
    contentAvailable: z.boolean(),
  }),
);

export const emptyQueueResultSchema = named('EmptyQueueResult', z.object({ dropped: z.number() }));

export const contentQuerySchema = z
  .object({
    /** `inline` to view in the browser, `attachment` (default) to download. */
    disposition: z.enum(['inline', 'attachment']).default('attachment'),
  })
  .strict();

// ---- provenance ---------------------------------------------------------------------------------------

export const PROVENANCE_EVENT_TYPE_NAMES = [
  'CREATE',
  'RECEIVE',
  'FETCH',
  'SEND',
  'UPLOAD',
  'REMOTE_INVOCATION',
  'DOWNLOAD',
  'DROP',
  'EXPIRE',
  'FORK',
  'JOIN',
  'CLONE',
  'CONTENT_MODIFIED',
  'ATTRIBUTES_MODIFIED',
  'ROUTE',
  'ADDINFO',
  'REPLAY',
  'UNKNOWN',
] as const;
export const provenanceEventTypeSchema = z.enum(PROVENANCE_EVENT_TYPE_NAMES);

export const provenanceSearchQuerySchema = named(
  'ProvenanceSearchQuery',
  z
    .object({
      componentId: z.string().optional(),
      eventType: provenanceEventTypeSchema.optional(),
      /** Events of this FlowFile, including those naming it as a parent or child. */
      uuid: z.string().optional(),
      filename: z.string().optional(),
      /** Exact match of an attribute value (combine with another criterion or a time range: not indexed). */
      attributeName: z.string().optional(),
      attributeValue: z.string().optional(),
      /** Epoch ms, inclusive. */
      startTime: z.coerce.number().int().optional(),
      endTime: z.coerce.number().int().optional(),
      limit: z.coerce.number().int().min(1).max(10_000).default(1000),
      /** Paging newest first: only events with a smaller id. */
      beforeEventId: z.coerce.number().int().optional(),
    })
    .strict()
    .refine((q) => (q.attributeName === undefined) === (q.attributeValue === undefined), {
      message: 'attributeName and attributeValue go together',
      path: ['attributeValue'],
    }),
);

const eventCore = {
  eventId: z.number(),
  eventType: provenanceEventTypeSchema,
  eventTime: z.number(),
  eventDurationMs: z.number().nullable(),
  flowFileUuid: z.string(),
  fileSize: z.number(),
  componentId: z.string(),
  componentType: z.string(),
  componentName: z.string().nullable(),
  relationship: z.string().nullable(),
  details: z.string().nullable(),
  filename: z.string().nullable(),
};

export const provenanceEventSummarySchema = named('ProvenanceEventSummary', z.object(eventCore));

export const provenanceSearchResultSchema = named(
  'ProvenanceSearchResult',
  z.object({
    events: z.array(provenanceEventSummarySchema),
    /** True when more events match than were returned (page on with beforeEventId). */
    more: z.boolean(),
    /**
     * The provenance repository the server runs with (`--provenance`): `volatile` keeps only the
     * latest events, in memory; `off` records none.
     */
    repository: z.enum(['durable', 'volatile', 'off']),
  }),
);

export const provenanceEventSchema = named(
  'ProvenanceEvent',
  z.object({
    ...eventCore,
    previousFileSize: z.number().nullable(),
    lineageStartDate: z.number(),
    flowFileEntryDate: z.number(),
    transitUri: z.string().nullable(),
    sourceSystemFlowFileId: z.string().nullable(),
    alternateIdentifierUri: z.string().nullable(),
    sourceQueueId: z.string().nullable(),
    parentUuids: z.array(z.string()),
    childUuids: z.array(z.string()),
    attributes: z.record(z.string(), z.string()),
    previousAttributes: z.record(z.string(), z.string()),
    /** Names of attributes the event added, changed or removed. */
    updatedAttributes: z.array(z.string()),
    inputContent: z.object({ size: z.number(), available: z.boolean() }).nullable(),
    outputContent: z.object({ size: z.number(), available: z.boolean() }).nullable(),
    /** Whether replay can work: it came from a queue that still exists and its input content is retained. */
    replayable: z.boolean(),
    replayExplanation: z.string().nullable(),
  }),
);
export type ProvenanceEventDto = z.infer<typeof provenanceEventSchema>;

export const lineageQuerySchema = z
  .object({ uuid: z.string().min(1), maxNodes: z.coerce.number().int().min(1).max(5000).optional() })
  .strict();

export const lineageGraphSchema = named(
  'LineageGraph',
  z.object({
    nodes: z.array(
      z.union([
        z.object({ kind: z.literal('flowfile'), id: z.string(), uuid: z.string() }),
        z.object({
          kind: z.literal('event'),
          id: z.string(),
          eventId: z.number(),
          eventType: provenanceEventTypeSchema,
          eventTime: z.number(),
          flowFileUuid: z.string(),
          componentId: z.string(),
          componentName: z.string().nullable(),
          parentUuids: z.array(z.string()),
          childUuids: z.array(z.string()),
        }),
      ]),
    ),
    links: z.array(z.object({ source: z.string(), target: z.string() })),
    /** Cut at the node limit: expand from the edge to see more. */
    truncated: z.boolean(),
  }),
  'FlowFile nodes and event nodes joined by links, as NiFi draws lineage.',
);

export const replayResultSchema = named(
  'ReplayResult',
  z.object({ uuid: z.string(), connectionId: z.string() }),
  'The new FlowFile (a child of the replayed one) and the queue it went to.',
);
