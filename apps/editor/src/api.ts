import {
  API_PREFIX,
  CLIENT_ID_HEADER,
  CSRF_HEADER,
  type ErrorDetail,
  errorBodySchema,
  type RouteName,
  type Routes,
  routes,
} from '@sluice/protocol';

// The editor's only way to the server: the protocol's route table, typed end to end. Every response
// is parsed with the route's zod schema (the server is an edge like any other).

type Input<S> = S extends { _zod: { input: infer I } } ? I : never;
type Output<S> = S extends { _zod: { output: infer O } } ? O : undefined;

/** Path parameters, query and body of a route, as the protocol declares them. */
export interface CallArgs<N extends RouteName> {
  readonly params?: Input<Routes[N]['params']>;
  readonly query?: Input<Routes[N]['query']>;
  readonly body?: Input<Routes[N]['body']>;
}

/** What a route answers. */
export type Reply<N extends RouteName> = Output<Routes[N]['response']>;

/** A refused request: the server's sentence plus the fields or components it names. */
export class ApiError extends Error {
  readonly status: number;
  readonly details: readonly ErrorDetail[];

  constructor(status: number, message: string, details: readonly ErrorDetail[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.details = details;
  }

  /** The message with each detail, for a dialog's error line. */
  describe(): string {
    if (this.details.length === 0) return this.message;
    return `${this.message}: ${this.details.map((d) => (d.path === undefined ? d.message : `${d.path}: ${d.message}`)).join('; ')}`;
  }
}

/** A tab id sent with every change, so this tab can tell its own `flow:changed` echoes. */
export const CLIENT_ID = `editor-${Math.random().toString(36).slice(2, 10)}`;

let csrfToken: string | undefined;
let onUnauthorized: (() => void) | undefined;

/** Remembers the CSRF token of the session (login and session replies carry it). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when the server answers 401 (session expired or ended elsewhere). */
export function setUnauthorizedHandler(handler: (() => void) | undefined): void {
  onUnauthorized = handler;
}

/** The URL of a route with its parameters and query filled in. */
export function routeUrl(path: string, params: object = {}, query: object = {}): string {
  const values = new Map<string, unknown>(Object.entries(params));
  const filled = path.replace(/:([A-Za-z]+)/g, (_m, name: string) => encodeURIComponent(String(values.get(name) ?? '')));
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return `${API_PREFIX}${filled}${text === '' ? '' : `?${text}`}`;
}

async function failure(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body = errorBodySchema.parse(JSON.parse(text));
    return new ApiError(response.status, body.error, body.details);
  } catch {
    return new ApiError(response.status, text.trim() === '' ? `${response.status} ${response.statusText}` : text.slice(0, 300));
  }
}

/**
 * Calls a route of the protocol's table.
 * @throws {ApiError} on any refusal (with the server's message) or a network failure (status 0).
 */
export async function call<N extends RouteName>(name: N, args: CallArgs<N> = {}): Promise<Reply<N>> {
  const route = routes[name];
  const headers: Record<string, string> = { [CLIENT_ID_HEADER]: CLIENT_ID };
  if (route.method !== 'get' && csrfToken !== undefined) headers[CSRF_HEADER] = csrfToken;
  if (args.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(routeUrl(route.path, args.params ?? {}, args.query ?? {}), {
      method: route.method.toUpperCase(),
      headers,
      credentials: 'same-origin',
      ...(args.body === undefined ? {} : { body: JSON.stringify(args.body) }),
    });
  } catch (e) {
    throw new ApiError(0, `the server cannot be reached (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!response.ok) {
    const error = await failure(response);
    if (response.status === 401 && name !== 'login') onUnauthorized?.();
    throw error;
  }
  const schema = route.response;
  // TypeScript cannot follow `routes[name]` back to N's response type; the parse is what checks it.
  if (typeof schema === 'string') return undefined as Reply<N>;
  return schema.parse(await response.json()) as Reply<N>;
}

/** Reads a binary route (FlowFile or provenance content) as bytes, for viewing. */
export async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url, { credentials: 'same-origin', headers: { [CLIENT_ID_HEADER]: CLIENT_ID } });
  if (!response.ok) throw await failure(response);
  return new Uint8Array(await response.arrayBuffer());
}

/** A short text for any error, for an error line. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.describe();
  return error instanceof Error ? error.message : String(error);
}
