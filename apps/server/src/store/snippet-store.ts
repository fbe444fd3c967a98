import { join } from 'node:path';
import { uuidv7 } from '@sluice/engine';
import {
  type FlowFragment,
  flowFragmentSchema,
  fragmentSize,
  SNIPPET_BYTES_MAX,
  SNIPPET_COUNT_MAX,
  type SnippetDto,
  type SnippetSummary,
  type SnippetsChanged,
} from '@sluice/protocol';
import { Low } from 'lowdb';
import { z } from 'zod';
import { AtomicJsonFile } from './atomic-json-file.ts';

/** All snippets together, as stored JSON (bytes): the file is rewritten whole on every change. */
export const SNIPPET_TOTAL_BYTES_MAX = 64 * 1024 * 1024;

const storedSnippetSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  savedAt: z.number(),
  savedBy: z.string(),
  fragment: flowFragmentSchema,
});
type StoredSnippet = z.infer<typeof storedSnippetSchema>;

const snippetsFileSchema = z.object({ format: z.literal(1), snippets: z.array(storedSnippetSchema) });
type SnippetsFile = z.infer<typeof snippetsFileSchema>;

/** Why a snippet was refused: `duplicate` (409), `too-large` or `full` (413). */
export class SnippetRefusedError extends Error {
  override readonly name = 'SnippetRefusedError';
  constructor(
    readonly reason: 'duplicate' | 'too-large' | 'full',
    message: string,
  ) {
    super(message);
  }
}

/** What a change tells listeners (the live hub adds nothing: it is sent as is). */
export type SnippetChange = SnippetsChanged;

/** A snippet to save. `fragment` must already be free of sensitive values (the store keeps what it gets). */
export interface SnippetSave {
  readonly name: string;
  readonly fragment: FlowFragment;
  readonly replace: boolean;
  readonly by: string;
  readonly clientId: string | null;
}

/**
 * The server's snippets (named flow fragments every user can paste, like NiFi's templates) in
 * `<dataDir>/snippets.json`: lowdb over {@link AtomicJsonFile} (temp + fsync + rename), changes
 * serialized. Bounded: {@link SNIPPET_COUNT_MAX} snippets of at most {@link SNIPPET_BYTES_MAX}
 * each, {@link SNIPPET_TOTAL_BYTES_MAX} in all. Held in memory (lists are answered from it).
 */
export class SnippetStore {
  readonly path: string;
  readonly #db: Low<SnippetsFile>;
  readonly #sizes = new Map<string, number>();
  readonly #listeners = new Set<(change: SnippetChange) => void>();
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(dataDir: string) {
    this.path = join(dataDir, 'snippets.json');
    this.#db = new Low<SnippetsFile>(new AtomicJsonFile(this.path, snippetsFileSchema), { format: 1, snippets: [] });
  }

  /**
   * Opens the store (reads snippets.json when there is one).
   * @throws {Error} naming the file when it is not valid JSON or malformed.
   */
  static async open(dataDir: string): Promise<SnippetStore> {
    const store = new SnippetStore(dataDir);
    await store.#db.read();
    for (const s of store.#db.data.snippets) store.#sizes.set(s.id, byteSize(s.fragment));
    return store;
  }

  /** Every snippet without its fragment, sorted by name. */
  list(): SnippetSummary[] {
    return [...this.#db.data.snippets].sort((a, b) => a.name.localeCompare(b.name)).map(summary);
  }

  /** One snippet with its fragment, or undefined. */
  get(id: string): SnippetDto | undefined {
    const stored = this.#db.data.snippets.find((s) => s.id === id);
    return stored === undefined ? undefined : { ...summary(stored), fragment: stored.fragment };
  }

  /**
   * Saves a snippet (or replaces the one of the same name when `replace`, keeping its id);
   * resolves once the file is durable.
   * @throws {SnippetRefusedError} for a duplicate name, a fragment over the size limit, or a full store.
   */
  save(entry: SnippetSave): Promise<SnippetDto> {
    return this.#serial(async () => {
      const size = byteSize(entry.fragment);
      if (size > SNIPPET_BYTES_MAX) {
        throw new SnippetRefusedError(
          'too-large',
          `the snippet "${entry.name}" is too large: its fragment takes ${formatBytes(size)}, at most ${formatBytes(SNIPPET_BYTES_MAX)} are allowed (save a smaller selection)`,
        );
      }
      const current = this.#db.data.snippets;
      const existing = current.find((s) => s.name === entry.name);
      if (existing !== undefined && !entry.replace) {
        throw new SnippetRefusedError(
          'duplicate',
          `a snippet named "${entry.name}" already exists: choose another name, or replace it`,
        );
      }
      if (existing === undefined && current.length >= SNIPPET_COUNT_MAX) {
        throw new SnippetRefusedError(
          'full',
          `there are already ${SNIPPET_COUNT_MAX} snippets, the most this server keeps: delete some first`,
        );
      }
      const total =
        [...this.#sizes.values()].reduce((a, b) => a + b, 0) - (existing === undefined ? 0 : (this.#sizes.get(existing.id) ?? 0));
      if (total + size > SNIPPET_TOTAL_BYTES_MAX) {
        throw new SnippetRefusedError(
          'full',
          `the snippets would take more than ${formatBytes(SNIPPET_TOTAL_BYTES_MAX)} together: delete some first`,
        );
      }
      const stored: StoredSnippet = {
        id: existing?.id ?? uuidv7(),
        name: entry.name,
        savedAt: Date.now(),
        savedBy: entry.by,
        fragment: entry.fragment,
      };
      await this.#write([...current.filter((s) => s !== existing), stored]);
      this.#sizes.set(stored.id, size);
      this.#emit({
        action: existing === undefined ? 'created' : 'replaced',
        id: stored.id,
        name: stored.name,
        by: entry.by,
        clientId: entry.clientId,
      });
      return { ...summary(stored), fragment: stored.fragment };
    });
  }

  /** Deletes a snippet; resolves with whether there was one, once the file is durable. */
  delete(id: string, by: string, clientId: string | null): Promise<boolean> {
    return this.#serial(async () => {
      const current = this.#db.data.snippets;
      const existing = current.find((s) => s.id === id);
      if (existing === undefined) return false;
      await this.#write(current.filter((s) => s !== existing));
      this.#sizes.delete(id);
      this.#emit({ action: 'deleted', id, name: existing.name, by, clientId });
      return true;
    });
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: (change: SnippetChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Waits for pending writes. */
  async close(): Promise<void> {
    await this.#queue.catch(() => undefined);
  }

  async #write(snippets: StoredSnippet[]): Promise<void> {
    const previous = this.#db.data;
    this.#db.data = { format: 1, snippets };
    try {
      await this.#db.write();
    } catch (e) {
      this.#db.data = previous;
      throw e;
    }
  }

  #emit(change: SnippetChange): void {
    for (const listener of this.#listeners) listener(change);
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function summary(s: StoredSnippet): SnippetSummary {
  return { id: s.id, name: s.name, savedAt: s.savedAt, savedBy: s.savedBy, componentCount: fragmentSize(s.fragment) };
}

function byteSize(fragment: FlowFragment): number {
  return Buffer.byteLength(JSON.stringify(fragment), 'utf8');
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
