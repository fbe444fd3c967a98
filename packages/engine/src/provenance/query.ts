import type { ProvenanceEventRecord, ProvenanceQuery } from './types.ts';

/** Results of a search when the query gives no limit. */
export const DEFAULT_SEARCH_LIMIT = 1_000;
/** Most results a search returns. */
export const MAX_SEARCH_LIMIT = 10_000;

/** The effective limit of a query: default 1,000, at most 10,000, never negative. */
export function searchLimit(query: ProvenanceQuery): number {
  const limit = query.limit ?? DEFAULT_SEARCH_LIMIT;
  if (!Number.isFinite(limit)) return MAX_SEARCH_LIMIT;
  return Math.min(MAX_SEARCH_LIMIT, Math.max(0, Math.floor(limit)));
}

/**
 * The JSON text an attribute value takes inside attribute JSON (`"value"`, escaped as
 * JSON.stringify does): a cheap substring pre-filter before parsing a candidate's attributes.
 */
export function attributeNeedle(query: ProvenanceQuery): string | undefined {
  return query.attribute === undefined ? undefined : JSON.stringify(query.attribute.value);
}

/** Whether a decoded record satisfies the criteria the index cannot check exactly (filename text, attribute). */
export function matchesUnindexed(record: ProvenanceEventRecord, query: ProvenanceQuery): boolean {
  if (query.filename !== undefined && record.attributes.get('filename') !== query.filename) return false;
  const a = query.attribute;
  if (a !== undefined && record.attributes.get(a.name) !== a.value) return false;
  return true;
}
