import type { LogLevel } from '@sluice/api';

/** A message shown on a component (and the bulletin board) because it was logged at or above its bulletin level. */
export interface Bulletin {
  readonly id: number;
  readonly time: number;
  readonly level: LogLevel;
  /** Undefined for controller-level bulletins (disk full, recovery reports). */
  readonly componentId?: string;
  readonly componentName?: string;
  readonly componentType?: string;
  readonly groupId?: string;
  readonly message: string;
}

/** Options of the bulletin repository; defaults are NiFi's. */
export interface BulletinOptions {
  /** Bulletins kept per component (5). */
  readonly perComponent?: number;
  /** Controller-level bulletins kept (10). */
  readonly controllerLevel?: number;
  /** Age after which a bulletin disappears, in ms (5 minutes). */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

/**
 * Recent bulletins, in memory: the last few per component, expiring after five minutes, as in
 * NiFi's volatile bulletin repository. Listeners see each new bulletin (the server pushes them).
 */
export class BulletinRepository {
  readonly #perComponent: number;
  readonly #controllerLevel: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #byComponent = new Map<string, Bulletin[]>();
  #controller: Bulletin[] = [];
  #nextId = 1;
  readonly #listeners = new Set<(bulletin: Bulletin) => void>();

  constructor(options: BulletinOptions = {}) {
    this.#perComponent = options.perComponent ?? 5;
    this.#controllerLevel = options.controllerLevel ?? 10;
    this.#maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Records a bulletin and tells listeners. */
  add(bulletin: Omit<Bulletin, 'id' | 'time'>): Bulletin {
    const full: Bulletin = { ...bulletin, id: this.#nextId++, time: this.#now() };
    if (full.componentId === undefined) {
      this.#controller.push(full);
      if (this.#controller.length > this.#controllerLevel) this.#controller.shift();
    } else {
      let list = this.#byComponent.get(full.componentId);
      if (list === undefined) {
        list = [];
        this.#byComponent.set(full.componentId, list);
      }
      list.push(full);
      if (list.length > this.#perComponent) list.shift();
    }
    for (const listener of this.#listeners) listener(full);
    return full;
  }

  /** Unexpired bulletins, oldest first, optionally of one component or newer than an id. */
  list(filter: { componentId?: string; afterId?: number; minLevel?: LogLevel } = {}): Bulletin[] {
    const cutoff = this.#now() - this.#maxAgeMs;
    const sources =
      filter.componentId === undefined
        ? [this.#controller, ...this.#byComponent.values()]
        : [this.#byComponent.get(filter.componentId) ?? []];
    const out: Bulletin[] = [];
    for (const list of sources) {
      for (const b of list) {
        if (b.time < cutoff) continue;
        if (filter.afterId !== undefined && b.id <= filter.afterId) continue;
        out.push(b);
      }
    }
    return out.sort((a, b) => a.id - b.id);
  }

  /** Forgets a removed component's bulletins. */
  removeComponent(componentId: string): void {
    this.#byComponent.delete(componentId);
  }

  /** Subscribes to new bulletins; returns the unsubscribe function. */
  subscribe(listener: (bulletin: Bulletin) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
