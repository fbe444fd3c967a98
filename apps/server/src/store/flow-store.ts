import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { z } from 'zod';
import { AtomicJsonFile, writeFileAtomic } from './atomic-json-file.ts';

/** How many versions of the flow are kept (and restorable). */
export const KEPT_VERSIONS = 20;

const storedFlowSchema = z.object({
  format: z.literal(1),
  version: z.number().int().min(1),
  savedAt: z.number(),
  savedBy: z.string(),
  summary: z.string(),
  /** The flow document, sensitive values encrypted; the engine's parser checks it. */
  flow: z.unknown(),
  /** Component revisions, by id (kept here, not in the flow document format). */
  revisions: z.record(z.string(), z.number().int().min(0)),
});

/** One stored version of the flow. */
export type StoredFlow = z.infer<typeof storedFlowSchema>;

/** What a save records (the store assigns the version). */
export interface FlowSave {
  readonly flow: unknown;
  readonly revisions: Readonly<Record<string, number>>;
  readonly savedBy: string;
  readonly summary: string;
}

/**
 * The flow definition on disk: `flow.json` in the data directory (lowdb, written atomically with
 * fsync) holds the current version; `flow-history/` keeps the last {@link KEPT_VERSIONS} versions.
 * Never holds FlowFiles or queue state. Saves are serialized.
 */
export class FlowStore {
  readonly path: string;
  readonly #historyDir: string;
  readonly #db: Low<StoredFlow | null>;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(dataDir: string) {
    this.path = join(dataDir, 'flow.json');
    this.#historyDir = join(dataDir, 'flow-history');
    this.#db = new Low<StoredFlow | null>(new AtomicJsonFile(this.path, storedFlowSchema.nullable()), null);
  }

  /**
   * Opens the store (reads flow.json if there is one).
   * @throws {Error} naming the file when flow.json is unreadable or malformed.
   */
  static async open(dataDir: string): Promise<FlowStore> {
    const store = new FlowStore(dataDir);
    await mkdir(store.#historyDir, { recursive: true });
    await store.#db.read();
    // A crash between writing a history file and flow.json leaves a version that never became current.
    const current = store.#db.data?.version ?? 0;
    for (const version of await store.#historyVersions()) {
      if (version > current) await unlink(store.#historyFile(version)).catch(() => undefined);
    }
    return store;
  }

  /** The current version, or undefined for a new data directory. */
  get current(): StoredFlow | undefined {
    return this.#db.data ?? undefined;
  }

  /**
   * Saves the flow. `newVersion` (the default) makes it a new version, kept in the history;
   * otherwise flow.json is rewritten under the current version (run-state changes, which would
   * otherwise push real edits out of the history).
   * Resolves with the version once the file is durable.
   */
  save(entry: FlowSave, options: { newVersion?: boolean } = {}): Promise<number> {
    const run = this.#queue.then(() => this.#save(entry, options.newVersion ?? true));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #save(entry: FlowSave, newVersion: boolean): Promise<number> {
    const previous = this.#db.data;
    const version = previous === null ? 1 : newVersion ? previous.version + 1 : previous.version;
    const stored: StoredFlow = {
      format: 1,
      version,
      savedAt: Date.now(),
      savedBy: entry.savedBy,
      summary: entry.summary,
      flow: entry.flow,
      revisions: { ...entry.revisions },
    };
    if (newVersion || previous === null) {
      await writeFileAtomic(this.#historyFile(version), `${JSON.stringify(stored)}\n`);
    }
    this.#db.data = stored;
    try {
      await this.#db.write();
    } catch (e) {
      this.#db.data = previous;
      throw e;
    }
    if (newVersion) await this.#prune();
    return version;
  }

  async #prune(): Promise<void> {
    const versions = await this.#historyVersions();
    for (const version of versions.slice(KEPT_VERSIONS)) await unlink(this.#historyFile(version)).catch(() => undefined);
  }

  /** Kept versions, newest first (metadata only). */
  async versions(): Promise<Array<Omit<StoredFlow, 'flow' | 'revisions' | 'format'>>> {
    const out: Array<Omit<StoredFlow, 'flow' | 'revisions' | 'format'>> = [];
    for (const version of await this.#historyVersions()) {
      const stored = await this.version(version);
      if (stored !== undefined) out.push({ version, savedAt: stored.savedAt, savedBy: stored.savedBy, summary: stored.summary });
    }
    return out;
  }

  /** A kept version, or undefined when it is not (or no longer) kept. */
  async version(version: number): Promise<StoredFlow | undefined> {
    if (!Number.isInteger(version) || version < 1) return undefined;
    const stored = await new AtomicJsonFile(this.#historyFile(version), storedFlowSchema).read();
    return stored ?? undefined;
  }

  /** Size of flow.json in bytes (diagnostics). */
  async bytes(): Promise<number> {
    try {
      return (await stat(this.path)).size;
    } catch {
      return 0;
    }
  }

  /** Waits for pending saves. */
  async close(): Promise<void> {
    await this.#queue;
  }

  #historyFile(version: number): string {
    return join(this.#historyDir, `flow-${String(version).padStart(8, '0')}.json`);
  }

  async #historyVersions(): Promise<number[]> {
    const names = await readdir(this.#historyDir).catch(() => [] as string[]);
    return names
      .map((n) => /^flow-(\d{8})\.json$/.exec(n)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => b - a);
  }
}
