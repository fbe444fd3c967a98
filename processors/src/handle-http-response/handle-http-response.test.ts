import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { TestRunner } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type HttpContextMap, StandardHttpContextMap } from '../http-context-map/index.ts';
import { type Response, send } from '../network-support/network.test-helper.ts';
import { HandleHttpResponse } from './index.ts';

/**
 * HandleHttpResponse answers requests parked in its engine's context map. Here a plain Node server
 * parks them (as HandleHttpRequest does); the full HandleHttpRequest → HandleHttpResponse flow is
 * tested in apps/server/src/network-http-service.test.ts.
 */
describe('HandleHttpResponse', () => {
  let runner: TestRunner | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    server?.closeAllConnections();
    server?.close();
    server = undefined;
  });

  const start = async (
    properties: Record<string, string> = {},
    mapProperties: Record<string, string> = {},
  ): Promise<{ r: TestRunner; ask: (path?: string, method?: string) => Promise<{ id: string; answer: Promise<Response> }> }> => {
    runner = await TestRunner.create(HandleHttpResponse, {
      properties: { httpContextMap: 'map', ...properties },
      services: { map: { type: StandardHttpContextMap, properties: mapProperties } },
    });
    const r = runner;
    const map = (): HttpContextMap => [...r.engine.services()].find((s) => s.id === 'map')?.instance as HttpContextMap;
    const parked: Array<(id: string) => void> = [];
    server = createServer((req, res) => {
      const id = randomUUID();
      map().register(id, req, res);
      parked.shift()?.(id);
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const ask = async (path = '/', method = 'GET') => {
      const id = new Promise<string>((resolve) => parked.push(resolve));
      const answer = send(`http://127.0.0.1:${port}${path}`, { method });
      return { id: await id, answer };
    };
    return { r, ask };
  };

  it('answers the waiting request with the status, headers and the FlowFile as the body', async () => {
    const { r, ask } = await start({ statusCode: '${status}', 'X-Order': '${order.id}', 'Cache-Control': 'no-store' });
    const { id, answer } = await ask('/orders');
    await r.enqueue('{"ok":true}', {
      'http.context.identifier': id,
      'http.request.url': 'http://127.0.0.1/orders',
      status: '201',
      'order.id': 'o-9',
      'mime.type': 'application/json',
    });
    await r.run();
    const res = await answer;
    expect(res.status).toBe(201);
    expect(res.text).toBe('{"ok":true}');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-order']).toBe('o-9');
    expect(res.headers['cache-control']).toBe('no-store');
    r.assertAllTransferred('success', 1);
    const [event] = await r.provenanceEvents('SEND');
    expect(event?.transitUri).toBe('http://127.0.0.1/orders');
  });

  it('streams large content and copies attributes matching the header pattern', async () => {
    const { r, ask } = await start({ attributesAsHeaders: 'x-.*' });
    const { id, answer } = await ask();
    const big = Buffer.alloc(3 * 1024 * 1024, 'z');
    await r.enqueue(big, { 'http.context.identifier': id, 'x-trace': 't1', other: 'no' });
    await r.run();
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.body.equals(big)).toBe(true);
    expect(res.headers['x-trace']).toBe('t1');
    expect(res.headers.other).toBeUndefined();
  });

  it('sends no body to HEAD requests', async () => {
    const { r, ask } = await start();
    const { id, answer } = await ask('/', 'HEAD');
    await r.enqueue('body not sent', { 'http.context.identifier': id });
    await r.run();
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    r.assertAllTransferred('success', 1);
  });

  it.each([
    [{}, 'no http.context.identifier attribute'],
    [{ 'http.context.identifier': 'unknown-id' }, 'is no longer waiting'],
  ])('sends FlowFiles it cannot answer to failure with the reason (%o)', async (attributes, reason) => {
    const { r } = await start();
    await r.enqueue('x', attributes);
    await r.run();
    r.assertAllTransferred('failure', 1);
    expect(r.transferred('failure')[0]?.attribute('handlehttpresponse.failure.reason')).toContain(reason);
  });

  it('sends a FlowFile whose status is not a status code to failure, and the request stays answerable', async () => {
    const { r, ask } = await start({ statusCode: '${status}' });
    const { id, answer } = await ask();
    await r.enqueue('x', { 'http.context.identifier': id, status: 'teapot' });
    await r.enqueue('y', { 'http.context.identifier': id, status: '418' });
    await r.run();
    expect(r.transferred('failure')[0]?.attribute('handlehttpresponse.failure.reason')).toContain(
      'the status code "teapot" is not a number from 100 to 599',
    );
    expect((await answer).status).toBe(418);
    r.assertTransferCount('success', 1);
  });

  it('refuses a header value with a line break (no header injection)', async () => {
    const { r, ask } = await start({ 'X-Echo': '${echo}' });
    const { id, answer } = await ask();
    await r.enqueue('x', { 'http.context.identifier': id, echo: 'a\r\nSet-Cookie: evil=1' });
    await r.run();
    r.assertAllTransferred('failure', 1);
    expect(r.transferred('failure')[0]?.attribute('handlehttpresponse.failure.reason')).toContain('line break');
    // The request was not taken out of the map: it expires (503) instead of being half-answered.
    void answer.catch(() => undefined);
  });

  it('validates the status code and header names', async () => {
    runner = await TestRunner.create(HandleHttpResponse, {
      properties: { httpContextMap: 'map', statusCode: '700', 'Bad Header': 'x' },
      services: { map: { type: StandardHttpContextMap } },
    });
    const errors = runner.validationErrors().join('\n');
    expect(errors).toContain('"700" is not an HTTP status code from 100 to 599');
    expect(errors).toContain('"Bad Header" is not a valid HTTP header name');
  });
});
