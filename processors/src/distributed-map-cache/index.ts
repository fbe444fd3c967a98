import { type FileHandle, mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type ComponentLogger, choice, defineService, integer, string, timePeriod } from '@sluice/api';
import { MAP_CACHE_API, type MapCache, type MapCacheEntry, type MapCachePutOptions } from './map-cache-api.ts';

export { MAP_CACHE_API, type MapCache, type MapCacheEntry, type MapCachePutOptions } from './map-cache-api.ts';

/** Journal lines are written at most this long after the change (batched appends). */
const FLUSH_DELAY_MS = 20;
/** Expired entries are looked for this often, a slice at a time. */
const SWEEP_INTERVAL_MS = 5000;
const SWEEP_SLICE = 10_000;
/** The journal is rewritten as a snapshot once it holds this many more lines than live entries. */
const COMPACT_SLACK = 10_000;
/** Lines per write while a snapshot is written (keeps each step of the event loop short). */
const SNAPSHOT_CHUNK = 5000;

interface Stored {
  readonly value: string;
  readonly revision: number;
  /** Epoch ms, or 0 for never. */
  readonly expiresAt: number;
}

interface Settings {
  readonly persistenceFile: string | undefined;
  readonly maxEntries: number | undefined;
  readonly lru: boolean;
  readonly defaultTtlMs: number | undefined;
}

/**
 * The map cache of one Sluice instance (NiFi's DistributedMapCacheServer and its client in one):
 * processors of this instance share it through the `map-cache` API. NiFi runs the cache as a
 * separate server so a cluster can share it; a single instance needs no network hop, so this one
 * lives in the process. With a persistence file, every change is journaled (appended within
 * ~20 ms, rewritten as a snapshot when the journal grows), and the entries come back after a
 * restart; a crash loses at most the last few milliseconds of changes.
 */
export const DistributedMapCache = defineService({
  type: 'DistributedMapCache',
  description:
    "An in-process key-value cache shared by the processors of this Sluice instance (DetectDuplicate, Wait, Notify): NiFi's DistributedMapCacheServer and client in one, without the network hop a single instance does not need. Optionally bounded (least recently used or oldest entries are evicted), with a default time to live, and persisted to a journal file so its entries survive restarts (a crash loses at most the last ~20 ms of changes). The persistence file must lie under a directory file processors may use.",
  tags: ['cache', 'map', 'distributed', 'dedupe', 'state', 'wait', 'notify'],
  provides: [MAP_CACHE_API],
  restricted: 'writes its persistence file on the Sluice host',
  properties: {
    maxEntries: integer({
      displayName: 'Maximum Cache Entries',
      description: 'Entries kept at most; beyond that the Eviction Strategy removes one per new entry.',
      default: '10000',
      required: true,
      min: 1,
      max: 100_000_000,
    }),
    evictionStrategy: choice(
      [
        { value: 'LRU', displayName: 'Least Recently Used', description: 'Evict the entry read or written longest ago.' },
        { value: 'FIFO', displayName: 'First In, First Out', description: 'Evict the entry written longest ago.' },
      ],
      {
        displayName: 'Eviction Strategy',
        description: 'Which entry goes when the cache is full.',
        default: 'LRU',
        required: true,
      },
    ),
    entryTimeToLive: timePeriod({
      displayName: 'Entry Time To Live',
      description: 'Entries written without their own time to live expire this long after the write (never when empty).',
      min: 1,
    }),
    persistenceFile: string({
      displayName: 'Persistence File',
      description:
        'Journal file that keeps the entries across restarts (none when empty). It must lie under a directory file processors may use; it is checked when the first processor using the cache starts.',
      expression: 'environment',
    }),
  },
  enable(context) {
    const file = context.getProperty('persistenceFile').asString();
    return new InProcessMapCache(
      {
        persistenceFile: file === undefined || file.trim() === '' ? undefined : file,
        maxEntries: context.getProperty('maxEntries').asInteger(),
        lru: context.getProperty('evictionStrategy').asString() !== 'FIFO',
        defaultTtlMs: context.getProperty('entryTimeToLive').asTimePeriod(),
      },
      context.logger,
    );
  },
  async disable(cache) {
    await cache.close();
  },
});

/** The cache object processors receive. */
class InProcessMapCache implements MapCache {
  readonly #settings: Settings;
  readonly #logger: ComponentLogger;
  readonly #entries = new Map<string, Stored>();
  #revision = 0;
  #journal: Journal | undefined;
  #opening: Promise<void> | undefined;
  #sweepCursor: Iterator<[string, Stored]> | undefined;
  readonly #sweeper: NodeJS.Timeout;

  constructor(settings: Settings, logger: ComponentLogger) {
    this.#settings = settings;
    this.#logger = logger;
    this.#sweeper = setInterval(() => this.#sweep(Date.now()), SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
  }

  async open(resolvePath: (path: string) => string): Promise<void> {
    const file = this.#settings.persistenceFile;
    if (file === undefined) return;
    this.#opening ??= this.#load(resolvePath(file)).catch((e: unknown) => {
      // A later start may try again (e.g. once an administrator fixed the file's permissions).
      this.#opening = undefined;
      throw e;
    });
    await this.#opening;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#read(key)?.value;
  }

  async containsKey(key: string): Promise<boolean> {
    return this.#read(key) !== undefined;
  }

  async fetch(key: string): Promise<MapCacheEntry | undefined> {
    const stored = this.#read(key);
    return stored === undefined ? undefined : { value: stored.value, revision: stored.revision };
  }

  async put(key: string, value: string, options?: MapCachePutOptions): Promise<void> {
    this.#write(key, value, options);
  }

  async putIfAbsent(key: string, value: string, options?: MapCachePutOptions): Promise<boolean> {
    if (this.#read(key) !== undefined) return false;
    this.#write(key, value, options);
    return true;
  }

  async replace(key: string, value: string, revision: number | undefined, options?: MapCachePutOptions): Promise<boolean> {
    if (this.#read(key)?.revision !== revision) return false;
    this.#write(key, value, options);
    return true;
  }

  async remove(key: string, revision?: number): Promise<boolean> {
    const stored = this.#read(key);
    if (stored === undefined || (revision !== undefined && stored.revision !== revision)) return false;
    this.#delete(key);
    return true;
  }

  /** Flushes the journal and stops timers (the service is disabled). */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await this.#opening?.catch(() => undefined);
    await this.#journal?.close(this.#entries);
  }

  /** A live entry (refreshed for LRU), or undefined; expired entries are dropped on the way. */
  #read(key: string): Stored | undefined {
    this.#ready();
    const stored = this.#entries.get(key);
    if (stored === undefined) return undefined;
    if (stored.expiresAt !== 0 && stored.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    if (this.#settings.lru) {
      this.#entries.delete(key);
      this.#entries.set(key, stored);
    }
    return stored;
  }

  #write(key: string, value: string, options: MapCachePutOptions | undefined): void {
    this.#ready();
    const ttl = options?.ttlMs ?? this.#settings.defaultTtlMs;
    const stored: Stored = { value, revision: ++this.#revision, expiresAt: ttl === undefined ? 0 : Date.now() + ttl };
    // Re-inserting moves the key to the end: the newest write is the last to be evicted.
    this.#entries.delete(key);
    this.#entries.set(key, stored);
    this.#journal?.append(JSON.stringify([key, value, stored.revision, stored.expiresAt]));
    const max = this.#settings.maxEntries;
    while (max !== undefined && this.#entries.size > max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#delete(oldest.value);
    }
    this.#journal?.maybeCompact(this.#entries);
  }

  #delete(key: string): void {
    this.#entries.delete(key);
    this.#journal?.append(JSON.stringify([key]));
  }

  /** With persistence, the file must be loaded before the entries mean anything. */
  #ready(): void {
    if (this.#settings.persistenceFile !== undefined && this.#journal === undefined) {
      throw new Error('the map cache is not open yet: a processor must call open(context.resolvePath) in onScheduled first');
    }
  }

  async #load(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    let lines = 0;
    let torn = 0;
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      if (errorCode(e) !== 'ENOENT') throw e;
    }
    if (handle !== undefined) {
      try {
        for await (const line of handle.readLines({ encoding: 'utf8', autoClose: false })) {
          if (line === '') continue;
          lines++;
          if (!this.#replay(line)) torn++;
        }
      } finally {
        await handle.close();
      }
    }
    const now = Date.now();
    for (const [key, stored] of this.#entries) if (stored.expiresAt !== 0 && stored.expiresAt <= now) this.#entries.delete(key);
    if (torn > 0) this.#logger.warn(`ignored ${torn} unreadable line(s) of ${path} (a write cut short by a crash)`);
    this.#journal = await Journal.open(path, lines, this.#logger);
    // Start from a compact file: what was replayed, without superseded lines.
    this.#journal.compactNow(this.#entries);
    this.#logger.info(`map cache loaded ${this.#entries.size} entries from ${path}`);
  }

  /** Applies one journal line; false when it cannot be read. */
  #replay(line: string): boolean {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      return false;
    }
    if (!Array.isArray(record)) return false;
    const [key, value, revision, expiresAt]: unknown[] = record;
    if (typeof key !== 'string') return false;
    if (record.length === 1) {
      this.#entries.delete(key);
      return true;
    }
    if (typeof value !== 'string' || typeof revision !== 'number' || typeof expiresAt !== 'number') return false;
    this.#entries.delete(key);
    this.#entries.set(key, { value, revision, expiresAt });
    this.#revision = Math.max(this.#revision, revision);
    return true;
  }

  /** Drops expired entries, a slice per call, resuming where the last call stopped. */
  #sweep(now: number): void {
    if (this.#settings.persistenceFile !== undefined && this.#journal === undefined) return;
    this.#sweepCursor ??= this.#entries.entries();
    for (let i = 0; i < SWEEP_SLICE; i++) {
      const next = this.#sweepCursor.next();
      if (next.done === true) {
        this.#sweepCursor = undefined;
        return;
      }
      const [key, stored] = next.value;
      if (stored.expiresAt !== 0 && stored.expiresAt <= now) this.#entries.delete(key);
    }
  }
}

/**
 * The append-only journal of a persistent cache: changes are appended in batches, one ordered
 * chain of file operations; when superseded lines pile up it is rewritten from a snapshot
 * (temporary file, fsync, rename), and changes made meanwhile are appended to the new file.
 */
class Journal {
  readonly #path: string;
  readonly #logger: ComponentLogger;
  #handle: FileHandle;
  #pending: string[] = [];
  #lines: number;
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #compacting = false;
  #closed = false;

  private constructor(path: string, handle: FileHandle, lines: number, logger: ComponentLogger) {
    this.#path = path;
    this.#handle = handle;
    this.#lines = lines;
    this.#logger = logger;
  }

  static async open(path: string, lines: number, logger: ComponentLogger): Promise<Journal> {
    return new Journal(path, await open(path, 'a'), lines, logger);
  }

  append(line: string): void {
    if (this.#closed) return;
    this.#pending.push(line);
    this.#lines++;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#enqueue(() => this.#flush());
    }, FLUSH_DELAY_MS);
  }

  /** Rewrites the journal once it holds many more lines than there are entries. */
  maybeCompact(entries: ReadonlyMap<string, Stored>): void {
    if (!this.#compacting && this.#lines > 2 * entries.size + COMPACT_SLACK) this.compactNow(entries);
  }

  compactNow(entries: ReadonlyMap<string, Stored>): void {
    if (this.#closed || this.#compacting) return;
    this.#compacting = true;
    this.#enqueue(async () => {
      // Taken when this step runs: the snapshot holds every change so far, so pending lines are superseded.
      const snapshot = [...entries];
      this.#pending = [];
      this.#lines = snapshot.length;
      const temporary = `${this.#path}.compacting`;
      const out = await open(temporary, 'w');
      try {
        for (let i = 0; i < snapshot.length; i += SNAPSHOT_CHUNK) {
          let text = '';
          for (const [key, s] of snapshot.slice(i, i + SNAPSHOT_CHUNK)) {
            text += `${JSON.stringify([key, s.value, s.revision, s.expiresAt])}\n`;
          }
          await out.write(text);
        }
        await out.sync();
      } finally {
        await out.close();
      }
      await rename(temporary, this.#path);
      const previous = this.#handle;
      this.#handle = await open(this.#path, 'a');
      await previous.close();
    }).finally(() => {
      this.#compacting = false;
    });
  }

  /** Writes what is pending (as a snapshot, when the journal has grown) and closes the file. */
  async close(entries: ReadonlyMap<string, Stored>): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    // A snapshot still being written may have been outrun by many changes: then write a new one.
    await this.#chain;
    this.maybeCompact(entries);
    await this.#enqueue(() => this.#flush());
    this.#closed = true;
    await this.#chain;
    await this.#handle.close();
  }

  async #flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const text = `${this.#pending.join('\n')}\n`;
    this.#pending = [];
    await this.#handle.write(text);
  }

  /** Runs a file operation after the previous ones; failures are logged, and the chain goes on. */
  #enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(step).catch((e: unknown) => {
      this.#logger.error(`could not write the map cache journal ${this.#path}; recent changes may not survive a restart`, e);
    });
    this.#chain = run;
    return run;
  }
}

function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}
