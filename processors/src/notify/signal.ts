import type { MapCache } from '../distributed-map-cache/index.ts';

/** The counter Wait uses to record what it consumed when it waits for the total of all counters. */
export const CONSUMED_COUNTER = 'consumed';

/** Compare-and-set attempts before an update of a signal gives up. */
const MAX_ATTEMPTS = 20;

/**
 * A release signal as Notify writes it and Wait reads it, one cache entry per signal identifier
 * (NiFi's WaitNotifyProtocol.Signal, same JSON shape): named counters, attributes to copy onto
 * released FlowFiles, and releases already earned but not yet used.
 */
export interface Signal {
  readonly counts: Map<string, number>;
  readonly attributes: Map<string, string>;
  releasableCount: number;
}

/** Thrown when a cache entry is not a signal (it was written by something else). */
export class SignalFormatError extends Error {
  override readonly name = 'SignalFormatError';
}

/** A new, empty signal. */
export function emptySignal(): Signal {
  return { counts: new Map(), attributes: new Map(), releasableCount: 0 };
}

/** The count of a counter, or of all counters together when no name is given. */
export function countOf(signal: Signal, counter: string | undefined): number {
  if (counter !== undefined && counter !== '') return signal.counts.get(counter) ?? 0;
  let total = 0;
  for (const n of signal.counts.values()) total += n;
  return total;
}

/**
 * Parses a cache entry. @throws {SignalFormatError} naming the identifier when it is not a signal.
 */
export function parseSignal(id: string, text: string): Signal {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new SignalFormatError(`the cache entry of signal "${id}" is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SignalFormatError(`the cache entry of signal "${id}" is not a signal object`);
  }
  const signal = emptySignal();
  const counts = 'counts' in parsed ? parsed.counts : undefined;
  const attributes = 'attributes' in parsed ? parsed.attributes : undefined;
  const releasable = 'releasableCount' in parsed ? parsed.releasableCount : 0;
  if (typeof counts === 'object' && counts !== null) {
    for (const [name, n] of Object.entries(counts)) {
      if (typeof n !== 'number' || !Number.isFinite(n))
        throw new SignalFormatError(`counter "${name}" of signal "${id}" is not a number`);
      signal.counts.set(name, n);
    }
  }
  if (typeof attributes === 'object' && attributes !== null) {
    for (const [name, v] of Object.entries(attributes)) if (typeof v === 'string') signal.attributes.set(name, v);
  }
  if (typeof releasable !== 'number' || !Number.isFinite(releasable)) {
    throw new SignalFormatError(`releasableCount of signal "${id}" is not a number`);
  }
  signal.releasableCount = releasable;
  return signal;
}

/** Serializes a signal (names are defined on null-prototype objects: `__proto__` stays a name). */
export function formatSignal(signal: Signal): string {
  return JSON.stringify({
    counts: plain(signal.counts),
    attributes: plain(signal.attributes),
    releasableCount: signal.releasableCount,
  });
}

function plain<V>(map: ReadonlyMap<string, V>): Record<string, V> {
  const out: Record<string, V> = Object.create(null);
  for (const [k, v] of map) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/** One change Notify makes: add `delta` to a counter (0 resets it to 0, as in NiFi). */
export interface CounterDelta {
  readonly counter: string;
  readonly delta: number;
}

/**
 * Applies counter changes and attributes to a signal in the cache, atomically (compare and set,
 * retried when another task wrote the signal meanwhile). Returns the signal as written.
 * @throws {SignalFormatError} when the entry is not a signal; Error when it keeps changing.
 */
export async function notifySignal(
  cache: MapCache,
  id: string,
  deltas: readonly CounterDelta[],
  attributes: ReadonlyMap<string, string>,
): Promise<Signal> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const entry = await cache.fetch(id);
    const signal = entry === undefined ? emptySignal() : parseSignal(id, entry.value);
    for (const [k, v] of attributes) signal.attributes.set(k, v);
    for (const { counter, delta } of deltas) {
      signal.counts.set(counter, delta === 0 ? 0 : (signal.counts.get(counter) ?? 0) + delta);
    }
    if (await cache.replace(id, formatSignal(signal), entry?.revision)) return signal;
  }
  throw new Error(`signal "${id}" kept changing; gave up after ${MAX_ATTEMPTS} attempts`);
}
