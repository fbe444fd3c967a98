import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PREFIX, type RouteSpec, roleAllows, routes } from '@sluice/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from './app.ts';
import { Client, TestServer, testRegistry } from './test-server.test-helper.ts';

// Authentication, roles, CSRF, origins, rate limiting, body limits and the other defenses, checked
// for every route of the protocol's table.

const SAMPLE: Record<string, string> = {
  id: 'some-id',
  type: 'SomeType',
  username: 'someone',
  eventId: '1',
  version: '1',
  direction: 'input',
  uuid: 'some-uuid',
};
const concrete = (route: RouteSpec): string =>
  `${API_PREFIX}${route.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => SAMPLE[name] ?? 'x')}`;
const all = Object.entries(routes).map(([name, route]): [string, RouteSpec] => [name, route]);
const guarded = all.filter(([, r]) => r.role !== 'public');

let t: TestServer;
let viewer: Client;
let operator: Client;

beforeAll(async () => {
  t = await TestServer.start({ maxBodyBytes: 64 * 1024, metricsToken: 'scrape-token-123' });
  viewer = await t.as('viewer');
  operator = await t.as('operator');
});
afterAll(async () => {
  await t?.close();
});

describe('every route', () => {
  it.each(guarded)('%s refuses a caller without a session (401)', async (_name, route) => {
    const r = await t
      .anonymous()
      .request<{ error: string; details: unknown[] }>(
        route.method.toUpperCase(),
        concrete(route),
        route.method === 'get' ? undefined : {},
      );
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: expect.any(String), details: [] });
  });

  it.each(guarded.filter(([, r]) => !roleAllows('viewer', r.role === 'public' ? 'viewer' : r.role)))(
    '%s refuses a viewer (403)',
    async (_name, route) => {
      const r = await viewer.request(route.method.toUpperCase(), concrete(route), route.method === 'get' ? undefined : {});
      expect(r.status).toBe(403);
    },
  );

  it.each(guarded.filter(([, r]) => r.role === 'admin'))('%s refuses an operator (403)', async (_name, route) => {
    const r = await operator.request(route.method.toUpperCase(), concrete(route), route.method === 'get' ? undefined : {});
    expect(r.status).toBe(403);
  });

  it.each(guarded.filter(([, r]) => r.method !== 'get'))(
    '%s refuses a missing or wrong CSRF token (403)',
    async (_name, route) => {
      const missing = await t.admin.request(route.method.toUpperCase(), concrete(route), {}, { csrf: false });
      expect(missing.status).toBe(403);
      expect(JSON.stringify(missing.body)).toContain('CSRF');
      const wrong = await t.admin.request(
        route.method.toUpperCase(),
        concrete(route),
        {},
        { csrf: false, headers: { 'x-csrf-token': 'forged' } },
      );
      expect(wrong.status).toBe(403);
    },
  );

  it('is reachable by the roles it names (no 401/403 for an allowed role)', async () => {
    for (const [, route] of guarded.filter(([, r]) => r.method === 'get' && r.role === 'viewer')) {
      const r = await viewer.get(concrete(route));
      expect([200, 400, 404]).toContain(r.status);
    }
  });
});

describe('sessions and login', () => {
  it('sets an httpOnly SameSite=Strict cookie and refuses wrong passwords', async () => {
    const ok = await fetch(`${t.url}${API_PREFIX}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: t.adminPassword }),
    });
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^sluice_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    const wrong = await t.anonymous().post<{ error: string }>('/auth/login', { username: 'admin', password: 'not-the-password' });
    expect(wrong.status).toBe(401);
    const nobody = await t.anonymous().post('/auth/login', { username: 'nobody', password: 'whatever-it-is' });
    expect(nobody.status).toBe(401);
    const malformed = await t.anonymous().post<{ details: { path: string }[] }>('/auth/login', { username: 'admin' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.details[0]?.path).toBe('body.password');
  });

  it('stores only a scrypt hash of passwords, and the key file is private', () => {
    const users = readFileSync(join(t.dir, 'users.json'), 'utf8');
    expect(users).not.toContain(t.adminPassword);
    expect(users).toContain('scrypt$');
    expect(statSync(join(t.dir, 'users.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(t.dir, 'sensitive.key')).mode & 0o777).toBe(0o600);
  });

  it('answers unknown API paths with 401 before login and 404 after', async () => {
    expect((await t.anonymous().get('/api/v1/nothing-here')).status).toBe(401);
    expect((await viewer.get('/api/v1/nothing-here')).status).toBe(404);
  });

  it('refuses state-changing requests from a foreign origin, even with a valid session and token', async () => {
    const r = await t.admin.post('/process-groups/root/funnels', {}, { headers: { origin: 'https://evil.example' } });
    expect(r.status).toBe(403);
    const same = await t.admin.post('/process-groups/root/funnels', {}, { headers: { origin: t.url } });
    expect(same.status).toBe(201);
    const login = await t
      .anonymous()
      .post('/auth/login', { username: 'admin', password: t.adminPassword }, { headers: { origin: 'https://evil.example' } });
    expect(login.status).toBe(403);
  });

  it('rate-limits logins per address and per username (429 with Retry-After)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-ratelimit-'));
    const server = await createServer({
      dataDir: dir,
      port: 0,
      registry: testRegistry(),
      initialFlow: 'empty',
      loginLimits: { perAddress: 100, failuresPerUser: 3, windowMs: 60_000 },
    });
    try {
      const anon = new Client(server.url, undefined, undefined);
      for (let i = 0; i < 3; i++)
        expect((await anon.post('/auth/login', { username: 'admin', password: 'guess-number-x' })).status).toBe(401);
      const limited = await anon.post('/auth/login', { username: 'admin', password: server.initialCredentials?.password ?? '' });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends idle sessions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-idle-'));
    const server = await createServer({
      dataDir: dir,
      port: 0,
      registry: testRegistry(),
      initialFlow: 'empty',
      sessions: { idleTimeoutMs: 300 },
    });
    try {
      const client = await Client.login(server.url, 'admin', server.initialCredentials?.password ?? '');
      expect((await client.get('/auth/session')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 400));
      expect((await client.get('/auth/session')).status).toBe(401);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('limits, headers and the rest of the surface', () => {
  it('answers an oversized body with 413', async () => {
    const big = { type: 'LogAttribute', comments: 'x'.repeat(100 * 1024) };
    const r = await t.admin.post<{ error: string; details: { path: string }[] }>('/process-groups/root/processors', big);
    expect(r.status).toBe(413);
    expect(r.body.details[0]?.path).toBe('body');
  });

  it('sets security headers and binds to loopback by default', async () => {
    const r = await viewer.get('/flow');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('x-powered-by')).toBeNull();
    const address = t.server.httpServer.address();
    expect(typeof address === 'object' && address?.address).toBe('127.0.0.1');
  });

  it('serves a placeholder page until the editor is built', async () => {
    const r = await t.anonymous().get('/');
    expect(r.status).toBe(200);
    expect(r.text).toContain('Sluice is running');
  });

  it('protects /metrics: a session or the bearer token', async () => {
    expect((await t.anonymous().get('/metrics')).status).toBe(401);
    expect((await t.anonymous().get('/metrics', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const scraped = await t.anonymous().get('/metrics', { headers: { authorization: 'Bearer scrape-token-123' } });
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('sluice_queue_flowfiles');
    expect(scraped.text).toContain('sluice_process_cpu_user_seconds_total');
    const withSession = await viewer.get('/metrics');
    expect(withSession.status).toBe(200);
  });

  it('reports per-component and per-queue metrics with back pressure', async () => {
    const gen = await t.admin.post<{ id: string }>('/process-groups/root/processors', {
      type: 'GenerateFlowFile',
      properties: { customText: 'x' },
    });
    const log = await t.admin.post<{ id: string }>('/process-groups/root/processors', {
      type: 'LogAttribute',
      autoTerminate: ['success'],
    });
    const c = await t.admin.post<{ id: string }>('/process-groups/root/connections', {
      source: { id: gen.body.id },
      destination: { id: log.body.id },
      relationships: ['success'],
      backPressureObjectThreshold: 1,
    });
    await operator.post(`/processors/${gen.body.id}/run-once`);
    const text = (await viewer.get('/metrics')).text;
    expect(text).toMatch(new RegExp(`sluice_queue_flowfiles\\{id="${c.body.id}"[^}]*\\} 1`));
    expect(text).toMatch(new RegExp(`sluice_queue_back_pressure\\{id="${c.body.id}"[^}]*\\} 1`));
    expect(text).toMatch(new RegExp(`sluice_component_out_flowfiles_5m\\{id="${gen.body.id}"[^}]*\\} 1`));
  });
});

describe('HTTPS', () => {
  it('serves HTTPS with a given key and certificate, and marks the cookie Secure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
        ],
        { stdio: 'ignore' },
      );
      const server = await createServer({
        dataDir: join(dir, 'data'),
        port: 0,
        registry: testRegistry(),
        initialFlow: 'empty',
        tls: { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      });
      try {
        expect(server.url.startsWith('https://')).toBe(true);
        const { status, cookie, hsts } = await new Promise<{ status: number; cookie: string; hsts: string }>(
          (resolve, reject) => {
            const req = httpsRequest(
              `${server.url}${API_PREFIX}/auth/login`,
              { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } },
              (res) => {
                res.resume();
                res.on('end', () =>
                  resolve({
                    status: res.statusCode ?? 0,
                    cookie: String(res.headers['set-cookie'] ?? ''),
                    hsts: String(res.headers['strict-transport-security'] ?? ''),
                  }),
                );
              },
            );
            req.on('error', reject);
            req.end(JSON.stringify({ username: 'admin', password: server.initialCredentials?.password }));
          },
        );
        expect(status).toBe(200);
        expect(cookie).toContain('; Secure');
        expect(hsts).toContain('max-age');
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
