import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { TestRunner, type TestRunnerOptions } from '@sluice/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { restrictedKind } from '../network-support/address-guard.ts';
import { InvokeHTTP } from './index.ts';

/** A local server with one route per behaviour the tests need. */
function routes(req: IncomingMessage, res: ServerResponse, hits: string[]): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  hits.push(`${req.method} ${url.pathname}`);
  const path = url.pathname;
  if (path === '/ok') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Custom': 'yes', 'Set-Cookie': ['a=1', 'b=2'] });
    res.end('hello client');
    return;
  }
  if (path === '/echo') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() }));
    });
    return;
  }
  const status = /^\/status\/(\d{3})$/.exec(path);
  if (status?.[1] !== undefined) {
    res.writeHead(Number(status[1]), { 'Content-Type': 'text/plain' });
    res.end(`status ${status[1]}`);
    return;
  }
  const hop = /^\/redirect\/(\d+)$/.exec(path);
  if (hop?.[1] !== undefined) {
    const n = Number(hop[1]);
    res.writeHead(302, { Location: n <= 1 ? '/ok' : `/redirect/${n - 1}` });
    res.end();
    return;
  }
  if (path === '/see-other') {
    req.resume();
    res.writeHead(303, { Location: '/echo' });
    res.end();
    return;
  }
  if (path === '/big') {
    res.writeHead(200, { 'Content-Length': 2 * 1024 * 1024 });
    const chunk = Buffer.alloc(64 * 1024, 'b');
    for (let i = 0; i < 32; i++) res.write(chunk);
    res.end();
    return;
  }
  if (path === '/stall-body') {
    res.writeHead(200, { 'Content-Length': 100 });
    res.write('only part of it');
    return; // never finished
  }
  if (path === '/hang') return; // accepted, never answered
  res.writeHead(404);
  res.end();
}

describe('InvokeHTTP', () => {
  let server: Server;
  let silent: TcpServer;
  const sockets = new Set<Socket>();
  let base = '';
  let silentPort = 0;
  const hits: string[] = [];
  let runner: TestRunner | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => routes(req, res, hits));
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    // Accepts TCP connections and never says anything (no HTTP, no TLS handshake).
    silent = createTcpServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentAddress = silent.address();
    silentPort = typeof silentAddress === 'object' && silentAddress !== null ? silentAddress.port : 0;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await new Promise((r) => silent.close(r));
  });
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    hits.length = 0;
  });

  const create = async (properties: Record<string, string>, options: TestRunnerOptions = {}): Promise<TestRunner> => {
    runner = await TestRunner.create(InvokeHTTP, { ...options, properties });
    return runner;
  };

  it('routes a 2xx answer: the body to response with status and headers, the request to original', async () => {
    const r = await create({ httpUrl: `${base}/ok` });
    const input = await r.enqueue('ignored for GET', { filename: 'req.txt' });
    await r.run();
    const [response] = r.transferred('response');
    const [original] = r.transferred('original');
    expect(response?.text()).toBe('hello client');
    expect(response?.attribute('invokehttp.status.code')).toBe('200');
    expect(response?.attribute('invokehttp.status.message')).toBe('OK');
    expect(response?.attribute('invokehttp.request.url')).toBe(`${base}/ok`);
    expect(response?.attribute('mime.type')).toBe('text/plain; charset=utf-8');
    expect(response?.attribute('X-Custom')).toBe('yes');
    expect(response?.attribute('Set-Cookie')).toBe('a=1, b=2');
    expect(response?.attribute('filename')).toBe('req.txt');
    expect(original?.uuid).toBe(input.uuid);
    expect(original?.attribute('invokehttp.status.code')).toBe('200');
    expect(original?.attribute('invokehttp.tx.id')).toBe(response?.attribute('invokehttp.tx.id'));
    expect(r.transferred('retry')).toHaveLength(0);
    const fetches = await r.provenanceEvents('FETCH');
    expect(fetches.map((e) => [e.flowFileUuid, e.transitUri])).toEqual([[response?.uuid, `${base}/ok`]]);
    expect(await r.provenanceEvents('FORK')).toHaveLength(1);
    expect(hits).toEqual(['GET /ok']);
  });

  it('POSTs the content with its mime type, headers from properties and matching attributes, and records SEND', async () => {
    const r = await create({
      httpMethod: '${verb}',
      httpUrl: `${base}/echo`,
      'X-Api-Key': 'k-${tenant}',
      requestHeaderAttributes: 'x-.*',
    });
    await r.enqueue('{"order":1}', { verb: 'post', tenant: 't9', 'mime.type': 'application/json', 'x-trace': 'tr' });
    await r.run();
    const echoed = JSON.parse(r.transferred('response')[0]?.text() ?? '{}');
    expect(echoed.method).toBe('POST');
    expect(echoed.body).toBe('{"order":1}');
    expect(echoed.headers['content-type']).toBe('application/json');
    expect(echoed.headers['x-api-key']).toBe('k-t9');
    expect(echoed.headers['x-trace']).toBe('tr');
    const [send] = await r.provenanceEvents('SEND');
    expect(send?.transitUri).toBe(`${base}/echo`);
  });

  it.each([
    ['/status/503', 'retry', true],
    ['/status/500', 'retry', true],
    ['/status/404', 'no-retry', false],
    ['/status/400', 'no-retry', false],
  ])('routes %s to %s', async (path, relationship, penalized) => {
    const r = await create({ httpUrl: `${base}${path}` });
    await r.enqueue('x');
    await r.run();
    const [out] = r.transferred(relationship);
    expect(out?.attribute('invokehttp.status.code')).toBe(path.slice(-3));
    expect(out?.penalized).toBe(penalized);
    expect(r.transferred('response')).toHaveLength(0);
    expect(r.transferred('original')).toHaveLength(0);
  });

  it('also outputs the response of a failed call with Always Output Response', async () => {
    const r = await create({ httpUrl: `${base}/status/502`, alwaysOutputResponse: 'true' });
    await r.enqueue('x');
    await r.run();
    expect(r.transferred('response')[0]?.text()).toBe('status 502');
    expect(r.transferred('retry')).toHaveLength(1);
  });

  it('follows redirects up to Max Redirects, and fails beyond', async () => {
    const r = await create({ httpUrl: `${base}/redirect/3` });
    await r.enqueue('x');
    await r.run();
    const [response] = r.transferred('response');
    expect(response?.text()).toBe('hello client');
    expect(response?.attribute('invokehttp.request.url')).toBe(`${base}/redirect/3`);
    expect(response?.attribute('invokehttp.response.url')).toBe(`${base}/ok`);

    await r.setProperty('maxRedirects', '2');
    await r.enqueue('y');
    await r.run();
    expect(r.transferred('failure')[0]?.attribute('invokehttp.failure.reason')).toContain('too many redirects');
  });

  it('turns a POST into a GET after 303, and leaves 3xx alone when not following', async () => {
    const r = await create({ httpMethod: 'POST', httpUrl: `${base}/see-other` });
    await r.enqueue('payload');
    await r.run();
    expect(JSON.parse(r.transferred('response')[0]?.text() ?? '{}').method).toBe('GET');
    await r.setProperty('followRedirects', 'false');
    await r.enqueue('payload');
    await r.run();
    expect(r.transferred('no-retry')[0]?.attribute('invokehttp.status.code')).toBe('303');
  });

  it('fails after the Socket Read Timeout when the server accepts and never answers', async () => {
    const r = await create({ httpUrl: `${base}/hang`, readTimeout: '500 ms' });
    await r.enqueue('x');
    const started = Date.now();
    await r.run();
    const elapsed = Date.now() - started;
    const [failed] = r.transferred('failure');
    expect(failed?.attribute('invokehttp.failure.reason')).toContain('sent no answer within 500 ms (Socket Read Timeout)');
    expect(failed?.penalized).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('fails after the Socket Read Timeout when the body stops arriving, keeping no partial response', async () => {
    const r = await create({ httpUrl: `${base}/stall-body`, readTimeout: '400 ms' });
    await r.enqueue('x');
    await r.run();
    expect(r.transferred('failure')[0]?.attribute('invokehttp.failure.reason')).toContain('stalled');
    expect(r.transferred('response')).toHaveLength(0);
  });

  it('fails after the Connection Timeout when a TLS handshake never completes', async () => {
    const r = await create({ httpUrl: `https://127.0.0.1:${silentPort}/`, connectTimeout: '400 ms' });
    await r.enqueue('x');
    const started = Date.now();
    await r.run();
    expect(r.transferred('failure')[0]?.attribute('invokehttp.failure.reason')).toContain('within 400 ms (Connection Timeout)');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails with a clear reason when nothing listens', async () => {
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise((resolve) => closed.close(resolve));
    const r = await create({ httpUrl: `http://127.0.0.1:${port}/` });
    await r.enqueue('x');
    await r.run();
    expect(r.transferred('failure')[0]?.attribute('invokehttp.failure.reason')).toContain('refused the connection');
  });

  it.each([
    ['http://127.0.0.1:PORT/ok', 'loopback'],
    ['http://localhost:PORT/ok', 'loopback'],
    ['http://[::1]:PORT/ok', 'loopback'],
    ['http://2130706433:PORT/ok', 'loopback'],
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://10.1.2.3/', 'private'],
    ['http://[::ffff:192.168.1.1]/', 'private'],
  ])('refuses %s when private addresses are not allowed', async (url, kind) => {
    const port = new URL(base).port;
    const r = await create({ httpUrl: url.replace('PORT', port), allowPrivateAddresses: 'false', connectTimeout: '2 sec' });
    await r.enqueue('x');
    await r.run();
    const reason = r.transferred('failure')[0]?.attribute('invokehttp.failure.reason') ?? '';
    expect(reason).toContain(`${kind}`);
    expect(reason).toContain('"Allow Private Addresses" is false');
    expect(hits).toEqual([]);
  });

  it('classifies addresses for the private-address guard', () => {
    expect(restrictedKind('8.8.8.8')).toBeUndefined();
    expect(restrictedKind('2606:4700:4700::1111')).toBeUndefined();
    expect(restrictedKind('172.31.255.255')).toBe('private');
    expect(restrictedKind('172.32.0.1')).toBeUndefined();
    expect(restrictedKind('fd00:ec2::254')).toBe('private');
    expect(restrictedKind('fe80::1%eth0')).toContain('link-local');
    expect(restrictedKind('0.0.0.0')).toContain('unspecified');
  });

  it('streams a large response into the response FlowFile, and fails beyond Max Response Size', async () => {
    const r = await create({ httpUrl: `${base}/big` }, { durable: true });
    await r.enqueue('x');
    await r.run();
    expect(r.transferred('response')[0]?.size).toBe(2 * 1024 * 1024);
    await r.setProperty('maxResponseSize', '1 MB');
    await r.enqueue('y');
    await r.run();
    expect(r.transferred('failure')[0]?.attribute('invokehttp.failure.reason')).toContain('larger than Max Response Size');
    expect(r.transferred('response')).toHaveLength(1);
  });

  it('sends nothing when its incoming queue is empty, but a request per run when it has no incoming connection', async () => {
    const r = await create({ httpUrl: `${base}/ok` });
    await r.run();
    expect(hits).toEqual([]);
    // The same processor as a polling source: no input port, no incoming connection.
    const flow = structuredClone(r.engine.flow);
    flow.rootGroup.inputPorts = [];
    flow.rootGroup.connections = (flow.rootGroup.connections ?? []).filter((c) => c.id !== 'input');
    await r.engine.applyFlow(flow);
    await r.run();
    expect(r.transferred('response')[0]?.text()).toBe('hello client');
    expect(r.transferred('original')).toHaveLength(0);
    expect((await r.provenanceEvents('RECEIVE')).map((e) => e.transitUri)).toEqual([`${base}/ok`]);
  });

  it('sends FlowFiles whose URL or method evaluate to nonsense to failure, with the reason', async () => {
    const r = await create({ httpUrl: '${target}', httpMethod: '${verb}' });
    await r.enqueue('a', { target: 'ftp://example.com/file', verb: 'GET' });
    await r.enqueue('b', { target: `${base}/ok`, verb: 'BAD VERB' });
    await r.enqueue('c', { verb: 'GET' });
    await r.run(3);
    expect(r.transferred('failure').map((f) => f.attribute('invokehttp.failure.reason'))).toEqual([
      '"ftp://example.com/file" is not an http:// or https:// URL',
      '"BAD VERB" is not an HTTP method',
      'the URL is empty',
    ]);
    expect(hits).toEqual([]);
  });

  it('sends HTTP Basic credentials, and refuses a header value with a line break', async () => {
    const r = await create({ httpUrl: `${base}/echo`, username: 'u', password: 'p', 'X-Note': '${note}' });
    await r.enqueue('x', { note: 'fine' });
    await r.enqueue('y', { note: 'evil\r\nX-Injected: 1' });
    await r.run(2);
    const echoed = JSON.parse(r.transferred('response')[0]?.text() ?? '{}');
    expect(echoed.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(r.transferred('failure')[0]?.attribute('invokehttp.failure.reason')).toContain('line break');
  });

  it('sends a request again on a new connection when the kept-alive one was closed by the server', async () => {
    // Answers the first request of each connection, then drops the connection on the next one.
    const flaky = createTcpServer((socket) => {
      let answered = false;
      socket.on('data', () => {
        if (answered) {
          socket.destroy();
          return;
        }
        answered = true;
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const address = flaky.address();
    try {
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const r = await create({ httpUrl: `http://127.0.0.1:${port}/` });
      await r.enqueue('a');
      await r.enqueue('b');
      await r.run(2);
      expect(r.transferred('response').map((f) => f.text())).toEqual(['ok', 'ok']);
      expect(r.transferred('failure')).toHaveLength(0);
    } finally {
      flaky.close();
    }
  });

  it('validates its properties with messages that say what to fix', async () => {
    const r = await create({ httpUrl: 'not a url', httpMethod: 'GE T', username: 'u', 'Bad Header': 'x' });
    const errors = r.validationErrors().join('\n');
    expect(errors).toContain('"not a url" is not a URL');
    expect(errors).toContain('"GE T" is not an HTTP method');
    expect(errors).toContain('"Bad Header" is not a valid HTTP header name');
    await r.setProperty('httpUrl', `${base}/ok`);
    await r.setProperty('httpMethod', undefined);
    await r.setProperty('Bad Header', undefined);
    expect(r.validationErrors().join('\n')).toContain('set both Request Username and Request Password');
    await r.setProperty('password', 'p');
    expect(r.validationErrors()).toEqual([]);
  });
});
