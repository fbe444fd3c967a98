import { Worker } from 'node:worker_threads';
import type { LogSink } from '../logging.ts';
import { type FromIndexer, type IndexerInit, parseFromIndexer, type ToIndexer } from './indexer-protocol.ts';

/** How long close() waits for the worker to finish its batch before terminating it. */
const STOP_TIMEOUT_MS = 10_000;
/**
 * Least time between two reports of journal writes to the worker while nobody waits for the
 * index: every `postMessage` costs the main thread a structured clone and a wake-up of the worker,
 * and a search sees events at most this much later (a search that waits is reported at once).
 */
const POST_INTERVAL_MS = 25;

/**
 * Starts the indexer worker. Production runs compiled JavaScript: the worker is the sibling `.js`.
 * Tests run the TypeScript sources; tsx (a root devDependency) does not register its loader
 * inside worker threads on Node 20 (`--import tsx` in the worker's execArgv fails with
 * ERR_UNKNOWN_FILE_EXTENSION), so a two-line bootstrap imports the `.ts` worker through
 * tsx's `tsImport` API instead.
 */
function startWorker(init: IndexerInit): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./indexer-worker.js', here), { workerData: init });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./indexer-worker.ts', here).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(here)}));`;
  return new Worker(bootstrap, { eval: true, workerData: init });
}

interface Waiter {
  readonly id: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * The main thread's handle on the indexer worker: reports what the journal writer wrote, tracks
 * the indexed id, and turns a worker crash into rejected promises and a logged error (never a hang).
 */
export class IndexerClient {
  readonly #log: LogSink | undefined;
  #worker: Worker | undefined;
  #indexedId = 0;
  #failure: Error | undefined;
  #stopping = false;
  #exited: Promise<void> = Promise.resolve();
  #waiters: Waiter[] = [];
  readonly #retains = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  #nextRequest = 1;
  #ready: { resolve: (indexedId: number) => void; reject: (error: Error) => void } | undefined;
  /** A 'written' message is with the worker and it has not reported being caught up since. */
  #outstanding = false;
  #latest: Extract<ToIndexer, { type: 'written' }> | undefined;
  #posted = '';
  #postedAt = 0;
  #postTimer: NodeJS.Timeout | undefined;

  constructor(log: LogSink | undefined) {
    this.#log = log;
  }

  /** The last id the index holds (every id up to it is searchable). */
  get indexedId(): number {
    return this.#indexedId;
  }

  /** The error that stopped the worker, if it failed. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Starts the worker; resolves with the indexed id once it has opened and reconciled the index. @throws what stopped the worker. */
  start(init: IndexerInit): Promise<number> {
    const worker = startWorker(init);
    this.#worker = worker;
    this.#outstanding = true;
    this.#exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (raw: unknown) => this.#onMessage(raw));
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => {
      if (!this.#stopping) this.#fail(new Error(`provenance indexer worker exited unexpectedly (code ${code})`));
      this.#worker = undefined;
    });
    return new Promise<number>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
  }

  /** Reports a write of the journal (coalesced: one message in flight at a time). */
  written(segment: number, end: number, lastId: number): void {
    this.#latest = { type: 'written', segment, end, lastId };
    if (!this.#outstanding) this.#postLatest();
  }

  /** Resolves when `id` is indexed. @throws the worker's failure. */
  waitFor(id: number): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#indexedId >= id) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ id, resolve, reject });
      // Someone waits: report what is written now rather than at the next interval.
      if (!this.#outstanding) this.#postLatest();
    });
  }

  /** Asks the worker to delete the index rows of segments; resolves when done. @throws the worker's failure. */
  retain(segments: readonly { firstId: number; path: string }[], nextFirstId: number): Promise<void> {
    const worker = this.#worker;
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (worker === undefined) return Promise.reject(new Error('provenance indexer is not running'));
    const requestId = this.#nextRequest++;
    return new Promise<void>((resolve, reject) => {
      this.#retains.set(requestId, { resolve, reject });
      const message: ToIndexer = { type: 'retain', requestId, segments, nextFirstId };
      worker.postMessage(message);
    });
  }

  /** Stops the worker after its current batch (terminating it if it does not stop in time). */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#postTimer);
    this.#postTimer = undefined;
    const worker = this.#worker;
    if (worker === undefined) return;
    // What is written but not yet reported (held back by the interval) is indexed before it stops.
    const latest = this.#latest;
    if (latest !== undefined && `${latest.segment}:${latest.end}` !== this.#posted) worker.postMessage(latest);
    const message: ToIndexer = { type: 'stop' };
    worker.postMessage(message);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
    });
    const result = await Promise.race([this.#exited.then((): 'exited' => 'exited'), timeout]);
    clearTimeout(timer);
    if (result === 'timeout') await worker.terminate();
    const closed = new Error('provenance repository closed');
    for (const w of this.#waiters.splice(0)) w.reject(closed);
    for (const r of this.#retains.values()) r.reject(closed);
    this.#retains.clear();
  }

  #postLatest(): void {
    const latest = this.#latest;
    const worker = this.#worker;
    if (latest === undefined || worker === undefined || this.#stopping) return;
    const key = `${latest.segment}:${latest.end}`;
    if (key === this.#posted) return;
    const now = Date.now();
    if (this.#waiters.length === 0 && now - this.#postedAt < POST_INTERVAL_MS) {
      this.#postTimer ??= setTimeout(
        () => {
          this.#postTimer = undefined;
          if (!this.#outstanding) this.#postLatest();
        },
        POST_INTERVAL_MS - (now - this.#postedAt),
      );
      this.#postTimer.unref();
      return;
    }
    clearTimeout(this.#postTimer);
    this.#postTimer = undefined;
    this.#posted = key;
    this.#postedAt = now;
    this.#outstanding = true;
    worker.postMessage(latest);
  }

  #onMessage(raw: unknown): void {
    let message: FromIndexer;
    try {
      message = parseFromIndexer(raw);
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    switch (message.type) {
      case 'ready':
        this.#advance(message.indexedId);
        this.#ready?.resolve(message.indexedId);
        this.#ready = undefined;
        break;
      case 'progress':
        this.#advance(message.indexedId);
        if (message.caughtUp) {
          this.#outstanding = false;
          this.#postLatest();
        }
        break;
      case 'retained': {
        const r = this.#retains.get(message.requestId);
        this.#retains.delete(message.requestId);
        r?.resolve();
        break;
      }
      case 'log':
        this.#log?.({ time: Date.now(), level: message.level, message: message.message });
        break;
    }
  }

  #advance(indexedId: number): void {
    if (indexedId <= this.#indexedId) return;
    this.#indexedId = indexedId;
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.id <= indexedId) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#log?.({ time: Date.now(), level: 'ERROR', message: `provenance indexer failed: ${error.message}`, error });
    this.#ready?.reject(error);
    this.#ready = undefined;
    for (const w of this.#waiters.splice(0)) w.reject(error);
    for (const r of this.#retains.values()) r.reject(error);
    this.#retains.clear();
  }
}
