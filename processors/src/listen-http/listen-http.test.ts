import { request } from 'node:http';
import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { FLOWFILE_V3_MIME_TYPE, packFlowFileV3 } from '@sluice/api';
import { TestRunner, type TestRunnerOptions } from '@sluice/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type Response, send, sleep, startListener, until } from '../network-support/network.test-helper.ts';
import { ListenHTTP } from './index.ts';

describe('ListenHTTP', () => {
  let runner: TestRunner | undefined;
  const others: TestRunner[] = [];
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    for (const r of others.splice(0)) await r.close();
  });

  const start = async (
    properties: Record<string, string> = {},
    options: TestRunnerOptions = {},
  ): Promise<{ r: TestRunner; url: string }> => {
    runner = await TestRunner.create(ListenHTTP, { ...options, properties: { port: '0', ...properties } });
    const port = await startListener(runner);
    return { r: runner, url: `http://127.0.0.1:${port}/contentListener` };
  };

  it('turns a POST body into a FlowFile with request attributes and a RECEIVE event', async () => {
    const { r, url } = await start();
    const res = await send(`${url}/orders?id=7&tag=a&tag=b`, {
      body: 'hello listener',
      headers: { 'Content-Type': 'text/plain', 'X-Trace': 'abc', filename: 'order-7.txt' },
    });
    expect(res.status).toBe(200);
    await until(() => r.transferred('success').length === 1, 'the FlowFile');
    const out = r.transferred('success')[0];
    expect(out?.text()).toBe('hello listener');
    expect(out?.attribute('filename')).toBe('order-7.txt');
    expect(out?.attribute('http.method')).toBe('POST');
    expect(out?.attribute('http.request.uri')).toBe('/contentListener/orders');
    expect(out?.attribute('http.query.string')).toBe('id=7&tag=a&tag=b');
    expect(out?.attribute('http.query.param.id')).toBe('7');
    expect(out?.attribute('http.query.param.tag')).toBe('a');
    expect(out?.attribute('http.headers.x-trace')).toBe('abc');
    expect(out?.attribute('http.remote.addr')).toMatch(/127\.0\.0\.1/);
    expect(out?.attribute('mime.type')).toBe('text/plain');
    expect(out?.attribute('http.request.url')).toBe(`${url}/orders?id=7&tag=a&tag=b`);
    const events = await r.provenanceEvents('RECEIVE');
    expect(events).toHaveLength(1);
    expect(events[0]?.flowFileUuid).toBe(out?.uuid);
    expect(events[0]?.transitUri).toBe(`${url}/orders?id=7&tag=a&tag=b`);
  });

  it('answers 200 only once the FlowFile is durably committed and queued', async () => {
    const { r, url } = await start({}, { durable: true });
    const queuedWhenAnswered: number[] = [];
    const target = new URL(url);
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request(target, { method: 'POST', agent: false }, (res) => {
          // Checked synchronously when the status line arrives: the FlowFile must already be queued.
          queuedWhenAnswered.push(r.transferred('success').length);
          expect(res.statusCode).toBe(200);
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end(`message ${i}`);
      });
    }
    expect(queuedWhenAnswered).toEqual([1, 2, 3, 4, 5]);
    expect(r.transferred('success').map((f) => f.text())).toEqual([0, 1, 2, 3, 4].map((i) => `message ${i}`));
  });

  it('streams a large chunked body into the content repository intact', async () => {
    const { r, url } = await start({}, { durable: true });
    const chunk = Buffer.alloc(256 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7) % 251;
    const res = await send(url, { body: { chunks: Array.from({ length: 24 }, () => chunk), pauseMs: 0 } });
    expect(res.status).toBe(200);
    const out = r.transferred('success')[0];
    expect(out?.size).toBe(24 * chunk.length);
    expect(out?.content().equals(Buffer.concat(Array.from({ length: 24 }, () => chunk)))).toBe(true);
  });

  it('unpacks an application/flowfile-v3 body into one FlowFile per package with its attributes', async () => {
    const { r, url } = await start();
    const body = Buffer.concat([
      packFlowFileV3(
        [
          ['filename', 'a.txt'],
          ['uuid', 'sender-uuid-1'],
          ['color', 'red'],
          ['mime.type', 'text/csv'],
        ],
        Buffer.from('first'),
      ),
      packFlowFileV3([['filename', 'b.txt']], Buffer.alloc(0)),
      packFlowFileV3(
        [
          ['filename', 'c.txt'],
          ['http.remote.addr', 'spoofed'],
        ],
        Buffer.from('third'),
      ),
    ]);
    const res = await send(url, { body, headers: { 'Content-Type': FLOWFILE_V3_MIME_TYPE } });
    expect(res.status).toBe(200);
    const out = r.transferred('success');
    expect(out.map((f) => f.attribute('filename'))).toEqual(['a.txt', 'b.txt', 'c.txt']);
    expect(out.map((f) => f.text())).toEqual(['first', '', 'third']);
    expect(out[0]?.attribute('color')).toBe('red');
    expect(out[0]?.attribute('mime.type')).toBe('text/csv');
    expect(out[0]?.uuid).not.toBe('sender-uuid-1');
    // The request's own attributes win over packaged ones.
    expect(out[2]?.attribute('http.remote.addr')).toMatch(/127\.0\.0\.1/);
    const events = await r.provenanceEvents('RECEIVE');
    expect(events.map((e) => e.sourceSystemFlowFileId ?? undefined)).toEqual(['sender-uuid-1', undefined, undefined]);
  });

  it.each([
    ['a body without the NiFiFF3 header', Buffer.from('this is not a FlowFile package'), 'missing the "NiFiFF3" header'],
    [
      'a truncated second package',
      Buffer.concat([
        packFlowFileV3([['filename', 'ok.txt']], Buffer.from('fine')),
        packFlowFileV3([['filename', 'cut.txt']], Buffer.from('cut short')).subarray(0, 30),
      ]),
      'stream ended',
    ],
  ])('answers 400 to a malformed FlowFile v3 body (%s) and keeps nothing of it', async (_name, body, reason) => {
    const { r, url } = await start();
    const res = await send(url, { body, headers: { 'Content-Type': FLOWFILE_V3_MIME_TYPE } });
    expect(res.status).toBe(400);
    expect(res.text).toContain('malformed application/flowfile-v3 body');
    expect(res.text).toContain(reason);
    await sleep(200);
    expect(r.transferred('success')).toHaveLength(0);
    // The listener still works afterwards.
    expect((await send(url, { body: 'next' })).status).toBe(200);
    await until(() => r.transferred('success').length === 1, 'the next FlowFile');
  });

  it('answers 413 to bodies over Max Request Size, declared or chunked, and keeps nothing', async () => {
    const { r, url } = await start({ maxRequestSize: '1 KB' });
    const declared = await send(url, { body: Buffer.alloc(2048) });
    expect(declared.status).toBe(413);
    expect(declared.text).toContain('larger than the limit of 1024 bytes');
    const chunked = await send(url, { body: { chunks: [Buffer.alloc(600), Buffer.alloc(600)], pauseMs: 20 } });
    expect(chunked.status).toBe(413);
    const bomb = await send(url, { body: gzipSync(Buffer.alloc(1024 * 1024)), headers: { 'Content-Encoding': 'gzip' } });
    expect(bomb.status).toBe(413);
    expect((await send(url, { body: Buffer.alloc(1024) })).status).toBe(200);
    await until(() => r.transferred('success').length === 1, 'the FlowFile within the limit');
    await sleep(100);
    expect(r.transferred('success').map((f) => f.size)).toEqual([1024]);
  });

  it('decodes gzip-encoded bodies and refuses corrupt or unknown encodings', async () => {
    const { r, url } = await start();
    expect((await send(url, { body: gzipSync('compressed text'), headers: { 'Content-Encoding': 'gzip' } })).status).toBe(200);
    const corrupt = await send(url, { body: Buffer.from('not gzip at all'), headers: { 'Content-Encoding': 'gzip' } });
    expect(corrupt.status).toBe(400);
    expect(corrupt.text).toContain('gzip');
    const unknown = await send(url, { body: 'x', headers: { 'Content-Encoding': 'br' } });
    expect(unknown.status).toBe(415);
    await until(() => r.transferred('success').length === 1, 'the FlowFile');
    expect(r.transferred('success')[0]?.text()).toBe('compressed text');
  });

  it('answers 408 when a body stalls longer than the read timeout', async () => {
    const { r, url } = await start({ requestReadTimeout: '300 ms' });
    const started = Date.now();
    const res = await send(url, {
      body: { chunks: ['start', 'never finished'], pauseMs: 3000 },
      headers: { 'Content-Length': '100' },
    });
    expect(res.status).toBe(408);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(r.transferred('success')).toHaveLength(0);
  });

  it('answers 503 with Retry-After quickly while the outbound queue is full, then accepts again', async () => {
    const { r, url } = await start({ maxWaitForProcessing: '300 ms' });
    // Back pressure after one FlowFile: the success queue (toward a stopped port) holds at most 1.
    const flow = structuredClone(r.engine.flow);
    for (const c of flow.rootGroup.connections ?? []) c.backPressureObjectThreshold = 1;
    await r.engine.applyFlow(flow);
    // A trigger already serving may take a few more (back pressure is checked between triggers);
    // then the listener is held and refuses.
    const started = Date.now();
    let refused: Response | undefined;
    let accepted = 0;
    while (refused === undefined) {
      const res = await send(url, { body: `m${accepted}` });
      if (res.status === 200) accepted++;
      else refused = res;
      expect(Date.now() - started).toBeLessThan(10_000);
    }
    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.text).toContain('outbound queue is full');
    expect(accepted).toBeGreaterThanOrEqual(1);
    expect(accepted).toBeLessThan(1000);
    // Once the listener is known to be held, new requests are refused at once.
    const again = Date.now();
    expect((await send(url, { body: 'refused too' })).status).toBe(503);
    expect(Date.now() - again).toBeLessThan(1000);
    await sleep(500);
    expect(r.transferred('success')).toHaveLength(accepted);

    const relaxed = structuredClone(r.engine.flow);
    for (const c of relaxed.rootGroup.connections ?? []) c.backPressureObjectThreshold = 0;
    await r.engine.applyFlow(relaxed);
    await until(async () => (await send(url, { body: 'accepted again' })).status === 200, 'the listener to accept again');
    expect(r.transferred('success').at(-1)?.text()).toBe('accepted again');
  });

  it('answers 503 at once beyond Max Concurrent Requests', async () => {
    const { url } = await start({ maxConcurrentRequests: '1', requestReadTimeout: '5 sec' });
    // The first request holds the only slot: its body is still arriving.
    const slow = send(url, { body: { chunks: ['a', 'b'], pauseMs: 1000 }, headers: { 'Content-Length': '2' } });
    await sleep(200);
    const refused = await send(url, { body: 'x' });
    expect(refused.status).toBe(503);
    expect(refused.text).toContain('too many requests in progress');
    expect((await slow).status).toBe(200);
  });

  it('refuses other paths (404), methods (405), and answers HEAD with the accepted types', async () => {
    const { url } = await start({ allowedPaths: '/contentListener(/in)?' });
    expect((await send(url.replace('/contentListener', '/elsewhere'), { body: 'x' })).status).toBe(404);
    expect((await send(`${url}/other`, { body: 'x' })).status).toBe(404);
    expect((await send(`${url}/in`, { body: 'x' })).status).toBe(200);
    const get = await send(url);
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST, PUT, HEAD');
    const head = await send(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.accept).toContain(FLOWFILE_V3_MIME_TYPE);
  });

  it('requires HTTP Basic credentials when configured, and never stores them as attributes', async () => {
    const { r, url } = await start({ authentication: 'basic', username: 'edge', password: 's3cret' });
    const anonymous = await send(url, { body: 'x' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toContain('Basic');
    const wrong = `Basic ${Buffer.from('edge:wrong').toString('base64')}`;
    expect((await send(url, { body: 'x', headers: { Authorization: wrong } })).status).toBe(401);
    const right = `Basic ${Buffer.from('edge:s3cret').toString('base64')}`;
    expect((await send(url, { body: 'ok', headers: { Authorization: right } })).status).toBe(200);
    await until(() => r.transferred('success').length === 1, 'the FlowFile');
    expect(r.transferred('success')[0]?.attribute('http.headers.authorization')).toBeUndefined();
  });

  it('requires a shared secret header when configured, and never stores it as an attribute', async () => {
    const { r, url } = await start({ authentication: 'header', secretHeader: 'X-Token', secret: 'abc123' });
    expect((await send(url, { body: 'x' })).status).toBe(401);
    expect((await send(url, { body: 'x', headers: { 'X-Token': 'nope' } })).status).toBe(401);
    expect((await send(url, { body: 'ok', headers: { 'X-Token': 'abc123', 'X-Other': '1' } })).status).toBe(200);
    await until(() => r.transferred('success').length === 1, 'the FlowFile');
    const out = r.transferred('success')[0];
    expect(out?.attribute('http.headers.x-token')).toBeUndefined();
    expect(out?.attribute('http.headers.x-other')).toBe('1');
  });

  it('keeps only headers matching the headers regex (ignoring case)', async () => {
    const { r, url } = await start({ headersAsAttributes: 'X-.*' });
    await send(url, { body: 'x', headers: { 'X-Keep': 'yes', Accept: 'text/plain' } });
    await until(() => r.transferred('success').length === 1, 'the FlowFile');
    const names = [...(r.transferred('success')[0]?.attributes.keys() ?? [])].filter((k) => k.startsWith('http.headers.'));
    expect(names).toEqual(['http.headers.x-keep']);
  });

  it('serves many concurrent keep-alive clients, answering each after its commit', async () => {
    const { r, url } = await start({}, { durable: true });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => send(url, { body: `m${i}`, headers: { Connection: 'keep-alive' } })),
    );
    expect(results.every((res: Response) => res.status === 200)).toBe(true);
    expect(
      r
        .transferred('success')
        .map((f) => f.text())
        .sort(),
    ).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`).sort());
  });

  it('frees its port when stopped and listens again when restarted', async () => {
    const { r, url } = await start();
    const port = new URL(url).port;
    await r.engine.stopComponent('under-test');
    await expect(send(url, { body: 'x' })).rejects.toThrow(/ECONNREFUSED/);
    await r.setProperty('port', port);
    expect(await startListener(r)).toBe(Number(port));
    expect((await send(url, { body: 'after restart' })).status).toBe(200);
  });

  it('reports a port already in use clearly instead of starting', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      runner = await TestRunner.create(ListenHTTP, { properties: { port: String(port) } });
      await runner.engine.startComponent('under-test');
      await until(() => (runner?.logsAt('ERROR').length ?? 0) > 0, 'the start failure');
      const failure = runner.logsAt('ERROR')[0];
      expect(`${failure?.message} ${String(failure?.error)}`).toContain(`cannot listen on 127.0.0.1:${port}`);
      expect(String(failure?.error)).toContain('already in use');
    } finally {
      blocker.close();
    }
  });

  it('validates its properties with messages that say what to fix', async () => {
    runner = await TestRunner.create(ListenHTTP, { properties: { port: '70000' } });
    expect(runner.validationErrors().join('\n')).toMatch(/70000 is above the maximum of 65535/);
    await runner.setProperty('port', '8080');
    await runner.setProperty('authentication', 'basic');
    expect(runner.validationErrors().join('\n')).toContain('HTTP Basic authentication needs a Username and a Password');
    await runner.setProperty('authentication', 'header');
    expect(runner.validationErrors().join('\n')).toContain('needs a Shared Secret');
    await runner.setProperty('secret', 'x');
    await runner.setProperty('secretHeader', 'Bad Header');
    expect(runner.validationErrors().join('\n')).toContain('"Bad Header" is not a valid HTTP header name');
    await runner.setProperty('secretHeader', undefined);
    await runner.setProperty('returnCode', '404');
    expect(runner.validationErrors().join('\n')).toContain('404 is above the maximum of 299');
    await runner.setProperty('returnCode', '204');
    expect(runner.validationErrors()).toEqual([]);
  });
});
