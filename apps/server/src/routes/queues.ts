import { routes } from '@sluice/protocol';
import { sendContent } from '../http/content.ts';
import { notFound } from '../http/errors.ts';
import { bind } from '../http/router.ts';
import type { ServerContext } from '../server-context.ts';

/** Queue listings of any size, a FlowFile's attributes and content, emptying a queue. */
export function queueRoutes(context: ServerContext) {
  const { engine, flows } = context;
  const connection = (id: string) => {
    const found = engine.connection(id);
    if (found === undefined) throw notFound(`connection "${id}"`);
    return found;
  };
  const queued = (connectionId: string, uuid: string) => {
    const entry = connection(connectionId).queue.find(uuid);
    if (entry === undefined) throw notFound(`FlowFile ${uuid} in connection ${connectionId}`);
    return entry;
  };
  return {
    listQueue: bind(routes.listQueue, ({ params, query }) => {
      const size = connection(params.id).queue.size();
      const items = engine.listQueue(params.id, query.offset, query.limit).map((e) => ({
        position: e.position,
        uuid: e.flowFile.uuid,
        filename: e.flowFile.attributes.get('filename') ?? null,
        size: e.flowFile.size,
        entryDate: e.flowFile.entryDate,
        lineageStartDate: e.flowFile.lineageStartDate,
        enqueuedAt: e.enqueuedAt,
        penalized: e.penalized,
        swapped: e.swapped,
      }));
      return {
        connectionId: params.id,
        total: { count: size.count, bytes: size.bytes },
        offset: query.offset,
        limit: query.limit,
        items,
      };
    }),
    getQueuedFlowFile: bind(routes.getQueuedFlowFile, ({ params }) => {
      const entry = queued(params.id, params.uuid);
      const f = entry.flowFile;
      return {
        uuid: f.uuid,
        filename: f.attributes.get('filename') ?? null,
        mimeType: f.attributes.get('mime.type') ?? null,
        size: f.size,
        entryDate: f.entryDate,
        lineageStartDate: f.lineageStartDate,
        enqueuedAt: entry.enqueuedAt,
        penalized: entry.penalized,
        position: entry.position,
        attributes: Object.fromEntries(f.attributes),
        contentAvailable: f.claim === null || engine.content.isAvailable(f.claim),
      };
    }),
    getQueuedContent: bind(routes.getQueuedContent, ({ params, query, req, res, session }) => {
      const f = queued(params.id, params.uuid).flowFile;
      sendContent(engine, req, res, f.claim, {
        filename: f.attributes.get('filename') ?? f.uuid,
        mimeType: f.attributes.get('mime.type'),
        disposition: query.disposition,
      });
      engine.recordDownload(f, session.username, params.id);
      return undefined;
    }),
    emptyQueue: bind(routes.emptyQueue, async ({ params, session }) => {
      connection(params.id);
      const dropped = await flows.exclusive(() => engine.emptyQueue(params.id, session.username));
      context.log({ level: 'INFO', message: `${session.username} emptied queue ${params.id} (${dropped} FlowFiles dropped)` });
      return { dropped };
    }),
  };
}
