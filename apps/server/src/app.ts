import { existsSync, mkdirSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { LogLevel } from '@sluice/api';
import {
  Engine,
  type EngineOptions,
  type ExtensionRegistry,
  emptyFlow,
  type FlowDocumentInput,
  type LogEntry,
  type LogSink,
  parseFlowDocument,
} from '@sluice/engine';
import { buildOpenApiDocument, routes } from '@sluice/protocol';
import type { SiteToSiteServer } from '@sluice/site-to-site';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Server as SocketServer } from 'socket.io';
import { DEMO_FLOW } from './demo-flow.ts';
import { FlowService } from './flow/flow-service.ts';
import { SensitivePolicy } from './flow/sensitive.ts';
import { ApiError, errorBody } from './http/errors.ts';
import { type Handlers, registerRoutes, sessionIdFrom } from './http/router.ts';
import { LiveHub } from './live/live-hub.ts';
import { authRoutes } from './routes/auth.ts';
import { componentRoutes } from './routes/components.ts';
import { flowRoutes } from './routes/flow.ts';
import { provenanceRoutes } from './routes/provenance.ts';
import { queueRoutes } from './routes/queues.ts';
import { runStatusRoutes } from './routes/run-status.ts';
import { snippetRoutes } from './routes/snippets.ts';
import { statusRoutes } from './routes/status.ts';
import { typeRoutes } from './routes/types.ts';
import { standardRegistry } from './run-command.ts';
import { type LoginLimits, LoginRateLimiter } from './security/rate-limit.ts';
import { SensitiveCipher } from './security/sensitive-cipher.ts';
import { SessionManager, type SessionOptions } from './security/sessions.ts';
import { UserStore } from './security/user-store.ts';
import type { ServerContext } from './server-context.ts';
import { mountSiteToSite, type SiteToSiteOptions } from './site-to-site/mount.ts';
import { Diagnostics } from './status/diagnostics.ts';
import { Metrics } from './status/metrics.ts';
import { StatusHistoryRecorder } from './status/status-history.ts';
import { FlowStore } from './store/flow-store.ts';
import { SnippetStore } from './store/snippet-store.ts';

/** The server's version (the OpenAPI document and diagnostics show it). */
export const SERVER_VERSION = '0.1.0';

/** How a server is set up. Defaults in parentheses. */
export interface ServerOptions {
  /** Root of the flow store, users, key file and repositories (`./data`). */
  readonly dataDir: string;
  /** Address to bind (127.0.0.1: reachable from this machine only). */
  readonly host?: string;
  /** Port (8080); 0 picks a free one. */
  readonly port?: number;
  /**
   * Serve HTTPS with this PEM key and certificate. With `ca`, clients may present certificates it
   * signed: a Site-to-Site client's certificate DN is then its identity (mutual TLS).
   */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer; readonly ca?: string | Buffer };
  readonly durability?: 'process' | 'power';
  /** Directories file processors may use (the working directory). */
  readonly fileRoots?: readonly string[];
  /** Processor and service types (everything this build ships). */
  readonly registry?: ExtensionRegistry;
  /** Further engine options (tests use volatile repositories). */
  readonly engine?: Partial<Omit<EngineOptions, 'dataDir' | 'registry' | 'logSink' | 'fileRoots' | 'durability'>>;
  /** Where log lines go (nowhere). */
  readonly logSink?: LogSink;
  readonly logLevel?: LogLevel;
  /** The flow of a new data directory: the demo (stopped), an empty flow, or a document ('demo'). */
  readonly initialFlow?: 'demo' | 'empty' | FlowDocumentInput;
  /** Largest accepted JSON body (10 MiB); larger ones get 413. */
  readonly maxBodyBytes?: number;
  /** Live status push interval (1000 ms). */
  readonly statusIntervalMs?: number;
  /** Status history sample interval (60 s). */
  readonly historyIntervalMs?: number;
  /** Bearer token that may read /metrics without a session (none: a session is required). */
  readonly metricsToken?: string;
  /** Extra origins allowed to call the API and open sockets (same origin only). */
  readonly allowedOrigins?: readonly string[];
  /** The editor's built files (apps/editor/dist); served at / when it holds an index.html. */
  readonly editorDir?: string;
  readonly sessions?: SessionOptions;
  readonly loginLimits?: LoginLimits;
  /** Push every status on every tick (benchmarks). */
  readonly fullStatusEveryTick?: boolean;
  /** Site-to-Site client tokens and settings (docs/site-to-site.md). */
  readonly siteToSite?: SiteToSiteOptions;
}

/** A running server. */
export interface SluiceServer {
  readonly app: Express;
  readonly httpServer: HttpServer;
  readonly io: SocketServer;
  readonly hub: LiveHub;
  readonly engine: Engine;
  readonly flows: FlowService;
  readonly context: ServerContext;
  /** The Site-to-Site endpoints (open transactions, for status and tests). */
  readonly siteToSite: SiteToSiteServer;
  /** Base URL (http(s)://host:port). */
  readonly url: string;
  readonly port: number;
  /** The login generated on first start (shown once; only its hash is stored). */
  readonly initialCredentials: { readonly username: string; readonly password: string } | undefined;
  /** Stops accepting requests, closes sockets, shuts the engine down cleanly. */
  close(): Promise<void>;
}

const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sluice</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1d2733}code{background:#eef1f4;padding:0 .25rem}</style>
</head><body>
<h1>Sluice is running</h1>
<p>The visual editor is not built into this server yet. The flow runs, and everything is reachable through the REST API
under <code>/api/v1</code> (log in with <code>POST /api/v1/auth/login</code>) and live updates over socket.io.</p>
<p>The API is described in <code>/api/v1/openapi.json</code> (after login) and in <code>docs/api.md</code>.</p>
</body></html>
`;

/**
 * Creates and starts a Sluice server: opens the repositories and the flow store under the data
 * directory (creating the admin login and the sensitive-value key on first start), applies the
 * stored flow, and serves the REST API, socket.io and /metrics on one HTTP(S) server.
 * @throws {Error} when the data directory is in use, the stored flow cannot be loaded, or the port is taken.
 */
export async function createServer(options: ServerOptions): Promise<SluiceServer> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const sink = options.logSink ?? (() => undefined);
  const log = (entry: Omit<LogEntry, 'time'>): void => sink({ time: Date.now(), ...entry });
  const registry = options.registry ?? standardRegistry();
  const cipher = SensitiveCipher.open(dataDir);
  const { store: users, generated } = await UserStore.open(dataDir);
  const engine = await Engine.open({
    ...options.engine,
    dataDir,
    registry,
    durability: options.durability ?? 'process',
    fileRoots: options.fileRoots ?? [process.cwd()],
    ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }),
    logSink: sink,
  });
  let flows: FlowService;
  let store: FlowStore;
  let snippets: SnippetStore;
  try {
    store = await FlowStore.open(dataDir);
    snippets = await SnippetStore.open(dataDir);
    const initial = options.initialFlow ?? 'demo';
    flows = await FlowService.load({
      engine,
      store,
      cipher,
      policy: new SensitivePolicy(registry),
      initial: () =>
        initial === 'demo' ? parseFlowDocument(DEMO_FLOW) : initial === 'empty' ? emptyFlow() : parseFlowDocument(initial),
      log,
    });
  } catch (e) {
    await engine.shutdown();
    throw e;
  }

  const secure = options.tls !== undefined;
  const allowedOrigins = options.allowedOrigins ?? [];
  const sessions = new SessionManager(options.sessions);
  const history = new StatusHistoryRecorder(
    engine,
    options.historyIntervalMs === undefined ? {} : { intervalMs: options.historyIntervalMs },
  );
  let hub: LiveHub | undefined;
  const diagnostics = new Diagnostics({ engine, store, dataDir, version: SERVER_VERSION, sockets: () => hub?.socketCount ?? 0 });
  const context: ServerContext = {
    engine,
    registry,
    flows,
    users,
    snippets,
    sessions,
    loginLimiter: new LoginRateLimiter(options.loginLimits),
    history,
    diagnostics,
    secure,
    version: SERVER_VERSION,
    openApi: buildOpenApiDocument(routes, SERVER_VERSION),
    log,
  };
  const metrics = new Metrics(engine, { token: options.metricsToken });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    next();
  });
  // Before the body parsers and CSRF checks: it streams request bodies and has its own access rules.
  const siteToSite = mountSiteToSite(app, engine, options.siteToSite ?? {}, log);

  const handlers: Handlers = {
    ...authRoutes(context),
    ...typeRoutes(context),
    ...flowRoutes(context),
    ...snippetRoutes(context),
    ...componentRoutes(context),
    ...runStatusRoutes(context),
    ...statusRoutes(context),
    ...queueRoutes(context),
    ...provenanceRoutes(context),
  };
  registerRoutes(app, handlers, {
    sessions,
    maxBodyBytes: options.maxBodyBytes ?? 10 * 1024 * 1024,
    secure,
    allowedOrigins,
    onError: (error, req) => log({ level: 'ERROR', message: `${req.method} ${req.originalUrl} failed`, error }),
  });

  // Prometheus: a logged-in session (any role) or the configured bearer token.
  app.get('/metrics', async (req: Request, res: Response) => {
    const session = sessions.get(sessionIdFrom(req.headers.cookie), false);
    if (session === undefined && !metrics.tokenMatches(req.get('authorization'))) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="sluice-metrics"');
      res.status(401).json(errorBody(new ApiError(401, 'metrics need a session or the metrics bearer token')));
      return;
    }
    try {
      const { contentType, body } = await metrics.render();
      res.setHeader('Content-Type', contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.send(body);
    } catch (e) {
      log({ level: 'ERROR', message: 'metrics failed', error: e });
      res.status(500).json(errorBody(new ApiError(500, 'metrics failed')));
    }
  });

  serveEditor(app, options.editorDir);

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    log({ level: 'ERROR', message: 'request failed', error });
    if (!res.headersSent) res.status(500).json(errorBody(new ApiError(500, 'internal error')));
  });

  const httpServer =
    secure && options.tls !== undefined
      ? createHttpsServer(
          {
            key: options.tls.key,
            cert: options.tls.cert,
            // Browsers without a certificate still get in: only Site-to-Site looks at it.
            ...(options.tls.ca === undefined ? {} : { ca: options.tls.ca, requestCert: true, rejectUnauthorized: false }),
          },
          app,
        )
      : createHttpServer(app);
  // Slow-loris and idle sockets: bound how long a request may take to arrive.
  httpServer.requestTimeout = 60_000;
  httpServer.headersTimeout = 20_000;
  hub = new LiveHub(httpServer, {
    engine,
    flows,
    snippets,
    sessions,
    secure,
    allowedOrigins,
    ...(options.statusIntervalMs === undefined ? {} : { statusIntervalMs: options.statusIntervalMs }),
    ...(options.fullStatusEveryTick === undefined ? {} : { fullStatusEveryTick: options.fullStatusEveryTick }),
    log,
  });
  const liveHub = hub;
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((done, fail) => {
      httpServer.once('error', fail);
      httpServer.listen(options.port ?? 8080, host, () => {
        httpServer.off('error', fail);
        done();
      });
    });
  } catch (e) {
    await liveHub.close();
    await engine.shutdown();
    throw e;
  }
  liveHub.start();
  history.start();
  diagnostics.start();
  const address = httpServer.address();
  const port = typeof address === 'object' && address !== null ? (address satisfies AddressInfo).port : (options.port ?? 8080);
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      history.stop();
      diagnostics.stop();
      await liveHub.close();
      await siteToSite.close();
      await new Promise<void>((done) => {
        httpServer.close(() => done());
        httpServer.closeAllConnections();
      });
      await flows.exclusive(async () => undefined);
      await engine.shutdown();
      await store.close();
      await snippets.close();
    })();
    return closing;
  };

  return {
    app,
    httpServer,
    io: liveHub.io,
    hub: liveHub,
    engine,
    flows,
    context,
    siteToSite,
    url: `${secure ? 'https' : 'http'}://${shownHost}:${port}`,
    port,
    initialCredentials: generated,
    close,
  };
}

/**
 * Serves the editor's built files when there are any (the editor is built by its own package);
 * until then a plain page says the server runs and where the API is.
 */
function serveEditor(app: Express, editorDir: string | undefined): void {
  const index = editorDir === undefined ? undefined : join(editorDir, 'index.html');
  if (editorDir !== undefined && index !== undefined && existsSync(index)) {
    app.use(express.static(editorDir, { index: 'index.html', fallthrough: true }));
    // Client-side routes of the single-page editor.
    app.get(/^\/(?!api\/|socket\.io\/|metrics$).*/, (_req: Request, res: Response) => {
      res.sendFile(index);
    });
    return;
  }
  app.get('/', (_req: Request, res: Response) => {
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.type('html').send(PLACEHOLDER);
  });
}
