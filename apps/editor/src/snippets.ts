import { type FlowFragment, flowFragmentSchema, type Position } from '@sluice/protocol';

// Reusable snippets: a selection saved under a name and pasted from the palette. The server has no
// snippet route, so they live in this browser's localStorage, one list per user.

export interface Snippet {
  readonly name: string;
  readonly savedAt: string;
  readonly fragment: FlowFragment;
}

/** The snippets of a stored list that this version can read (others are dropped). */
function readSnippets(value: unknown): Snippet[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return [];
    const fields = new Map<string, unknown>(Object.entries(item));
    const name = fields.get('name');
    const savedAt = fields.get('savedAt');
    const fragment = flowFragmentSchema.safeParse(fields.get('fragment'));
    if (typeof name !== 'string' || name === '' || typeof savedAt !== 'string' || !fragment.success) return [];
    return [{ name, savedAt, fragment: fragment.data }];
  });
}

/** The localStorage key of a user's snippets. */
export function snippetKey(username: string): string {
  return `sluice.snippets:${username}`;
}

/** How many components a fragment holds (top level, connections not counted). */
export function fragmentSize(fragment: FlowFragment): number {
  return (
    fragment.processors.length +
    fragment.inputPorts.length +
    fragment.outputPorts.length +
    fragment.funnels.length +
    fragment.labels.length +
    fragment.processGroups.length +
    fragment.remoteProcessGroups.length
  );
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

/** A user's snippets in a Storage (localStorage in the browser), sorted by name; subscribable. */
export class SnippetStore {
  private readonly listeners = new Set<() => void>();
  private cache: readonly Snippet[] | undefined;

  constructor(
    private readonly storage: Pick<Storage, 'getItem' | 'setItem'>,
    private readonly key: string,
  ) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The snippets (the same array until they change, for useSyncExternalStore). */
  readonly list = (): readonly Snippet[] => {
    if (this.cache === undefined) {
      let parsed: readonly Snippet[] = [];
      try {
        const raw = this.storage.getItem(this.key);
        // A list this version cannot read (edited by hand, an older format) counts as empty.
        if (raw !== null) parsed = readSnippets(JSON.parse(raw));
      } catch {
        parsed = [];
      }
      this.cache = parsed;
    }
    return this.cache;
  };

  get(name: string): Snippet | undefined {
    return this.list().find((s) => s.name === name);
  }

  /** Saves (or replaces) a snippet. */
  save(name: string, fragment: FlowFragment, now = new Date()): void {
    const next = [...this.list().filter((s) => s.name !== name), { name, savedAt: now.toISOString(), fragment }];
    this.write(next.sort((a, b) => a.name.localeCompare(b.name)));
  }

  remove(name: string): void {
    this.write(this.list().filter((s) => s.name !== name));
  }

  private write(list: readonly Snippet[]): void {
    this.storage.setItem(this.key, JSON.stringify(list));
    this.cache = list;
    for (const listener of this.listeners) listener();
  }
}
