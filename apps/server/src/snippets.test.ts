import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SENSITIVE_VALUE_SET, SNIPPET_BYTES_MAX } from '@sluice/protocol';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, TestServer, until } from './test-server.test-helper.ts';

// Snippets over real HTTP: saved once on the server, listed and pasted by every user, kept across restarts.

type ErrorReply = { error: string; details: { path?: string; message: string }[] };
interface Summary {
  id: string;
  name: string;
  savedAt: number;
  savedBy: string;
  componentCount: number;
}
interface Fragment {
  processors: { id: string; type: string; properties: Record<string, string | null> }[];
  connections: unknown[];
  labels: unknown[];
}
interface Snippet extends Summary {
  fragment: Fragment;
}

const SECRET = 'snippet-secret-never-stored';

let t: TestServer;
let admin: Client;
let operator: Client;
let viewer: Client;
let fragment: Fragment;

beforeAll(async () => {
  t = await TestServer.start();
  admin = t.admin;
  operator = await t.as('operator');
  viewer = await t.as('viewer');
  const generate = await admin.post<{ id: string }>('/process-groups/root/processors', {
    type: 'GenerateFlowFile',
    name: 'Generate',
    position: { x: 100, y: 100 },
  });
  const secret = await admin.post<{ id: string }>('/process-groups/root/processors', {
    type: 'SecretHolder',
    name: 'Holds a secret',
    position: { x: 100, y: 300 },
    properties: { password: SECRET, note: 'visible', apiKey: `${SECRET}-dynamic` },
  });
  const connection = await admin.post('/process-groups/root/connections', {
    source: { id: generate.body.id },
    destination: { id: secret.body.id },
    relationships: ['success'],
  });
  expect(connection.status).toBe(201);
  const copy = await viewer.post<Fragment>('/flow/copy', { componentIds: [generate.body.id, secret.body.id] });
  expect(copy.status).toBe(200);
  fragment = copy.body;
});

afterAll(async () => {
  await t?.close();
});

describe('snippets', () => {
  let saved: Snippet;

  it('saves a fragment under a trimmed name, lists it and returns it whole', async () => {
    const created = await admin.post<Snippet>('/snippets', { name: '  generate and hold  ', fragment });
    expect(created.status).toBe(201);
    saved = created.body;
    expect(saved).toMatchObject({ name: 'generate and hold', savedBy: 'admin', componentCount: 2 });
    expect(saved.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(saved.savedAt - Date.now())).toBeLessThan(60_000);

    const list = await viewer.get<{ snippets: Summary[] }>('/snippets');
    expect(list.status).toBe(200);
    expect(list.body.snippets).toEqual([
      { id: saved.id, name: 'generate and hold', savedAt: saved.savedAt, savedBy: 'admin', componentCount: 2 },
    ]);
    const one = await viewer.get<Snippet>(`/snippets/${saved.id}`);
    expect(one.status).toBe(200);
    expect(one.body.fragment.processors).toHaveLength(2);
    expect(one.body.fragment.connections).toHaveLength(1);

    // Pasting it (as the editor does) creates the components again.
    const pasted = await admin.post<{ created: unknown[] }>('/process-groups/root/paste', {
      fragment: one.body.fragment,
      offset: { x: 400, y: 0 },
    });
    expect(pasted.status).toBe(201);
    expect(pasted.body.created).toHaveLength(3);
  });

  it('never stores a sensitive value, whatever the client sends', async () => {
    // The copy already masks the secret; a script could send it in clear text: neither is kept.
    const stored = await admin.get<Snippet>(`/snippets/${saved.id}`);
    const holder = stored.body.fragment.processors.find((p) => p.type === 'SecretHolder');
    expect(holder?.properties.password ?? null).toBeNull();
    expect(holder?.properties.apiKey ?? null).toBeNull();
    expect(holder?.properties.note).toBe('visible');

    const clear = structuredClone(fragment);
    const clearHolder = clear.processors.find((p) => p.type === 'SecretHolder');
    if (clearHolder === undefined) throw new Error('expected the secret holder in the copy');
    expect(clearHolder.properties.password).toBe(SENSITIVE_VALUE_SET);
    clearHolder.properties.password = SECRET;
    const created = await admin.post<Snippet>('/snippets', { name: 'clear text', fragment: clear });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain(SECRET);
    expect(readFileSync(join(t.dir, 'snippets.json'), 'utf8')).not.toContain(SECRET);
    expect(readFileSync(join(t.dir, 'snippets.json'), 'utf8')).not.toContain(SENSITIVE_VALUE_SET);
    expect((await admin.delete(`/snippets/${created.body.id}`)).status).toBe(204);
  });

  it('refuses a duplicate name (409) unless asked to replace it', async () => {
    const duplicate = await admin.post<ErrorReply>('/snippets', { name: 'generate and hold ', fragment });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error).toContain('"generate and hold" already exists');
    expect(duplicate.body.details[0]?.path).toBe('body.name');

    const smaller = { ...fragment, processors: fragment.processors.slice(0, 1), connections: [] };
    const replaced = await admin.post<Snippet>('/snippets', { name: 'generate and hold', fragment: smaller, replace: true });
    expect(replaced.status).toBe(201);
    expect(replaced.body).toMatchObject({ id: saved.id, componentCount: 1 });
    const list = await viewer.get<{ snippets: Summary[] }>('/snippets');
    expect(list.body.snippets.map((s) => s.name)).toEqual(['generate and hold']);
  });

  it('lists by name', async () => {
    const b = await admin.post<Snippet>('/snippets', { name: 'b second', fragment });
    const a = await admin.post<Snippet>('/snippets', { name: 'a first', fragment });
    const list = await viewer.get<{ snippets: Summary[] }>('/snippets');
    expect(list.body.snippets.map((s) => s.name)).toEqual(['a first', 'b second', 'generate and hold']);
    expect((await admin.delete(`/snippets/${a.body.id}`)).status).toBe(204);
    expect((await admin.delete(`/snippets/${b.body.id}`)).status).toBe(204);
  });

  it('refuses bad input with messages naming the problem', async () => {
    const missing = await admin.post<ErrorReply>('/snippets', { fragment });
    expect(missing.status).toBe(400);
    expect(missing.body.details.map((d) => d.path)).toContain('body.name');

    const blank = await admin.post<ErrorReply>('/snippets', { name: '   ', fragment });
    expect(blank.status).toBe(400);
    expect(blank.body.error).toContain('body.name: must not be empty');

    const long = await admin.post<ErrorReply>('/snippets', { name: 'x'.repeat(201), fragment });
    expect(long.status).toBe(400);
    expect(long.body.error).toContain('at most 200 characters');

    const malformed = await admin.post<ErrorReply>('/snippets', { name: 'bad', fragment: { processors: [{ name: 'no id' }] } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toContain('body.fragment.processors.0');

    const unknownField = await admin.post<ErrorReply>('/snippets', { name: 'bad', fragment: { widgets: [] } });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.details[0]?.path).toContain('body.fragment');

    const empty = await admin.post<ErrorReply>('/snippets', { name: 'empty', fragment: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error).toContain('the fragment holds no components');

    const notJson = await admin.post<ErrorReply>('/snippets', '{"name":', { headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);

    // Over 5 MiB of fragment (but within the 10 MiB body limit): 413 saying how large it is.
    const big = structuredClone(fragment);
    const first = big.processors[0];
    if (first === undefined) throw new Error('expected a processor');
    first.properties = { ...first.properties, customText: 'x'.repeat(SNIPPET_BYTES_MAX) };
    const tooLarge = await admin.post<ErrorReply>('/snippets', { name: 'too large', fragment: big });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error).toMatch(/"too large" is too large: its fragment takes 5\.0 MiB, at most 5\.0 MiB/);
    expect(tooLarge.body.details[0]?.path).toBe('body.fragment');

    const list = await viewer.get<{ snippets: Summary[] }>('/snippets');
    expect(list.body.snippets.map((s) => s.name)).toEqual(['generate and hold']);
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const unknown = '01900000-0000-7000-8000-000000000000';
    const get = await viewer.get<ErrorReply>(`/snippets/${unknown}`);
    expect(get.status).toBe(404);
    expect(get.body.error).toContain(`snippet "${unknown}" does not exist`);
    expect((await admin.delete(`/snippets/${unknown}`)).status).toBe(404);
    const malformed = await viewer.get<ErrorReply>('/snippets/not-an-id');
    expect(malformed.status).toBe(400);
    expect(malformed.body.details[0]?.path).toBe('params.id');
  });

  it('lets viewers and operators read but not save or delete (403), and needs a session and CSRF', async () => {
    for (const client of [viewer, operator]) {
      const save = await client.post<ErrorReply>('/snippets', { name: 'mine', fragment });
      expect(save.status).toBe(403);
      expect(save.body.error).toContain('needs the admin role');
      expect((await client.delete(`/snippets/${saved.id}`)).status).toBe(403);
      expect((await client.get(`/snippets/${saved.id}`)).status).toBe(200);
    }
    expect((await t.anonymous().get('/snippets')).status).toBe(401);
    expect((await admin.post('/snippets', { name: 'no csrf', fragment }, { csrf: false })).status).toBe(403);
    expect((await viewer.get<{ snippets: Summary[] }>('/snippets')).body.snippets).toHaveLength(1);
  });

  it('tells connected editors when snippets change', async () => {
    const socket = io(t.url, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie: viewer.cookie ?? '' },
    });
    const events: { action: string; name: string; by: string; clientId: string | null }[] = [];
    socket.on('snippets:changed', (e: { action: string; name: string; by: string; clientId: string | null }) => events.push(e));
    try {
      await until(() => socket.connected, 'socket connected');
      const created = await admin.post<Snippet>(
        '/snippets',
        { name: 'live', fragment },
        { headers: { 'x-sluice-client': 'tab-1' } },
      );
      expect((await admin.delete(`/snippets/${created.body.id}`)).status).toBe(204);
      await until(() => events.length >= 2, 'two snippet events');
      expect(events).toEqual([
        { action: 'created', id: created.body.id, name: 'live', by: 'admin', clientId: 'tab-1' },
        { action: 'deleted', id: created.body.id, name: 'live', by: 'admin', clientId: null },
      ]);
    } finally {
      socket.disconnect();
    }
  });

  it('keeps snippets across a restart of the server', async () => {
    await t.restart();
    const list = await t.admin.get<{ snippets: Summary[] }>('/snippets');
    expect(list.body.snippets).toEqual([
      { id: saved.id, name: 'generate and hold', savedAt: expect.any(Number), savedBy: 'admin', componentCount: 1 },
    ]);
    const one = await t.admin.get<Snippet>(`/snippets/${saved.id}`);
    expect(one.body.fragment.processors).toHaveLength(1);
    // Still unique after the restart; deleting it is durable too.
    expect((await t.admin.post('/snippets', { name: 'generate and hold', fragment })).status).toBe(409);
    expect((await t.admin.delete(`/snippets/${saved.id}`)).status).toBe(204);
    await t.restart();
    expect((await t.admin.get<{ snippets: Summary[] }>('/snippets')).body.snippets).toEqual([]);
  });
});
