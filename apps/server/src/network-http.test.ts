import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type FlowDocumentInput } from '@sluice/engine';
import { afterEach, describe, expect, it } from 'vitest';
import { standardRegistry } from './run-command.ts';
import { startSluiceRun } from './sluice-run.test-helper.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

function post(url: string, body: string, method = 'POST'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** HandleHttpRequest -> UpdateAttribute -> HandleHttpResponse: a small web service built from a flow. */
function serviceFlow(port: number, responder: 'RUNNING' | 'STOPPED'): FlowDocumentInput {
  return {
    sluiceFlow: 1,
    rootGroup: {
      id: 'root',
      name: 'http service',
      controllerServices: [
        {
          id: 'contexts',
          name: 'HTTP contexts',
          type: 'StandardHttpContextMap',
          properties: { requestExpiration: '1 sec' },
          state: 'ENABLED',
        },
      ],
      processors: [
        {
          id: 'request',
          name: 'Receive',
          type: 'HandleHttpRequest',
          properties: { port: String(port), httpContextMap: 'contexts', allowedPaths: '/orders/.*' },
          state: 'RUNNING',
        },
        {
          id: 'decide',
          name: 'Decide',
          type: 'UpdateAttribute',
          properties: {
            status: '${http.method:equals("PUT"):ifElse("201", "200")}',
            'order.id': '${http.request.uri:substringAfterLast("/")}',
          },
          state: 'RUNNING',
        },
        {
          id: 'respond',
          name: 'Respond',
          type: 'HandleHttpResponse',
          properties: { httpContextMap: 'contexts', statusCode: '${status}', 'X-Order-Id': '${order.id}' },
          autoTerminate: ['success', 'failure'],
          state: responder,
        },
      ],
      connections: [
        { id: 'c1', source: { id: 'request' }, destination: { id: 'decide' }, relationships: ['success'] },
        { id: 'c2', source: { id: 'decide' }, destination: { id: 'respond' }, relationships: ['success'] },
      ],
    },
  };
}

describe('network processors in a flow', () => {
  const dirs: string[] = [];
  const engines: Engine[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    for (const engine of engines.splice(0)) await engine.shutdown();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const open = async (): Promise<Engine> => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-network-'));
    dirs.push(dir);
    const engine = await Engine.open({ dataDir: join(dir, 'data'), registry: standardRegistry(), logLevel: 'ERROR' });
    engines.push(engine);
    return engine;
  };

  it('answers each request with its own FlowFile through HandleHttpRequest and HandleHttpResponse', async () => {
    const engine = await open();
    const port = await freePort();
    await engine.applyFlow(serviceFlow(port, 'RUNNING'));
    await until(() => engine.component('request')?.runState === 'RUNNING', 'the listener');
    await sleep(100);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(`http://127.0.0.1:${port}/orders/${i}`, `order body ${i}`, i % 2 === 0 ? 'PUT' : 'POST'),
      ),
    );
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(i % 2 === 0 ? 201 : 200);
      expect(answer.text).toBe(`order body ${i}`);
      expect(answer.headers['x-order-id']).toBe(String(i));
    }
    expect((await post(`http://127.0.0.1:${port}/elsewhere`, 'x')).status).toBe(404);
  });

  it('answers 503 when the flow does not answer before the request expires', async () => {
    const engine = await open();
    const port = await freePort();
    await engine.applyFlow(serviceFlow(port, 'STOPPED'));
    await until(() => engine.component('request')?.runState === 'RUNNING', 'the listener');
    await sleep(100);
    const started = Date.now();
    const answer = await post(`http://127.0.0.1:${port}/orders/1`, 'nobody answers');
    expect(answer.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    // The FlowFile reaches HandleHttpResponse later: the request is gone, so it goes to failure.
    await engine.startComponent('respond');
    await until(() => (engine.connection('c2')?.queue.size().count ?? 1) === 0, 'the late FlowFile to be handled');
  });

  it('keeps every request ListenHTTP acknowledged across a kill -9', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-network-crash-'));
    dirs.push(dir);
    const port = await freePort();
    const flow = (listening: boolean): FlowDocumentInput => ({
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'listen crash',
        processors: [
          {
            id: 'listen',
            name: 'Listen',
            type: 'ListenHTTP',
            properties: { port: String(port) },
            state: listening ? 'RUNNING' : 'STOPPED',
          },
          { id: 'hold', name: 'Hold', type: 'LogAttribute', autoTerminate: ['success'], state: 'STOPPED' },
        ],
        connections: [{ id: 'queue', source: { id: 'listen' }, destination: { id: 'hold' }, relationships: ['success'] }],
      },
    });
    const flowPath = join(dir, 'flow.json');
    writeFileSync(flowPath, JSON.stringify(flow(true)));
    const { child } = startSluiceRun(dir, flowPath, { allowPath: false });
    children.push(child);
    const url = `http://127.0.0.1:${port}/contentListener`;
    await until(
      async () => (await post(url, '', 'HEAD').catch(() => ({ status: 0 }))).status === 200,
      'the CLI to listen',
      30_000,
    );

    // Several clients at once; every 200 is counted, then the process is killed without warning.
    const acknowledged: string[] = [];
    let stop = false;
    const clients = Array.from({ length: 4 }, async (_, c) => {
      for (let i = 0; !stop; i++) {
        const body = `client ${c} message ${i}`;
        const answer = await post(url, body).catch(() => undefined);
        if (answer?.status === 200) acknowledged.push(body);
      }
    });
    await until(() => acknowledged.length >= 200, 'acknowledged requests');
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(clients);
    await new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve),
    );

    const engine = await Engine.open({ dataDir: join(dir, 'data'), registry: standardRegistry(), logLevel: 'ERROR' });
    engines.push(engine);
    await engine.applyFlow(flow(false));
    const count = engine.connection('queue')?.queue.size().count ?? 0;
    const bodies = new Set(
      engine
        .listQueue('queue', 0, count)
        .map((e) => (e.flowFile.claim === null ? '' : engine.content.read(e.flowFile.claim).toString())),
    );
    const lost = acknowledged.filter((b) => !bodies.has(b));
    expect(lost).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(200);
  });
});
