/**
 * Shared set-up for the server's integration tests: a real server on an ephemeral port in a temp
 * data dir, HTTP clients that log in like a browser (cookie + CSRF header), and a record of which
 * routes of the protocol's table answered successfully, so a test can prove every route was exercised.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineProcessor, defineService, string } from '@sluice/api';
import type { ExtensionRegistry } from '@sluice/engine';
import { API_PREFIX, CSRF_HEADER, type Role, type RouteName, routes } from '@sluice/protocol';
import { createServer, type ServerOptions, type SluiceServer } from './app.ts';
import { standardRegistry } from './run-command.ts';

/** A processor with a sensitive property (and sensitive dynamic properties), for the sensitive-value tests. */
export const SecretHolder = defineProcessor({
  type: 'SecretHolder',
  description: 'Test processor holding a secret.',
  tags: ['test'],
  input: 'allowed',
  properties: {
    password: string({ description: 'A secret', sensitive: true }),
    note: string({ description: 'Not a secret' }),
  },
  dynamicProperties: { description: 'more secrets', sensitive: true },
  relationships: { success: 'everything' },
  onTrigger(session) {
    const flowFile = session.get();
    if (flowFile !== undefined) session.transfer(flowFile, 'success');
  },
});

/** A controller service with a sensitive property. */
export const SecretService = defineService({
  type: 'SecretService',
  description: 'Test service holding a secret.',
  tags: ['test'],
  provides: ['test-secret'],
  properties: { token: string({ description: 'A secret token', sensitive: true }) },
  enable: () => ({}),
});

/** The standard registry plus the test types. */
export function testRegistry(): ExtensionRegistry {
  return standardRegistry().registerProcessors([SecretHolder]).registerServices([SecretService]);
}

const patterns = Object.entries(routes).map(([name, route]) => ({
  name,
  method: route.method.toUpperCase(),
  regex: new RegExp(`^${API_PREFIX}${route.path.replace(/:[A-Za-z]+/g, '[^/]+')}$`),
}));

/** Routes that answered with a success status, over the whole test run of a file. */
export const exercised = new Set<string>();

function record(method: string, path: string, status: number): void {
  if (status >= 400) return;
  const pathname = path.split('?')[0] ?? path;
  const match = patterns.find((p) => p.method === method && p.regex.test(pathname));
  if (match !== undefined) exercised.add(match.name);
}

/** The route names not yet exercised. */
export function unexercised(): RouteName[] {
  return Object.keys(routes).filter((name): name is RouteName => !exercised.has(name) && Object.hasOwn(routes, name));
}

/** A JSON response. */
export interface Reply<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
  readonly text: string;
}

/** An HTTP client with a session, as a browser would hold it. */
export class Client {
  constructor(
    readonly base: string,
    readonly cookie: string | undefined,
    readonly csrf: string | undefined,
    readonly username = 'anonymous',
  ) {}

  /** Logs in and returns a client holding the session. */
  static async login(base: string, username: string, password: string): Promise<Client> {
    const response = await fetch(`${base}${API_PREFIX}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    const body = (await response.json()) as { csrfToken?: string; error?: string };
    if (response.status !== 200 || body.csrfToken === undefined)
      throw new Error(`login as ${username} failed: ${response.status} ${body.error}`);
    record('POST', `${API_PREFIX}/auth/login`, 200);
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0];
    return new Client(base, cookie, body.csrfToken, username);
  }

  /** Sends a request; `body` is sent as JSON unless it is a string. */
  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options: { headers?: Record<string, string>; csrf?: boolean } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookie !== undefined) headers.cookie = this.cookie;
    if (method !== 'GET' && (options.csrf ?? true) && this.csrf !== undefined) headers[CSRF_HEADER] = this.csrf;
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const url = path.startsWith('http')
      ? path
      : `${this.base}${path.startsWith('/api') || path.startsWith('/metrics') || path === '/' ? '' : API_PREFIX}${path}`;
    const response = await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('application/json') && text !== '') parsed = JSON.parse(text);
    record(method, new URL(url).pathname, response.status);
    return { status: response.status, body: parsed as T, headers: response.headers, text };
  }

  get<T = unknown>(path: string, options?: { headers?: Record<string, string> }) {
    return this.request<T>('GET', path, undefined, options);
  }
  post<T = unknown>(path: string, body?: unknown, options?: { headers?: Record<string, string>; csrf?: boolean }) {
    return this.request<T>('POST', path, body, options);
  }
  put<T = unknown>(path: string, body?: unknown, options?: { headers?: Record<string, string>; csrf?: boolean }) {
    return this.request<T>('PUT', path, body, options);
  }
  delete<T = unknown>(path: string, options?: { headers?: Record<string, string>; csrf?: boolean }) {
    return this.request<T>('DELETE', path, undefined, options);
  }
}

/** A server in a temp dir with its admin client. */
export class TestServer {
  server: SluiceServer;
  admin: Client;
  readonly dir: string;
  readonly options: Partial<ServerOptions>;
  #password: string;

  private constructor(server: SluiceServer, admin: Client, dir: string, password: string, options: Partial<ServerOptions>) {
    this.server = server;
    this.admin = admin;
    this.dir = dir;
    this.#password = password;
    this.options = options;
  }

  /** Starts a server on an ephemeral port and logs in as the generated admin. */
  static async start(options: Partial<ServerOptions> = {}): Promise<TestServer> {
    const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sluice-server-'));
    const server = await createServer({
      registry: testRegistry(),
      fileRoots: [tmpdir()],
      initialFlow: 'empty',
      statusIntervalMs: 200,
      loginLimits: { perAddress: 1000, failuresPerUser: 1000 },
      ...options,
      dataDir: dir,
      port: 0,
    });
    const credentials = server.initialCredentials;
    if (credentials === undefined) throw new Error('expected generated credentials');
    const admin = await Client.login(server.url, credentials.username, credentials.password);
    return new TestServer(server, admin, dir, credentials.password, options);
  }

  get url(): string {
    return this.server.url;
  }

  get adminPassword(): string {
    return this.#password;
  }

  /** A logged-in client with a given role (the user is created on first use). */
  async as(role: Role): Promise<Client> {
    if (role === 'admin') return this.admin;
    const username = `${role}-user`;
    const password = `${role}-password-123`;
    const existing = await this.admin.get<{ users: { username: string }[] }>('/users');
    if (!existing.body.users.some((u) => u.username === username)) {
      const created = await this.admin.post('/users', { username, password, role });
      if (created.status !== 201) throw new Error(`could not create ${username}: ${created.text}`);
    }
    return Client.login(this.url, username, password);
  }

  /** An anonymous client. */
  anonymous(): Client {
    return new Client(this.url, undefined, undefined);
  }

  /** Closes the server and starts a new one on the same data dir (logs the admin in again). */
  async restart(): Promise<void> {
    await this.server.close();
    this.server = await createServer({
      registry: testRegistry(),
      fileRoots: [tmpdir()],
      initialFlow: 'empty',
      statusIntervalMs: 200,
      loginLimits: { perAddress: 1000, failuresPerUser: 1000 },
      ...this.options,
      dataDir: this.dir,
      port: 0,
    });
    this.admin = await Client.login(this.server.url, 'admin', this.#password);
  }

  async close(): Promise<void> {
    await this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls until `condition` returns a value other than false/undefined. */
export async function until<T>(
  condition: () => T | false | undefined | Promise<T | false | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== false && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
