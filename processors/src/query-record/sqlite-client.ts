import { Worker } from 'node:worker_threads';
import { type FromWorker, parseFromWorker, type ResultColumn, type ToWorker } from './sqlite-protocol.ts';

/** A successful reply of the worker. */
export interface WorkerReply {
  readonly columns?: readonly ResultColumn[];
  readonly rows?: readonly (readonly unknown[])[];
  readonly done?: boolean;
}

/** Distributive Omit, so each request variant keeps its own fields. */
type Request = ToWorker extends infer T ? (T extends ToWorker ? Omit<T, 'id'> : never) : never;

/** A query (or loading) that did not finish in time; the worker was terminated. */
export class QueryTimeoutError extends Error {
  override readonly name = 'QueryTimeoutError';
}

/**
 * Starts the worker. Production runs compiled JavaScript: the worker is the sibling `.js`. Tests
 * (and `--conditions=sluice-source`) run the TypeScript sources; tsx does not register its loader
 * inside worker threads on Node 20, so a two-line bootstrap imports the `.ts` worker through tsx's
 * `tsImport` API (as the engine's provenance indexer does).
 */
function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./sqlite-worker.js', here));
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./sqlite-worker.ts', here).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(here)}));`;
  return new Worker(bootstrap, { eval: true });
}

/** How long the worker may take to load (compiling TypeScript in tests, on a busy host) before it counts as broken. */
const STARTUP_TIMEOUT_MS = 60_000;

interface Pending {
  readonly resolve: (reply: WorkerReply) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The main thread's handle on one SQLite worker: request/reply with a deadline per request. When
 * a deadline passes, the worker is terminated (the only way to stop a running SQLite statement)
 * and the client is dead; callers start a new one. A crash of the worker rejects what is pending.
 */
export class SqliteClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #ready: Promise<void>;
  #nextId = 1;
  #dead: Error | undefined;
  #onDead: (error: Error) => void = () => undefined;

  constructor() {
    this.#worker = startWorker();
    this.#worker.unref();
    let ready: () => void = () => undefined;
    let notReady: (error: Error) => void = () => undefined;
    this.#ready = new Promise<void>((resolve, reject) => {
      ready = resolve;
      notReady = reject;
    });
    // Never an unhandled rejection: requests see the failure themselves.
    this.#ready.catch(() => undefined);
    const startup = setTimeout(() => {
      const error = new Error(`the SQLite worker did not start within ${STARTUP_TIMEOUT_MS} ms`);
      this.#fail(error);
      void this.#worker.terminate();
    }, STARTUP_TIMEOUT_MS);
    startup.unref();
    this.#onDead = (error) => {
      clearTimeout(startup);
      notReady(error);
    };
    this.#worker.on('message', (raw: unknown) => {
      let reply: FromWorker;
      try {
        reply = parseFromWorker(raw);
      } catch (e) {
        this.#fail(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      if (reply.id === 0) {
        clearTimeout(startup);
        ready();
        return;
      }
      const pending = this.#pending.get(reply.id);
      if (pending === undefined) return;
      this.#pending.delete(reply.id);
      clearTimeout(pending.timer);
      if (reply.ok) pending.resolve(reply);
      else pending.reject(new Error(reply.error));
    });
    this.#worker.on('error', (e) => this.#fail(e));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the SQLite worker exited (code ${code})`)));
  }

  /** Resolves once the worker has loaded (rejects if it could not start). */
  whenReady(): Promise<void> {
    return this.#ready;
  }

  /** Whether the worker can take requests. */
  get alive(): boolean {
    return this.#dead === undefined;
  }

  /**
   * Sends a request; rejects with the worker's error, or with a {@link QueryTimeoutError} (after
   * terminating the worker) when no reply comes within `timeoutMs`.
   */
  async request(message: Request, timeoutMs: number, what = 'the query'): Promise<WorkerReply> {
    await this.#ready;
    if (this.#dead !== undefined) throw this.#dead;
    const id = this.#nextId++;
    return new Promise<WorkerReply>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          const error = new QueryTimeoutError(`${what} did not finish within the Query Timeout of ${timeoutMs} ms`);
          this.#fail(error);
          void this.#worker.terminate();
        },
        Math.max(1, timeoutMs),
      );
      this.#pending.set(id, { resolve, reject, timer });
      this.#worker.postMessage({ ...message, id });
    });
  }

  #fail(error: Error): void {
    this.#dead ??= error;
    this.#onDead(error);
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.reject(error);
    }
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    this.#fail(new Error('the SQLite worker was closed'));
    await this.#worker.terminate();
  }
}
