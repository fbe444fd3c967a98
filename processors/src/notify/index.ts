import { defineProcessor, type FlowFile, PropertyValueError, regex, service, string } from '@sluice/api';
import { MAP_CACHE_API, type MapCache } from '../distributed-map-cache/index.ts';
import { type CounterDelta, notifySignal } from './signal.ts';

const BATCH = 100;
const NOTIFIED_ATTRIBUTE = 'notified';
const FAILURE_ATTRIBUTE = 'notify.failure.reason';

/** What one FlowFile asks for. */
interface Request {
  readonly flowFile: FlowFile;
  readonly delta: CounterDelta;
  readonly attributes: Map<string, string>;
}

/** Increments a release signal in a map cache, for Wait to release FlowFiles (NiFi's Notify). */
export const Notify = defineProcessor({
  type: 'Notify',
  description:
    'Adds Signal Counter Delta to the counter Signal Counter Name of the release signal Release Signal Identifier, kept in a map cache, so that a Wait processor using the same cache can release the FlowFiles waiting for it. A delta of 0 resets the counter to 0. Attributes matching Attribute Cache Regex are stored with the signal, for Wait to copy onto the FlowFiles it releases. FlowFiles of one trigger are applied per signal in one atomic update. An identifier that evaluates to nothing, a delta that is not a whole number, or a cache entry that is not a signal sends the FlowFile to failure with the reason in notify.failure.reason.',
  tags: ['map', 'cache', 'notify', 'distributed', 'signal', 'release'],
  input: 'required',
  seeAlso: ['Wait', 'DistributedMapCache'],
  properties: {
    releaseSignalIdentifier: string({
      displayName: 'Release Signal Identifier',
      description: 'The signal to update (Expression Language per FlowFile), e.g. ${fragment.identifier}.',
      required: true,
      expression: 'flowfile',
    }),
    signalCounterName: string({
      displayName: 'Signal Counter Name',
      description: 'The counter of the signal to update (Expression Language per FlowFile).',
      default: 'default',
      required: true,
      expression: 'flowfile',
    }),
    signalCounterDelta: string({
      displayName: 'Signal Counter Delta',
      description: 'A whole number added to the counter; 0 resets it (Expression Language per FlowFile).',
      default: '1',
      required: true,
      expression: 'flowfile',
      validate: (value) => (/^\s*-?\d+\s*$/.test(value) ? undefined : `"${value}" is not a whole number`),
    }),
    attributeCacheRegex: regex({
      displayName: 'Attribute Cache Regex',
      description: 'Attributes whose whole name matches are stored with the signal (none when empty).',
    }),
    cacheService: service(MAP_CACHE_API, {
      displayName: 'Distributed Cache Service',
      description: 'The map cache holding signals; the Wait processors must use the same one.',
      required: true,
    }),
  },
  relationships: {
    success: 'FlowFiles whose signal was updated',
    failure: 'FlowFiles whose signal could not be updated; notify.failure.reason says why',
  },
  writesAttributes: {
    [NOTIFIED_ATTRIBUTE]: '"true" when the signal was updated, "false" on failure',
    [FAILURE_ATTRIBUTE]: 'Why the FlowFile went to failure',
  },
  async onScheduled(context) {
    // "as" for a generic service lookup: the engine checked that the service provides map-cache.
    const cache = context.getService<MapCache>('cacheService');
    await cache.open((path) => context.resolvePath(path));
    const pattern = context.getProperty('attributeCacheRegex').asRegExp();
    return {
      cache,
      attributePattern: pattern === undefined || pattern.source === '(?:)' ? undefined : new RegExp(`^(?:${pattern.source})$`),
    };
  },
  async onTrigger(session, context, { cache, attributePattern }) {
    const fail = (flowFile: FlowFile, reason: string): void => {
      context.logger.warn(`FlowFile ${flowFile.uuid} went to failure: ${reason}`);
      const failed = session.putAllAttributes(flowFile, { [NOTIFIED_ATTRIBUTE]: 'false', [FAILURE_ATTRIBUTE]: reason });
      session.transfer(session.penalize(failed), 'failure');
    };
    // Requests per signal, in arrival order: one compare-and-set per signal per trigger.
    const bySignal = new Map<string, Request[]>();
    for (const flowFile of session.getBatch(BATCH)) {
      let id: string;
      let counter: string;
      let deltaText: string;
      try {
        id = context.getProperty('releaseSignalIdentifier').evaluate(flowFile) ?? '';
        counter = context.getProperty('signalCounterName').evaluate(flowFile) ?? '';
        deltaText = (context.getProperty('signalCounterDelta').evaluate(flowFile) ?? '').trim();
      } catch (e) {
        if (!(e instanceof PropertyValueError)) throw e;
        fail(flowFile, e.message);
        continue;
      }
      if (id === '') {
        fail(flowFile, 'Release Signal Identifier evaluated to an empty value');
        continue;
      }
      if (!/^-?\d+$/.test(deltaText) || !Number.isSafeInteger(Number(deltaText))) {
        fail(flowFile, `Signal Counter Delta "${deltaText}" is not a whole number`);
        continue;
      }
      const attributes = new Map<string, string>();
      if (attributePattern !== undefined) {
        for (const [k, v] of flowFile.attributes) if (attributePattern.test(k)) attributes.set(k, v);
      }
      const requests = bySignal.get(id) ?? [];
      requests.push({ flowFile, delta: { counter: counter === '' ? 'default' : counter, delta: Number(deltaText) }, attributes });
      bySignal.set(id, requests);
    }
    for (const [id, requests] of bySignal) {
      const attributes = new Map<string, string>();
      for (const r of requests) for (const [k, v] of r.attributes) attributes.set(k, v);
      try {
        await notifySignal(
          cache,
          id,
          requests.map((r) => r.delta),
          attributes,
        );
      } catch (e) {
        const reason = `could not update signal "${id}": ${e instanceof Error ? e.message : String(e)}`;
        for (const r of requests) fail(r.flowFile, reason);
        continue;
      }
      for (const r of requests) session.transfer(session.putAttribute(r.flowFile, NOTIFIED_ATTRIBUTE, 'true'), 'success');
    }
  },
});
