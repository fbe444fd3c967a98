/** A binary min-heap ordered by a comparator (negative = `a` comes first). */
export class BinaryHeap<T> {
  #items: T[] = [];
  #compare: (a: T, b: T) => number;

  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(value: T): void {
    const items = this.#items;
    items.push(value);
    this.#siftUp(items.length - 1, value);
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) this.#siftDown(0, last);
    return top;
  }

  /** Replaces the contents (and optionally the order) in O(n). */
  reset(items: T[], compare: (a: T, b: T) => number = this.#compare): void {
    this.#compare = compare;
    this.#items = items;
    for (let i = (items.length >>> 1) - 1; i >= 0; i--) {
      const v = items[i];
      if (v !== undefined) this.#siftDown(i, v);
    }
  }

  /** Removes every element matching `predicate` in O(n); returns the removed. */
  removeWhere(predicate: (value: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: T[] = [];
    for (const v of this.#items) {
      if (predicate(v)) removed.push(v);
      else kept.push(v);
    }
    if (removed.length > 0) this.reset(kept);
    return removed;
  }

  /** The elements in heap (not sorted) order, as a new array. */
  toArray(): T[] {
    return this.#items.slice();
  }

  /** Empties the heap and returns what it held, in heap order. */
  drain(): T[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }

  #siftUp(index: number, value: T): void {
    const items = this.#items;
    const compare = this.#compare;
    let i = index;
    while (i > 0) {
      const parentIndex = (i - 1) >>> 1;
      const parent = items[parentIndex];
      if (parent === undefined || compare(value, parent) >= 0) break;
      items[i] = parent;
      i = parentIndex;
    }
    items[i] = value;
  }

  #siftDown(index: number, value: T): void {
    const items = this.#items;
    const compare = this.#compare;
    const n = items.length;
    let i = index;
    for (;;) {
      let childIndex = 2 * i + 1;
      if (childIndex >= n) break;
      let child = items[childIndex];
      const rightIndex = childIndex + 1;
      if (rightIndex < n) {
        const right = items[rightIndex];
        if (right !== undefined && child !== undefined && compare(right, child) < 0) {
          childIndex = rightIndex;
          child = right;
        }
      }
      if (child === undefined || compare(child, value) >= 0) break;
      items[i] = child;
      i = childIndex;
    }
    items[i] = value;
  }
}
