/** One user action that can be taken back and done again (both talk to the server). */
export interface Command {
  readonly label: string;
  undo(): Promise<void>;
  redo(): Promise<void>;
}

/**
 * Undo and redo for the canvas (NiFi has none). A component re-created by an undo or redo gets a new
 * id from the server; {@link IdAliases} maps the first id to the current one, so older commands that
 * name it still reach it.
 */
export class UndoStack {
  private past: Command[] = [];
  private future: Command[] = [];
  private readonly listeners = new Set<() => void>();
  private busy = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly limit = 100) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  get canUndo(): boolean {
    return this.past.length > 0 && !this.busy;
  }

  get canRedo(): boolean {
    return this.future.length > 0 && !this.busy;
  }

  /** A snapshot for useSyncExternalStore: "undo/redo" availability as one string. */
  readonly state = (): string => `${this.canUndo ? 1 : 0}${this.canRedo ? 1 : 0}`;

  /**
   * Runs canvas actions one after another: an undo pressed while a move is still on its way to the
   * server waits for it (and so undoes the move, not the action before it).
   */
  serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Records an action that was just done. */
  push(command: Command): void {
    this.past.push(command);
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
    this.emit();
  }

  async undo(): Promise<void> {
    const command = this.past.pop();
    if (command === undefined || this.busy) return;
    await this.run(command, () => command.undo(), this.future);
  }

  async redo(): Promise<void> {
    const command = this.future.pop();
    if (command === undefined || this.busy) return;
    await this.run(command, () => command.redo(), this.past);
  }

  clear(): void {
    this.past = [];
    this.future = [];
    this.emit();
  }

  private async run(command: Command, action: () => Promise<void>, onSuccess: Command[]): Promise<void> {
    this.busy = true;
    this.emit();
    try {
      await action();
      onSuccess.push(command);
    } finally {
      this.busy = false;
      this.emit();
    }
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

/** First id -> current id of components that undo/redo re-created. */
export class IdAliases {
  private readonly map = new Map<string, string>();

  resolve(id: string): string {
    let current = id;
    for (let hops = 0; hops < 1000; hops++) {
      const next = this.map.get(current);
      if (next === undefined) return current;
      current = next;
    }
    return current;
  }

  alias(from: string, to: string): void {
    if (from !== to) this.map.set(from, to);
  }
}
