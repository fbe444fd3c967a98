/**
 * Reads an own property of a parsed value without trusting its shape (no prototype lookups, no
 * casts). Used by the hand-written codecs on hot recovery paths where a zod schema would be slow.
 */
export function own(value: object, key: string): unknown {
  return Object.hasOwn(value, key) ? Reflect.get(value, key) : undefined;
}

/** Narrows to a non-null, non-array object. */
export function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
