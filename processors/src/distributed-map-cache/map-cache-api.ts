/** The API string of map caches: `service(MAP_CACHE_API, ...)` properties accept services providing it. */
export const MAP_CACHE_API = 'map-cache';

/** A value with the revision it was read at, for compare-and-set updates. */
export interface MapCacheEntry {
  readonly value: string;
  /** Changes on every write of the key; pass it back to {@link MapCache.replace}. */
  readonly revision: number;
}

/** Options of a write. */
export interface MapCachePutOptions {
  /** The entry expires this many ms after the write (else the cache's default time to live, if any). */
  readonly ttlMs?: number;
}

/**
 * A string-to-string map shared by processors (DetectDuplicate, Wait, Notify), NiFi's
 * DistributedMapCacheClient. Methods are asynchronous so an implementation may be remote; each one
 * is atomic on its own. Read-modify-write cycles use {@link fetch} and {@link replace}.
 */
export interface MapCache {
  /**
   * Prepares the cache for a processor: loads the persistence file on first use, checking its path
   * with the processor's `context.resolvePath` (controller services cannot check paths themselves).
   * Call it from `onScheduled`. @throws {Error} when the file is outside the allowed roots or unreadable.
   */
  open(resolvePath: (path: string) => string): Promise<void>;
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string, options?: MapCachePutOptions): Promise<void>;
  /** Stores the value only when the key is absent; true when it was stored. */
  putIfAbsent(key: string, value: string, options?: MapCachePutOptions): Promise<boolean>;
  /**
   * Removes the key; with a revision, only if the key is still at that revision (compare and
   * delete). True when it was removed.
   */
  remove(key: string, revision?: number): Promise<boolean>;
  containsKey(key: string): Promise<boolean>;
  /** The value and its revision, or undefined when absent. */
  fetch(key: string): Promise<MapCacheEntry | undefined>;
  /**
   * Writes the value only if the key is still at `revision` (or, with `undefined`, still absent):
   * false when someone else wrote it meanwhile (read again and retry).
   */
  replace(key: string, value: string, revision: number | undefined, options?: MapCachePutOptions): Promise<boolean>;
}
