import { FlowFileRecord } from '@sluice/engine';
import { routes } from '@sluice/protocol';
import { eventDto, eventSummaryDto, lineageDto } from '../dto.ts';
import { sendContent } from '../http/content.ts';
import { ApiError, notFound } from '../http/errors.ts';
import { bind } from '../http/router.ts';
import type { ServerContext } from '../server-context.ts';

/** Provenance search, events, lineage, content and replay. */
export function provenanceRoutes(context: ServerContext) {
  const { engine } = context;
  // Searches wait for events appended so far to be indexed, but not for long: a flow far ahead of
  // its provenance index still gets an answer (of what is indexed).
  const indexed = () => Promise.race([engine.provenance.waitForIndex(), new Promise<void>((r) => setTimeout(r, 2000).unref())]);
  const event = (id: number) => {
    const found = engine.provenance.getEvent(id);
    if (found === undefined) throw notFound(`provenance event ${id}`);
    return found;
  };
  return {
    searchProvenance: bind(routes.searchProvenance, async ({ query }) => {
      await indexed();
      const events = engine.provenance.search({
        ...(query.componentId === undefined ? {} : { componentId: query.componentId }),
        ...(query.eventType === undefined ? {} : { eventType: query.eventType }),
        ...(query.uuid === undefined ? {} : { flowFileUuid: query.uuid }),
        ...(query.filename === undefined ? {} : { filename: query.filename }),
        ...(query.attributeName === undefined || query.attributeValue === undefined
          ? {}
          : { attribute: { name: query.attributeName, value: query.attributeValue } }),
        ...(query.startTime === undefined ? {} : { startTime: query.startTime }),
        ...(query.endTime === undefined ? {} : { endTime: query.endTime }),
        ...(query.beforeEventId === undefined ? {} : { beforeEventId: query.beforeEventId }),
        // One more than asked tells whether there are more.
        limit: query.limit + 1,
      });
      return {
        events: events.slice(0, query.limit).map(eventSummaryDto),
        more: events.length > query.limit,
        repository: engine.options.provenance ?? 'durable',
      };
    }),
    getProvenanceEvent: bind(routes.getProvenanceEvent, ({ params }) => eventDto(event(params.eventId), engine)),
    getProvenanceContent: bind(routes.getProvenanceContent, ({ params, query, req, res, session }) => {
      const e = event(params.eventId);
      const input = params.direction === 'input';
      const claim = input ? e.previousContentClaim : e.contentClaim;
      const attributes = input && e.previousAttributes.size > 0 ? e.previousAttributes : e.attributes;
      if (claim === null) throw new ApiError(404, `event ${params.eventId} has no ${params.direction} content`);
      sendContent(engine, req, res, claim, {
        filename: attributes.get('filename') ?? e.flowFileUuid,
        mimeType: attributes.get('mime.type'),
        disposition: query.disposition,
      });
      engine.recordDownload(
        new FlowFileRecord(e.flowFileUuid, new Map(attributes), claim, e.flowFileEntryDate, e.lineageStartDate),
        session.username,
      );
      return undefined;
    }),
    replayEvent: bind(routes.replayEvent, async ({ params, session }) => {
      const e = event(params.eventId);
      const flowFile = await engine.replay(params.eventId, session.username);
      return { uuid: flowFile.uuid, connectionId: e.sourceQueueId ?? '' };
    }),
    getLineage: bind(routes.getLineage, async ({ query }) => {
      await indexed();
      return lineageDto(engine.provenance.lineage(query.uuid, query.maxNodes === undefined ? {} : { maxNodes: query.maxNodes }));
    }),
    expandParents: bind(routes.expandParents, async ({ params }) => {
      event(params.eventId);
      await indexed();
      return lineageDto(engine.provenance.expandParents(params.eventId));
    }),
    expandChildren: bind(routes.expandChildren, async ({ params }) => {
      event(params.eventId);
      await indexed();
      return lineageDto(engine.provenance.expandChildren(params.eventId));
    }),
  };
}
