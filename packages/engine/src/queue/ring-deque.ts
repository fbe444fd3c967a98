/**
 * A growable ring buffer with O(1) push and shift at both ends. Queues use it instead of
 * `Array.prototype.shift`, which copies the whole array once it is large.
 */
export class RingDeque<T> {
  #buf: (T | undefined)[];
  #mask: number;
  #head = 0;
  #size = 0;

  constructor() {
    this.#buf = new Array<T | undefined>(MIN_CAPACITY).fill(undefined);
    this.#mask = MIN_CAPACITY - 1;
  }

  get size(): number {
    return this.#size;
  }

  push(value: T): void {
    if (this.#size === this.#buf.length) this.#resize(this.#buf.length * 2);
    this.#buf[(this.#head + this.#size) & this.#mask] = value;
    this.#size++;
  }

  unshift(value: T): void {
    if (this.#size === this.#buf.length) this.#resize(this.#buf.length * 2);
    this.#head = (this.#head - 1) & this.#mask;
    this.#buf[this.#head] = value;
    this.#size++;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const value = this.#buf[this.#head];
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#size--;
    // Give memory back after a burst; an idle connection should not pin a 20,000-slot array.
    if (this.#size === 0 && this.#buf.length > SHRINK_ABOVE) this.#resize(MIN_CAPACITY);
    return value;
  }

  peekFront(): T | undefined {
    return this.#size === 0 ? undefined : this.#buf[this.#head];
  }

  peekBack(): T | undefined {
    return this.#size === 0 ? undefined : this.#buf[(this.#head + this.#size - 1) & this.#mask];
  }

  /** The element at `index` from the front (0-based), or undefined when out of range. */
  at(index: number): T | undefined {
    return index >= 0 && index < this.#size ? this.#buf[(this.#head + index) & this.#mask] : undefined;
  }

  clear(): void {
    this.#buf = new Array<T | undefined>(MIN_CAPACITY).fill(undefined);
    this.#mask = MIN_CAPACITY - 1;
    this.#head = 0;
    this.#size = 0;
  }

  /** Removes every element matching `predicate`, keeping the order of the rest; returns the removed. */
  removeWhere(predicate: (value: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: T[] = [];
    for (let i = 0; i < this.#size; i++) {
      const v = this.#buf[(this.#head + i) & this.#mask];
      if (v === undefined) continue;
      if (predicate(v)) removed.push(v);
      else kept.push(v);
    }
    if (removed.length > 0) {
      this.clear();
      for (const v of kept) this.push(v);
    }
    return removed;
  }

  /** The elements front to back, as a new array. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#size; i++) {
      const v = this.#buf[(this.#head + i) & this.#mask];
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  #resize(capacity: number): void {
    let cap = MIN_CAPACITY;
    while (cap < capacity || cap < this.#size) cap *= 2;
    const next = new Array<T | undefined>(cap).fill(undefined);
    for (let i = 0; i < this.#size; i++) next[i] = this.#buf[(this.#head + i) & this.#mask];
    this.#buf = next;
    this.#mask = cap - 1;
    this.#head = 0;
  }
}

/** Capacities are powers of two so an index wraps with a mask instead of a modulo. */
const MIN_CAPACITY = 64;
const SHRINK_ABOVE = 1024;
