import type { FlowChanged, StatusDelta, StatusSnapshot } from '@sluice/protocol';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Client, TestServer, until } from './test-server.test-helper.ts';

// Live updates over socket.io, with the same authentication as the REST API.

let t: TestServer;
const sockets: Socket[] = [];

beforeAll(async () => {
  t = await TestServer.start({ statusIntervalMs: 100 });
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.disconnect();
});
afterAll(async () => {
  await t?.close();
});

/** A socket with a client's cookie; records every event it receives. */
function connect(client: Client | undefined, headers: Record<string, string> = {}) {
  const events: Array<[string, unknown]> = [];
  const socket = io(t.url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: { ...(client?.cookie === undefined ? {} : { cookie: client.cookie }), ...headers },
  });
  socket.onAny((event: string, payload: unknown) => events.push([event, payload]));
  sockets.push(socket);
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (e) => reject(e));
  });
  const received = <T>(event: string, match: (payload: T) => boolean = () => true): Promise<T> =>
    until(() => {
      const found = events.find(([name, payload]) => name === event && match(payload as T));
      return found === undefined ? undefined : (found[1] as T);
    }, `socket event ${event}`);
  return { socket, events, connected, received };
}

describe('socket handshake', () => {
  it('refuses a socket without a session', async () => {
    const { connected } = connect(undefined);
    await expect(connected).rejects.toThrow();
  });

  it('refuses a foreign origin even with a session', async () => {
    const { connected } = connect(t.admin, { origin: 'https://evil.example' });
    await expect(connected).rejects.toThrow();
  });

  it('greets a logged-in socket with who it is and the full status', async () => {
    const viewer = await t.as('viewer');
    const live = connect(viewer, { origin: t.url });
    await live.connected;
    const hello = await live.received<{ username: string; role: string; flowVersion: number }>('hello');
    expect(hello).toMatchObject({ username: 'viewer-user', role: 'viewer' });
    const full = await live.received<StatusSnapshot>('status:full');
    expect(Array.isArray(full.components)).toBe(true);
  });
});

describe('live updates', () => {
  it('pushes flow changes made by others, with revisions, and only status deltas', async () => {
    const other = await t.as('operator');
    const watcher = connect(other);
    await watcher.connected;
    await watcher.received('status:full');
    const gen = await t.admin.post<{ id: string; revision: number }>(
      '/process-groups/root/processors',
      { type: 'GenerateFlowFile', name: 'Live source', properties: { customText: 'live' } },
      { headers: { 'x-sluice-client': 'tab-1' } },
    );
    const changed = await watcher.received<FlowChanged>('flow:changed', (e) => e.changes.some((c) => c.id === gen.body.id));
    expect(changed).toMatchObject({ by: 'admin', clientId: 'tab-1', reload: false });
    expect(changed.changes.find((c) => c.id === gen.body.id)).toMatchObject({
      action: 'created',
      kind: 'processor',
      entity: { revision: gen.body.revision, component: { name: 'Live source' } },
    });
    const log = await t.admin.post<{ id: string }>('/process-groups/root/processors', {
      type: 'LogAttribute',
      autoTerminate: ['success'],
    });
    const connection = await t.admin.post<{ id: string }>('/process-groups/root/connections', {
      source: { id: gen.body.id },
      destination: { id: log.body.id },
      relationships: ['success'],
    });
    await other.post(`/processors/${gen.body.id}/run-once`);
    const delta = await watcher.received<StatusDelta>('status:delta', (d) =>
      d.connections.some((c) => c.id === connection.body.id && c.queued.count === 1),
    );
    // Only what changed: the untouched LogAttribute is not in this delta unless its counters moved.
    expect(delta.components.length).toBeLessThan(10);
    const before = watcher.events.filter(([e]) => e === 'status:delta').length;
    await new Promise((r) => setTimeout(r, 400));
    const quiet = watcher.events.filter(([e]) => e === 'status:delta').slice(before) as Array<[string, StatusDelta]>;
    expect(quiet.every(([, d]) => !d.connections.some((c) => c.id === connection.body.id))).toBe(true);
    // Deleting shows up as a removal in the next delta.
    await other.delete(`/connections/${connection.body.id}/queue`);
    await t.admin.post('/flow/delete', { items: [{ id: connection.body.id, revision: 1 }] });
    await watcher.received<StatusDelta>('status:delta', (d) => d.removed.includes(connection.body.id));
  });

  it('pushes bulletins as they happen', async () => {
    const live = connect(t.admin);
    await live.connected;
    await live.received('hello');
    t.server.engine.bulletins.add({ level: 'ERROR', message: 'something broke, live' });
    const pushed = await live.received<{ bulletins: { message: string }[] }>('bulletins', (p) =>
      p.bulletins.some((b) => b.message === 'something broke, live'),
    );
    expect(pushed.bulletins.length).toBeGreaterThan(0);
  });

  it('answers resync and ping, and closes the socket when its session ends', async () => {
    const viewer = await t.as('viewer');
    const live = connect(viewer);
    await live.connected;
    await live.received('status:full');
    live.events.length = 0;
    live.socket.emit('resync', { what: 'status' });
    await live.received('status:full');
    live.socket.emit('resync', { what: 'bulletins' });
    await live.received('bulletins');
    const reply = await live.socket.timeout(2000).emitWithAck('ping', {});
    expect(reply).toMatchObject({ serverTime: expect.any(Number) });
    const ended = new Promise<void>((resolve) => live.socket.on('disconnect', () => resolve()));
    await viewer.post('/auth/logout');
    await live.received<{ reason: string }>('session:ended');
    await ended;
  });
});

describe('malformed socket messages', () => {
  it('are answered with errors and never crash the process', async () => {
    const live = connect(t.admin);
    await live.connected;
    await live.received('hello');
    live.socket.emit('resync', 'not an object');
    live.socket.emit('resync', { what: 'everything', extra: 1 });
    live.socket.emit('resync', { what: 'x'.repeat(10_000) });
    live.socket.emit('ping', { no: 'ack' });
    live.socket.emit('dropTables', { please: true });
    live.socket.emit('resync', Buffer.from('binary payload'));
    const errors = await until(() => {
      const list = live.events.filter(([e]) => e === 'error');
      return list.length >= 5 ? list : undefined;
    }, 'error replies');
    expect(errors.length).toBeGreaterThanOrEqual(5);
    // Raw garbage below the socket.io parser: broken packets, a bad type, an oversized message.
    const raw = connect(t.admin);
    await raw.connected;
    const engine = raw.socket.io.engine;
    const closed = new Promise<void>((resolve) => raw.socket.on('disconnect', () => resolve()));
    engine.send('42["resync",');
    engine.send('9nonsense');
    engine.send(`42${JSON.stringify(['resync', { __proto__: { polluted: true } }])}`);
    engine.send('x'.repeat(200 * 1024));
    await closed;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The server still serves REST and sockets.
    expect((await t.admin.get('/status')).status).toBe(200);
    const again = connect(t.admin);
    await again.connected;
    await again.received('hello');
  });
});
