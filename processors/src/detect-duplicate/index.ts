import { boolean, defineProcessor, PropertyValueError, service, string, timePeriod } from '@sluice/api';
import { MAP_CACHE_API, type MapCache } from '../distributed-map-cache/index.ts';

const BATCH = 100;
const DESCRIPTION_ATTRIBUTE = 'original.flowfile.description';
const FAILURE_ATTRIBUTE = 'detectduplicate.failure.reason';

/** What the cache holds per identifier: the first FlowFile's description and when it was seen. */
interface Seen {
  readonly description: string;
  readonly time: number;
}

/** Routes FlowFiles whose identifier was seen before (within an age) to duplicate (NiFi's DetectDuplicate). */
export const DetectDuplicate = defineProcessor({
  type: 'DetectDuplicate',
  description:
    "Detects duplicates by an identifier evaluated per FlowFile (by default ${hash.value}, e.g. from CryptographicHashContent), kept in a map cache: a FlowFile whose identifier is in the cache (and, with an Age Off Duration, was cached less than that long ago) goes to duplicate with the first FlowFile's description in original.flowfile.description; otherwise it goes to non-duplicate and its identifier is cached. An identifier that evaluates to nothing, or a cache that fails, sends the FlowFile to failure with the reason in detectduplicate.failure.reason.",
  tags: ['hash', 'dupe', 'duplicate', 'dedupe', 'cache'],
  input: 'required',
  properties: {
    cacheEntryIdentifier: string({
      displayName: 'Cache Entry Identifier',
      description: 'The identifier of a FlowFile (Expression Language per FlowFile).',
      default: '${hash.value}',
      required: true,
      expression: 'flowfile',
    }),
    flowFileDescription: string({
      displayName: 'FlowFile Description',
      description:
        'Stored with the identifier; duplicates get it in original.flowfile.description (Expression Language per FlowFile).',
      default: '',
      expression: 'flowfile',
    }),
    ageOffDuration: timePeriod({
      displayName: 'Age Off Duration',
      description: 'An identifier cached longer ago than this no longer makes a duplicate (never, when empty).',
      min: 1,
    }),
    cacheService: service(MAP_CACHE_API, {
      displayName: 'Distributed Cache Service',
      description: 'The map cache that remembers identifiers (e.g. a DistributedMapCache).',
      required: true,
    }),
    cacheIdentifier: boolean({
      displayName: 'Cache The Entry Identifier',
      description: 'Cache the identifiers of non-duplicates (false: only look them up, e.g. when another processor caches them).',
      default: 'true',
    }),
  },
  relationships: {
    duplicate: 'FlowFiles whose identifier was seen before',
    'non-duplicate': 'FlowFiles whose identifier was not seen before (or aged off)',
    failure: 'FlowFiles whose identifier is empty or could not be checked; detectduplicate.failure.reason says why',
  },
  writesAttributes: {
    [DESCRIPTION_ATTRIBUTE]: 'On duplicates: the description stored with the first FlowFile',
    [FAILURE_ATTRIBUTE]: 'Why the FlowFile went to failure',
  },
  async onScheduled(context) {
    // "as" for a generic service lookup: the engine checked that the service provides map-cache.
    const cache = context.getService<MapCache>('cacheService');
    await cache.open((path) => context.resolvePath(path));
    return { cache };
  },
  async onTrigger(session, context, { cache }) {
    const identifier = context.getProperty('cacheEntryIdentifier');
    const description = context.getProperty('flowFileDescription');
    const ageOff = context.getProperty('ageOffDuration').asTimePeriod();
    const store = context.getProperty('cacheIdentifier').asBoolean() !== false;
    for (let flowFile of session.getBatch(BATCH)) {
      let key: string;
      let text: string;
      try {
        key = identifier.evaluate(flowFile) ?? '';
        text = description.evaluate(flowFile) ?? '';
      } catch (e) {
        if (!(e instanceof PropertyValueError)) throw e;
        fail(e.message);
        continue;
      }
      if (key === '') {
        fail('Cache Entry Identifier evaluated to an empty value');
        continue;
      }
      try {
        const original = await check(cache, key, { description: text, time: Date.now() }, ageOff, store);
        if (original !== undefined) {
          flowFile = session.putAttribute(flowFile, DESCRIPTION_ATTRIBUTE, original.description);
          session.transfer(flowFile, 'duplicate');
          continue;
        }
        session.transfer(flowFile, 'non-duplicate');
      } catch (e) {
        fail(`the cache failed: ${e instanceof Error ? e.message : String(e)}`);
      }

      function fail(reason: string): void {
        context.logger.warn(`FlowFile ${flowFile.uuid} went to failure: ${reason}`);
        session.transfer(session.penalize(session.putAttribute(flowFile, FAILURE_ATTRIBUTE, reason)), 'failure');
      }
    }
  },
});

/**
 * Looks the identifier up and, when it is new (or aged off) and `store` is set, caches this
 * sighting in the same compare-and-set step, so two tasks seeing the same identifier at once cannot
 * both call it new. Returns the earlier sighting for a duplicate, undefined for a new identifier.
 * The cached entry expires with the age off, so the cache does not fill up with stale identifiers.
 */
async function check(
  cache: MapCache,
  key: string,
  seen: Seen,
  ageOff: number | undefined,
  store: boolean,
): Promise<Seen | undefined> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const existing = await cache.fetch(key);
    if (existing !== undefined) {
      // A value this processor did not write (or an older format) still marks the identifier as seen.
      const earlier = parseSeen(existing.value) ?? { description: '', time: seen.time };
      if (ageOff === undefined || seen.time - earlier.time < ageOff) return earlier;
    }
    if (!store) return undefined;
    const options = ageOff === undefined ? undefined : { ttlMs: ageOff };
    if (await cache.replace(key, JSON.stringify(seen), existing?.revision, options)) return undefined;
  }
  throw new Error(`the entry of "${key}" kept changing while it was checked`);
}

function parseSeen(value: string): Seen | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const description = 'description' in parsed ? parsed.description : undefined;
    const time = 'time' in parsed ? parsed.time : undefined;
    return typeof description === 'string' && typeof time === 'number' ? { description, time } : undefined;
  } catch {
    return undefined;
  }
}
