/** What a reference-counted resource file (or in-memory resource) exposes to {@link ReferenceCounts}. */
export interface CountedResource {
  readonly id: string;
  /** FlowFile versions pointing into it. */
  count: number;
  /** Still takes bytes (the appendable file, a writer's file): never released while open. */
  open: boolean;
  lastWriteMs: number;
}

/** What the repository provides: its live resources, the grace, and how to release one. */
export interface ReferenceCountsHost<R extends CountedResource> {
  live(id: string): R | undefined;
  graceMs(): number;
  /** Moves a resource out of the live area (archive, delete or drop). */
  releaseNow(resource: R, now: number): void;
}

/**
 * Claimant counts shared by the file and memory content repositories: counting, the imbalance
 * checks, "phantom" counts for resources a restart found referenced but gone, and the release of
 * resources whose count reached zero once their last write is older than the grace (content
 * returned by a write has no claimant until the writing session claims it).
 */
export class ReferenceCounts<R extends CountedResource> {
  readonly #host: ReferenceCountsHost<R>;
  readonly #phantoms = new Map<string, number>();
  /** Unreferenced and sealed, waiting for the grace: roughly in order of last write. */
  readonly #pending = new Set<R>();
  #timer: NodeJS.Timeout | null = null;
  #timerDue = 0;
  #closed = false;

  constructor(host: ReferenceCountsHost<R>) {
    this.#host = host;
  }

  /** One more claimant of a live resource (or a phantom). Returns false when the id is unknown. */
  claim(id: string): boolean {
    const r = this.#host.live(id);
    if (r !== undefined) {
      r.count++;
      return true;
    }
    const phantom = this.#phantoms.get(id);
    if (phantom === undefined) return false;
    this.#phantoms.set(id, phantom + 1);
    return true;
  }

  /**
   * One claimant less; a sealed resource left with none is released (after the grace).
   * @throws {Error} on a claimant/release imbalance (a bug worth failing loudly on).
   */
  release(id: string): void {
    const r = this.#host.live(id);
    if (r !== undefined && r.count > 0) {
      r.count--;
      if (r.count === 0 && !r.open) this.unreferenced(r, Date.now());
      return;
    }
    const phantom = this.#phantoms.get(id);
    if (phantom !== undefined) {
      if (phantom <= 1) this.#phantoms.delete(id);
      else this.#phantoms.set(id, phantom - 1);
      return;
    }
    throw new Error(
      r === undefined
        ? `Release of unknown content resource ${id} (no claimant was counted): a claimant/release imbalance`
        : `Release of content resource ${id} whose claimant count is already 0: a claimant/release imbalance`,
    );
  }

  count(id: string): number {
    return this.#host.live(id)?.count ?? this.#phantoms.get(id) ?? 0;
  }

  /** Counts for a resource recovery found referenced but gone (reads fail, releases balance). */
  setPhantom(id: string, count: number): void {
    this.#phantoms.set(id, count);
  }

  hasPhantom(id: string): boolean {
    return this.#phantoms.has(id);
  }

  /** Count 0 and sealed: released now if its last write is older than the grace, else when it passes. */
  unreferenced(r: R, now: number): void {
    const grace = this.#host.graceMs();
    // Strictly greater: content written in this very millisecond may belong to a caller that has
    // not had the chance to claim it yet, so it always waits for a later timer tick.
    if (now - r.lastWriteMs > grace) {
      this.forget(r);
      this.#host.releaseNow(r, now);
      return;
    }
    this.#pending.add(r);
    this.#arm(r.lastWriteMs + grace + 1);
  }

  /** The repository dropped the resource by other means: stop waiting to release it. */
  forget(r: R): void {
    this.#pending.delete(r);
  }

  /** Releases every waiting resource whose grace has passed (also runs on its own timer). */
  processPending(now: number): void {
    const grace = this.#host.graceMs();
    for (const r of this.#pending) {
      if (now - r.lastWriteMs <= grace) {
        // Roughly ordered by due time: the rest waits for the next tick.
        this.#arm(r.lastWriteMs + grace + 1);
        return;
      }
      this.#pending.delete(r);
      if (r.count === 0 && !r.open && this.#host.live(r.id) === r) this.#host.releaseNow(r, now);
    }
  }

  #arm(due: number): void {
    if (this.#closed) return;
    if (this.#timer !== null) {
      if (this.#timerDue <= due) return;
      clearTimeout(this.#timer);
    }
    this.#timerDue = due;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.processPending(Date.now());
      },
      Math.max(0, due - Date.now()),
    );
    this.#timer.unref();
  }

  /** Stops the release timer (the repository is closing). */
  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
