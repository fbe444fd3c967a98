import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type HttpContextMap, StandardHttpContextMap } from '../http-context-map/index.ts';
import { send, sleep, startListener, until } from '../network-support/network.test-helper.ts';
import { HandleHttpRequest } from './index.ts';

describe('HandleHttpRequest', () => {
  let runner: TestRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  const start = async (
    properties: Record<string, string> = {},
    mapProperties: Record<string, string> = {},
  ): Promise<{ r: TestRunner; base: string; map: () => HttpContextMap }> => {
    runner = await TestRunner.create(HandleHttpRequest, {
      properties: { port: '0', httpContextMap: 'map', ...properties },
      services: { map: { type: StandardHttpContextMap, properties: mapProperties } },
    });
    const port = await startListener(runner);
    const r = runner;
    const map = (): HttpContextMap => {
      const node = [...r.engine.services()].find((s) => s.id === 'map');
      return node?.instance as HttpContextMap;
    };
    return { r, base: `http://127.0.0.1:${port}`, map };
  };

  it('turns a request into a FlowFile and parks its response in the context map', async () => {
    const { r, base, map } = await start();
    const pending = send(`${base}/api/orders?id=42`, {
      method: 'PUT',
      body: '{"qty":3}',
      headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'r-1' },
    });
    await until(() => r.transferred('success').length === 1, 'the FlowFile');
    const out = r.transferred('success')[0];
    expect(out?.text()).toBe('{"qty":3}');
    expect(out?.attribute('http.method')).toBe('PUT');
    expect(out?.attribute('http.request.uri')).toBe('/api/orders');
    expect(out?.attribute('http.query.param.id')).toBe('42');
    expect(out?.attribute('http.headers.x-request-id')).toBe('r-1');
    expect(out?.attribute('mime.type')).toBe('application/json');
    const id = out?.attribute('http.context.identifier') ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(map().size).toBe(1);
    // Answer it the way HandleHttpResponse does, straight through the map.
    const waiting = map().complete(id);
    waiting?.response.writeHead(201, { 'Content-Type': 'text/plain' });
    waiting?.response.end('created');
    const res = await pending;
    expect(res.status).toBe(201);
    expect(res.text).toBe('created');
    expect(map().size).toBe(0);
    expect((await r.provenanceEvents('RECEIVE'))[0]?.transitUri).toBe(`${base}/api/orders?id=42`);
  });

  it('answers 503 when nobody answers before the request expires, and forgets it', async () => {
    const { r, base, map } = await start({}, { requestExpiration: '400 ms' });
    const started = Date.now();
    const res = await send(`${base}/slow`);
    expect(res.status).toBe(503);
    expect(res.text).toContain('no response was produced within 400 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(map().size).toBe(0);
    const id = r.transferred('success')[0]?.attribute('http.context.identifier') ?? '';
    expect(map().complete(id)).toBeUndefined();
    await until(() => r.logsAt('WARN').some((l) => l.message.includes('expired')), 'the expiry warning');
  });

  it('answers 503 at once when the context map is full', async () => {
    const { r, base } = await start({}, { maximumOutstandingRequests: '1', requestExpiration: '3 sec' });
    const first = send(`${base}/one`);
    await until(() => r.transferred('success').length === 1, 'the first request');
    const started = Date.now();
    const second = await send(`${base}/two`);
    expect(second.status).toBe(503);
    expect(second.text).toContain('too many requests are waiting');
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await first).status).toBe(503); // expired later
  });

  it('forgets a request whose client disconnected', async () => {
    const { r, base, map } = await start();
    const controller = new AbortController();
    const request = fetch(`${base}/gone`, { signal: controller.signal }).catch(() => undefined);
    await until(() => r.transferred('success').length === 1, 'the FlowFile');
    controller.abort();
    await request;
    await until(() => map().size === 0, 'the map to forget the request');
  });

  it('refuses methods it does not allow, and paths outside Allowed Paths', async () => {
    const { r, base } = await start({ allowedMethods: 'GET, POST', allowedPaths: '/api/.*' });
    const del = await send(`${base}/api/x`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('GET, POST');
    expect((await send(`${base}/other`)).status).toBe(404);
    await sleep(100);
    expect(r.transferred('success')).toHaveLength(0);
  });

  it('answers 413 over Max Request Size without registering anything', async () => {
    const { r, base, map } = await start({ maxRequestSize: '10 B' });
    const res = await send(`${base}/big`, { body: 'more than ten bytes' });
    expect(res.status).toBe(413);
    await sleep(100);
    expect(r.transferred('success')).toHaveLength(0);
    expect(map().size).toBe(0);
  });

  it('validates the allowed methods', async () => {
    runner = await TestRunner.create(HandleHttpRequest, {
      properties: { port: '0', httpContextMap: 'map', allowedMethods: 'GET,BAD METHOD' },
      services: { map: { type: StandardHttpContextMap } },
    });
    expect(runner.validationErrors().join('\n')).toContain('"BAD METHOD" is not an HTTP method');
  });

  it('needs a context map service', async () => {
    runner = await TestRunner.create(HandleHttpRequest, { properties: { port: '0' } });
    expect(runner.validationErrors().join('\n')).toMatch(/HTTP Context Map|httpContextMap/);
  });
});
