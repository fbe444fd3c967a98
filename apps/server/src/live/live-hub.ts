import type { Server as HttpServer } from 'node:http';
import type { Engine, LogEntry } from '@sluice/engine';
import {
  type BulletinDto,
  type ComponentStatusDto,
  type ConnectionStatusDto,
  resyncRequestSchema,
  type ServerToClientEvents,
  type ServiceStatusDto,
  type StatusDelta,
  type StatusSnapshot,
} from '@sluice/protocol';
import { Server, type Socket } from 'socket.io';
import { statusSnapshot } from '../dto.ts';
import type { FlowService } from '../flow/flow-service.ts';
import { originAllowed, sessionIdFrom } from '../http/router.ts';
import type { SessionManager } from '../security/sessions.ts';
import type { SnippetStore } from '../store/snippet-store.ts';

// What clients send is untrusted: handlers take unknown arguments and parse them.
interface InboundEvents {
  resync: (...args: unknown[]) => void;
  ping: (...args: unknown[]) => void;
}
type SocketData = { sessionId: string; username: string };
type LiveSocket = Socket<InboundEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Options of the live hub. */
export interface LiveHubOptions {
  readonly engine: Engine;
  readonly flows: FlowService;
  /** Snippet changes are pushed as `snippets:changed` (none without a store). */
  readonly snippets?: Pick<SnippetStore, 'onChange'>;
  readonly sessions: SessionManager;
  readonly secure: boolean;
  readonly allowedOrigins: readonly string[];
  /** How often status is pushed (1000 ms). */
  readonly statusIntervalMs?: number;
  /**
   * Push every component's status on every tick instead of only what changed (benchmarks measure
   * the worst case with it).
   */
  readonly fullStatusEveryTick?: boolean;
  readonly log: (entry: Omit<LogEntry, 'time'>) => void;
}

/**
 * Live updates over socket.io (one server with the REST API): component, connection and service
 * status about once a second (only what changed), bulletins as they happen, and every flow change
 * with its revisions, so editors never poll and two of them editing at once stay in step.
 * The handshake needs a valid session cookie and, from a browser, this server's Origin.
 */
export class LiveHub {
  readonly io: Server<InboundEvents, ServerToClientEvents, Record<string, never>, SocketData>;
  readonly #options: LiveHubOptions;
  readonly #intervalMs: number;
  #last = {
    components: new Map<string, string>(),
    connections: new Map<string, string>(),
    services: new Map<string, string>(),
  };
  #bulletins: BulletinDto[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #unsubscribe: Array<() => void> = [];

  constructor(httpServer: HttpServer, options: LiveHubOptions) {
    this.#options = options;
    this.#intervalMs = options.statusIntervalMs ?? 1000;
    this.io = new Server(httpServer, {
      path: '/socket.io',
      serveClient: false,
      // Clients send tiny messages; a large one is an attack (socket.io parser DoS advisories).
      maxHttpBufferSize: 64 * 1024,
      connectTimeout: 10_000,
      allowRequest: (req, callback) => {
        const ok =
          originAllowed(req.headers.origin, req.headers.host, options.secure, options.allowedOrigins) &&
          options.sessions.get(sessionIdFrom(req.headers.cookie), false) !== undefined;
        callback(ok ? null : 'not logged in, or a foreign origin', ok);
      },
    });
    this.io.use((socket, next) => {
      const session = options.sessions.get(sessionIdFrom(socket.handshake.headers.cookie));
      if (session === undefined) {
        next(new Error('log in first'));
        return;
      }
      socket.data = { sessionId: session.id, username: session.username };
      next();
    });
    this.io.on('connection', (socket) => this.#connected(socket));
  }

  /** Starts pushing. */
  start(): void {
    const { engine, flows, sessions, snippets } = this.#options;
    if (snippets !== undefined) this.#unsubscribe.push(snippets.onChange((change) => this.io.emit('snippets:changed', change)));
    this.#unsubscribe.push(
      engine.bulletins.subscribe((b) => {
        if (this.io.engine.clientsCount > 0) this.#bulletins.push({ ...b });
      }),
      flows.onChange((event) => this.io.emit('flow:changed', event)),
      sessions.onEnd((session, reason) => {
        for (const socket of this.io.sockets.sockets.values()) {
          if (socket.data.sessionId === session.id) {
            socket.emit('session:ended', { reason });
            socket.disconnect(true);
          }
        }
      }),
    );
    this.#timer = setInterval(() => this.tick(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Connected sockets. */
  get socketCount(): number {
    return this.io.engine.clientsCount;
  }

  /** One push: status deltas and pending bulletins (public for benchmarks and tests). */
  tick(): void {
    try {
      this.#options.sessions.sweep();
      if (this.io.engine.clientsCount === 0) {
        this.#forget();
        return;
      }
      const snapshot = statusSnapshot(this.#options.engine);
      const delta = this.#delta(snapshot, this.#options.fullStatusEveryTick === true);
      if (delta.components.length + delta.connections.length + delta.services.length + delta.removed.length > 0) {
        this.io.emit('status:delta', delta);
      }
      if (this.#bulletins.length > 0) {
        this.io.emit('bulletins', { bulletins: this.#bulletins });
        this.#bulletins = [];
      }
    } catch (e) {
      this.#options.log({ level: 'ERROR', message: 'live status push failed', error: e });
    }
  }

  /** Closes every socket and the socket.io server (not the HTTP server). */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    this.io.disconnectSockets(true);
    this.io.engine.close();
  }

  #connected(socket: LiveSocket): void {
    const session = this.#options.sessions.get(socket.data.sessionId, false);
    if (session === undefined) {
      socket.disconnect(true);
      return;
    }
    socket.emit('hello', {
      username: session.username,
      role: session.role,
      flowVersion: this.#options.flows.version,
      statusIntervalMs: this.#intervalMs,
      serverTime: Date.now(),
    });
    socket.emit('status:full', this.#full());
    const fail = (event: string, error: string): void => {
      socket.emit('error', { event, error });
    };
    // A handler that throws must not take the process down with it (socket.io calls listeners
    // synchronously while decoding packets).
    const guarded =
      (event: string, handler: (...args: unknown[]) => void) =>
      (...args: unknown[]): void => {
        try {
          handler(...args);
        } catch (e) {
          this.#options.log({ level: 'ERROR', message: `socket event ${event} failed`, error: e });
          fail(event, 'internal error');
        }
      };
    socket.on(
      'resync',
      guarded('resync', (...args: unknown[]) => {
        const parsed = resyncRequestSchema.safeParse(args[0] ?? {});
        if (!parsed.success) {
          fail('resync', `malformed request: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
          return;
        }
        if (parsed.data.what === 'status') socket.emit('status:full', this.#full());
        else socket.emit('bulletins', { bulletins: this.#options.engine.bulletins.list().map((b) => ({ ...b })) });
      }),
    );
    socket.on(
      'ping',
      guarded('ping', (...args: unknown[]) => {
        const ack = args[args.length - 1];
        if (typeof ack !== 'function') {
          fail('ping', 'ping needs an acknowledgement callback');
          return;
        }
        ack({ serverTime: Date.now() });
      }),
    );
    socket.onAny((event: unknown) => {
      if (event !== 'resync' && event !== 'ping') fail(typeof event === 'string' ? event.slice(0, 64) : '?', 'unknown event');
    });
    // A socket error (a malformed packet) must end this socket, never the process.
    socket.on('error', () => socket.disconnect(true));
  }

  /** The full status for one socket (the broadcast baseline is not changed). */
  #full(): StatusSnapshot {
    return statusSnapshot(this.#options.engine);
  }

  #delta(snapshot: StatusSnapshot, full: boolean): StatusDelta {
    const removed: string[] = [];
    const pick = <T extends { id: string }>(items: readonly T[], last: Map<string, string>): T[] => {
      const out: T[] = [];
      const seen = new Set<string>();
      for (const item of items) {
        seen.add(item.id);
        const json = JSON.stringify(item);
        if (full || last.get(item.id) !== json) out.push(item);
        last.set(item.id, json);
      }
      for (const id of last.keys()) {
        if (!seen.has(id)) {
          last.delete(id);
          removed.push(id);
        }
      }
      return out;
    };
    const components: ComponentStatusDto[] = pick(snapshot.components, this.#last.components);
    const connections: ConnectionStatusDto[] = pick(snapshot.connections, this.#last.connections);
    const services: ServiceStatusDto[] = pick(snapshot.services, this.#last.services);
    return { time: snapshot.time, components, connections, services, removed };
  }

  #forget(): void {
    this.#last = { components: new Map(), connections: new Map(), services: new Map() };
    this.#bulletins = [];
  }
}
