import {
  API_PREFIX,
  CLIENT_ID_HEADER,
  CSRF_HEADER,
  noBody,
  type RouteName,
  type RouteSpec,
  roleAllows,
  routes,
  SESSION_COOKIE,
} from '@sluice/protocol';
import express, { type Express, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { ChangeContext } from '../flow/flow-service.ts';
import { type Session, SessionManager } from '../security/sessions.ts';
import { ApiError, errorBody, invalidInput, toApiError } from './errors.ts';

/** What a route handler gets: its inputs already checked by the route's schemas. */
export interface RouteContext<P, Q, B, S extends Session | undefined> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** The caller's session (the login route has none). */
  readonly session: S;
  /** Who is changing things, for the history and live events. */
  readonly change: ChangeContext;
  readonly req: Request;
  readonly res: Response;
}

/** A route's schemas, with the types they parse to. */
type TypedSpec<P, Q, B, O> = RouteSpec & {
  readonly params: z.ZodType<P>;
  readonly query: z.ZodType<Q>;
  readonly body: z.ZodType<B>;
  readonly response: z.ZodType<unknown, O> | 'binary' | 'empty';
};

/** A route with its implementation, ready to register. */
export interface BoundRoute {
  readonly spec: RouteSpec;
  readonly run: (req: Request, res: Response, options: RouterOptions) => Promise<void>;
}

/** Every route of the protocol's table, implemented (the compiler checks none is missing). */
export type Handlers = { readonly [K in RouteName]: BoundRoute };

/**
 * Implements a route that needs a session: the handler receives the parsed params, query and body
 * (typed from the route's schemas) and returns the response body (`binary` routes write it themselves).
 */
export function bind<P, Q, B, O>(
  spec: TypedSpec<P, Q, B, O>,
  handler: (context: RouteContext<P, Q, B, Session>) => Promise<O | undefined> | O | undefined,
): BoundRoute {
  return bindRoute(spec, async (session, input) => {
    if (session === undefined) throw new ApiError(401, 'log in first (POST /api/v1/auth/login)');
    return handler({ ...input, session });
  });
}

/** Implements a route anyone may call (login). */
export function bindPublic<P, Q, B, O>(
  spec: TypedSpec<P, Q, B, O>,
  handler: (context: RouteContext<P, Q, B, Session | undefined>) => Promise<O | undefined> | O | undefined,
): BoundRoute {
  return bindRoute(spec, (session, input) => handler({ ...input, session }));
}

function bindRoute<P, Q, B, O>(
  spec: TypedSpec<P, Q, B, O>,
  call: (
    session: Session | undefined,
    input: Omit<RouteContext<P, Q, B, undefined>, 'session'>,
  ) => Promise<O | undefined> | O | undefined,
): BoundRoute {
  const run = async (req: Request, res: Response, options: RouterOptions): Promise<void> => {
    try {
      const session = authorize(spec, req, options);
      let body: B;
      // Routes without a body do not read it (an identity check: noBody is one shared schema).
      if (Object.is(spec.body, noBody)) {
        body = spec.body.parse(undefined);
      } else {
        try {
          await options.readBody(req, res);
        } catch (e) {
          throw bodyError(e);
        }
        const parsed = spec.body.safeParse(req.body);
        if (!parsed.success) throw invalidInput('body', parsed.error);
        body = parsed.data;
      }
      const params = spec.params.safeParse({ ...req.params });
      if (!params.success) throw invalidInput('params', params.error);
      const query = spec.query.safeParse({ ...req.query });
      if (!query.success) throw invalidInput('query', query.error);
      const clientId = req.get(CLIENT_ID_HEADER);
      const result = await call(session, {
        params: params.data,
        query: query.data,
        body,
        change: { by: session?.username ?? 'anonymous', clientId: clientId === undefined ? null : clientId.slice(0, 128) },
        req,
        res,
      });
      if (res.headersSent || spec.response === 'binary') return;
      res.setHeader('Cache-Control', 'no-store');
      if (spec.response === 'empty') res.status(204).end();
      else res.status(spec.status ?? 200).json(result);
    } catch (e) {
      const error = toApiError(e);
      if (error.status === 500) options.onError(e, req);
      respondError(res, error);
    }
  };
  return { spec, run };
}

/** Reads the session cookie from a Cookie header. */
export function sessionIdFrom(cookieHeader: string | undefined): string | undefined {
  if (cookieHeader === undefined) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Whether an Origin header (if any) is this server's own origin or an allowed one. */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  secure: boolean,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true; // not a browser, or a same-origin GET: no cross-site risk
  if (allowed.includes(origin)) return true;
  if (host === undefined) return false;
  return origin === `${secure ? 'https' : 'http'}://${host}`;
}

/** Options of {@link registerRoutes}. */
export interface RouterOptions {
  readonly sessions: SessionManager;
  readonly maxBodyBytes: number;
  readonly secure: boolean;
  readonly allowedOrigins: readonly string[];
  readonly onError: (error: unknown, req: Request) => void;
  /** Parses the JSON body into req.body (with the size limit). */
  readonly readBody: (req: Request, res: Response) => Promise<void>;
}

function respondError(res: Response, error: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.status(error.status).json(errorBody(error));
}

/**
 * Registers every route of the protocol's table under /api/v1. Each request is authenticated (the
 * session cookie), checked for its role and, when it changes state, for the CSRF token and its
 * Origin; then its params, query and body are parsed with the route's zod schemas before the handler
 * runs. The body is read only after authentication, so an anonymous caller cannot make the server
 * parse a large body.
 * @throws {Error} when a handler is bound to another route's spec.
 */
export function registerRoutes(app: Express, handlers: Handlers, options: Omit<RouterOptions, 'readBody'>): void {
  const json = express.json({ limit: options.maxBodyBytes, strict: true });
  const withBody: RouterOptions = {
    ...options,
    readBody: (req, res) =>
      new Promise((resolve, reject) => {
        json(req, res, (error?: unknown) => (error === undefined ? resolve() : reject(error)));
      }),
  };
  for (const [name, spec] of Object.entries(routes)) {
    const bound = Object.hasOwn(handlers, name) ? Reflect.get(handlers, name) : undefined;
    if (!isBound(bound) || bound.spec !== spec) throw new Error(`route ${name} is not implemented by its own handler`);
    app[spec.method](`${API_PREFIX}${spec.path}`, (req, res) => bound.run(req, res, withBody));
  }

  // Anything else under the API prefix: 401 before login (no route discovery), 404 after.
  app.use(API_PREFIX, (req, res) => {
    const session = options.sessions.get(sessionIdFrom(req.headers.cookie), false);
    respondError(
      res,
      session === undefined ? new ApiError(401, 'log in first') : new ApiError(404, `no route ${req.method} ${req.originalUrl}`),
    );
  });
}

function isBound(value: unknown): value is BoundRoute {
  return typeof value === 'object' && value !== null && 'run' in value && 'spec' in value;
}

/**
 * The session allowed to call a route.
 * @throws {ApiError} 401 without a session, 403 for a missing CSRF token, a foreign Origin or a weaker role.
 */
export function authorize(
  route: RouteSpec,
  req: Request,
  options: Pick<RouterOptions, 'sessions' | 'secure' | 'allowedOrigins'>,
): Session | undefined {
  const changesState = route.method !== 'get';
  if (changesState && !originAllowed(req.get('origin'), req.get('host'), options.secure, options.allowedOrigins)) {
    throw new ApiError(403, `requests from origin ${req.get('origin') ?? ''} are not allowed`);
  }
  if (route.role === 'public') return options.sessions.get(sessionIdFrom(req.headers.cookie));
  const session = options.sessions.get(sessionIdFrom(req.headers.cookie));
  if (session === undefined) throw new ApiError(401, 'log in first (POST /api/v1/auth/login)');
  if (changesState && !SessionManager.csrfMatches(session, req.get(CSRF_HEADER))) {
    throw new ApiError(403, `missing or wrong CSRF token: send the token from the login response in the ${CSRF_HEADER} header`);
  }
  if (!roleAllows(session.role, route.role)) {
    throw new ApiError(403, `this needs the ${route.role} role; ${session.username} is ${session.role}`);
  }
  return session;
}

function bodyError(error: unknown): ApiError {
  const type = typeof error === 'object' && error !== null && 'type' in error ? error.type : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (type === 'entity.too.large')
    return new ApiError(413, `the request body is too large (${message})`, [{ path: 'body', message }]);
  if (type === 'entity.parse.failed')
    return new ApiError(400, `the request body is not valid JSON: ${message}`, [{ path: 'body', message }]);
  return new ApiError(400, `the request body cannot be read: ${message}`, [{ path: 'body', message }]);
}
