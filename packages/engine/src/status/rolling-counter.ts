/**
 * Sums over a sliding window (five minutes by default) kept as fixed buckets, so recording is an
 * array write and reading is a short loop: status is read every second for every component.
 */
export class RollingCounter {
  readonly #bucketMs: number;
  readonly #values: Float64Array;
  readonly #stamps: Float64Array;

  constructor(windowMs = 5 * 60_000, buckets = 60) {
    this.#bucketMs = windowMs / buckets;
    this.#values = new Float64Array(buckets);
    this.#stamps = new Float64Array(buckets).fill(-1);
  }

  /** Adds `amount` at time `now`. */
  add(amount: number, now: number): void {
    const slot = Math.floor(now / this.#bucketMs);
    const i = slot % this.#values.length;
    if (this.#stamps[i] !== slot) {
      this.#stamps[i] = slot;
      this.#values[i] = 0;
    }
    this.#values[i] = (this.#values[i] ?? 0) + amount;
  }

  /** The sum over the window ending at `now`. */
  sum(now: number): number {
    const slot = Math.floor(now / this.#bucketMs);
    const oldest = slot - this.#values.length + 1;
    let total = 0;
    for (let i = 0; i < this.#values.length; i++) {
      const stamp = this.#stamps[i] ?? -1;
      if (stamp >= oldest && stamp <= slot) total += this.#values[i] ?? 0;
    }
    return total;
  }
}
