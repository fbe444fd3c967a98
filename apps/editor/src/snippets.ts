import {
  type FlowFragment,
  flowFragmentSchema,
  fragmentSize,
  type Position,
  type SnippetDto,
  type SnippetSummary,
} from '@sluice/protocol';
import { ApiError, call } from './api.ts';

// Reusable snippets: a selection saved under a name on the server (for every user and browser) and
// pasted from the palette. The palette lists summaries; a snippet's fragment is fetched when pasted.

export { fragmentSize };

/** The server calls the store makes: the editor's API client, or a stand-in in tests. */
export interface SnippetTransport {
  list(): Promise<readonly SnippetSummary[]>;
  get(id: string): Promise<SnippetDto>;
  create(name: string, fragment: FlowFragment, replace: boolean): Promise<SnippetDto>;
  remove(id: string): Promise<void>;
}

/** The snippet routes of the REST API. */
export const apiSnippets: SnippetTransport = {
  list: async () => (await call('listSnippets')).snippets,
  get: (id) => call('getSnippet', { params: { id } }),
  create: (name, fragment, replace) => call('createSnippet', { body: { name, fragment, replace } }),
  remove: async (id) => {
    await call('deleteSnippet', { params: { id } });
  },
};

/** What {@link SnippetStore.migrate} did with the snippets this browser still held. */
export interface Migration {
  /** Uploaded to the server. */
  readonly uploaded: readonly string[];
  /** Left out because the server already has a snippet of that name. */
  readonly skipped: readonly string[];
  /** Refused by the server (too large, malformed): dropped, with the reason. */
  readonly failed: readonly { readonly name: string; readonly reason: string }[];
}

interface LegacySnippet {
  readonly name: string;
  readonly fragment: FlowFragment;
}

/** The snippets of a list stored by earlier versions in localStorage that can still be read. */
function readLegacy(value: unknown): LegacySnippet[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return [];
    const fields = new Map<string, unknown>(Object.entries(item));
    const name = fields.get('name');
    const fragment = flowFragmentSchema.safeParse(fields.get('fragment'));
    if (typeof name !== 'string' || name.trim() === '' || !fragment.success) return [];
    return [{ name: name.trim(), fragment: fragment.data }];
  });
}

/** The localStorage key under which earlier versions kept a user's snippets (read once, to migrate them). */
export function snippetKey(username: string): string {
  return `sluice.snippets:${username}`;
}

/** The offset that puts a fragment's top-left component at `at`. */
export function offsetTo(fragment: FlowFragment, at: Position): Position {
  const positions = [
    ...fragment.processors,
    ...fragment.inputPorts,
    ...fragment.outputPorts,
    ...fragment.funnels,
    ...fragment.labels,
    ...fragment.processGroups,
    ...fragment.remoteProcessGroups,
  ].flatMap((c) => (c.position === undefined ? [] : [c.position]));
  if (positions.length === 0) return at;
  const x = Math.min(...positions.map((p) => p.x));
  const y = Math.min(...positions.map((p) => p.y));
  return { x: Math.round(at.x - x), y: Math.round(at.y - y) };
}

/**
 * The server's snippets as the editor shows them: summaries sorted by name, reloaded after each
 * change (and when another editor changes them); subscribable for useSyncExternalStore.
 */
export class SnippetStore {
  private readonly listeners = new Set<() => void>();
  private cache: readonly SnippetSummary[] = [];
  private loads = 0;

  constructor(private readonly transport: SnippetTransport = apiSnippets) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The snippets last listed (the same array until they change, for useSyncExternalStore). */
  readonly list = (): readonly SnippetSummary[] => this.cache;

  /** The summary of the snippet named `name`, if the last list had one. */
  get(name: string): SnippetSummary | undefined {
    return this.cache.find((s) => s.name === name);
  }

  /** Lists the snippets again (an older answer arriving late never replaces a newer one). */
  async load(): Promise<void> {
    const load = ++this.loads;
    const list = await this.transport.list();
    if (load !== this.loads) return;
    this.cache = [...list].sort((a, b) => a.name.localeCompare(b.name));
    for (const listener of this.listeners) listener();
  }

  /**
   * The snippet named `name` with its fragment.
   * @throws {Error} when there is no such snippet (any more), or the server refuses.
   */
  async fetch(name: string): Promise<SnippetDto> {
    const summary = this.get(name);
    if (summary === undefined) throw new Error(`there is no snippet named "${name}"`);
    try {
      return await this.transport.get(summary.id);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) await this.load().catch(() => undefined);
      throw e;
    }
  }

  /**
   * Saves a snippet (`replace`: over the one of the same name).
   * @throws {ApiError} 409 when the name is taken and `replace` is false; 413 when it is too large.
   */
  async save(name: string, fragment: FlowFragment, replace = false): Promise<SnippetDto> {
    const saved = await this.transport.create(name, fragment, replace);
    await this.load();
    return saved;
  }

  /** Deletes the snippet named `name` (nothing when there is none). */
  async remove(name: string): Promise<void> {
    const summary = this.get(name);
    if (summary === undefined) return;
    try {
      await this.transport.remove(summary.id);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
    await this.load();
  }

  /**
   * Moves the snippets an earlier version kept in this browser (`key` of `storage`) to the server,
   * once: names the server already has are skipped; the key is removed afterwards. When the server
   * cannot be reached the key stays, to try again next time.
   */
  async migrate(storage: Pick<Storage, 'getItem' | 'removeItem'>, key: string): Promise<Migration> {
    const raw = storage.getItem(key);
    if (raw === null) return { uploaded: [], skipped: [], failed: [] };
    let legacy: LegacySnippet[] = [];
    try {
      legacy = readLegacy(JSON.parse(raw));
    } catch {
      // A list no version can read: nothing to move.
    }
    const existing = new Set((await this.transport.list()).map((s) => s.name));
    const uploaded: string[] = [];
    const skipped: string[] = [];
    const failed: { name: string; reason: string }[] = [];
    for (const snippet of legacy) {
      if (existing.has(snippet.name)) {
        skipped.push(snippet.name);
        continue;
      }
      try {
        await this.transport.create(snippet.name, snippet.fragment, false);
        uploaded.push(snippet.name);
        existing.add(snippet.name);
      } catch (e) {
        // Only a refusal of this snippet itself drops it; anything else (offline, logged out) keeps the key.
        if (!(e instanceof ApiError) || ![400, 409, 413].includes(e.status)) throw e;
        if (e.status === 409) skipped.push(snippet.name);
        else failed.push({ name: snippet.name, reason: e.message });
      }
    }
    storage.removeItem(key);
    await this.load();
    return { uploaded, skipped, failed };
  }
}
