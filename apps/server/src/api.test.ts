import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SENSITIVE_VALUE_SET } from '@sluice/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, TestServer, unexercised, until } from './test-server.test-helper.ts';

// Every route of the API over real HTTP, as the editor would use them. The last test checks that
// each route of the protocol's table answered successfully at least once in this file.

interface Entity<C = Record<string, unknown>> {
  kind: string;
  id: string;
  groupId: string | null;
  revision: number;
  component: C & { id: string };
}
type ErrorReply = { error: string; details: { path?: string; message: string; componentId?: string }[] };

let t: TestServer;
let admin: Client;
let operator: Client;
let viewer: Client;

beforeAll(async () => {
  t = await TestServer.start();
  admin = t.admin;
  operator = await t.as('operator');
  viewer = await t.as('viewer');
});

afterAll(async () => {
  await t?.close();
});

// Shared by the tests below, which build on one another like an editing session.
const ids = {
  connection: '',
  context: '',
  generate: '',
  group: '',
  inPort: '',
  invalid: '',
  log: '',
  outPort: '',
  pastedGenerate: '',
  pastedLog: '',
  secret: '',
  service: '',
  uuid: '',
};
const rev = async (path: string): Promise<number> => (await admin.get<Entity>(path)).body.revision;

describe('session, types and the API description', () => {
  it('returns the session with its CSRF token', async () => {
    const r = await admin.get<{ username: string; role: string; csrfToken: string }>('/auth/session');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ username: 'admin', role: 'admin' });
    expect(r.body.csrfToken).toBe(admin.csrf);
  });

  it('serves the OpenAPI document generated from the route table', async () => {
    const r = await viewer.get<{
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    }>('/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    expect(Object.keys(r.body.paths)).toContain('/api/v1/processors/{id}');
    expect(r.body.components.schemas.ProcessorEntity).toBeDefined();
  });

  it('lists processor types with their full descriptors', async () => {
    const r = await viewer.get<{ types: { type: string; properties: { name: string; kind: string; sensitive: boolean }[] }[] }>(
      '/processor-types',
    );
    expect(r.status).toBe(200);
    const generate = r.body.types.find((x) => x.type === 'GenerateFlowFile');
    expect(generate?.properties.find((p) => p.name === 'fileSize')).toMatchObject({ kind: 'data-size', sensitive: false });
    const one = await viewer.get<{ type: string; relationships: { name: string }[]; dynamicProperties?: unknown }>(
      '/processor-types/RouteOnAttribute',
    );
    expect(one.body.type).toBe('RouteOnAttribute');
    expect(one.body.dynamicProperties).toBeDefined();
    expect((await viewer.get('/processor-types/NoSuchThing')).status).toBe(404);
  });

  it('lists controller service types', async () => {
    const r = await viewer.get<{ types: { type: string; provides: string[] }[] }>('/controller-service-types');
    expect(r.body.types.find((x) => x.type === 'SecretService')?.provides).toEqual(['test-secret']);
    const one = await viewer.get<{ properties: { name: string; sensitive: boolean }[] }>(
      '/controller-service-types/SecretService',
    );
    expect(one.body.properties).toEqual([expect.objectContaining({ name: 'token', sensitive: true })]);
    expect((await viewer.get('/controller-service-types/Nope')).status).toBe(404);
  });
});

describe('editing the flow', () => {
  it('reads the whole flow with revisions', async () => {
    const r = await viewer.get<{ version: number; flow: { rootGroup: { id: string } }; revisions: Record<string, number> }>(
      '/flow',
    );
    expect(r.status).toBe(200);
    expect(r.body.flow.rootGroup.id).toBe('root');
    expect(r.body.version).toBeGreaterThanOrEqual(1);
  });

  it('creates, reads, updates and deletes a process group', async () => {
    const created = await admin.post<Entity<{ name: string }>>('/process-groups/root/process-groups', {
      name: 'Ingest',
      position: { x: 10, y: 20 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'process-group', groupId: 'root', component: { name: 'Ingest' } });
    ids.group = created.body.id;
    const read = await viewer.get<Entity>(`/process-groups/${ids.group}`);
    expect(read.body.revision).toBe(created.body.revision);
    const updated = await admin.put<Entity<{ name: string }>>(`/process-groups/${ids.group}`, {
      revision: created.body.revision,
      component: { name: 'Ingest (renamed)', comments: 'from the test' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.revision).toBe(created.body.revision + 1);
    expect(updated.body.component.name).toBe('Ingest (renamed)');
    const throwaway = await admin.post<Entity>('/process-groups/root/process-groups', { name: 'Temp' });
    expect((await admin.delete(`/process-groups/${throwaway.body.id}?revision=${throwaway.body.revision}`)).status).toBe(204);
    expect((await admin.get(`/process-groups/${throwaway.body.id}`)).status).toBe(404);
    expect((await admin.delete('/process-groups/root?revision=0')).status).toBe(400);
  });

  it('creates processors with their type defaults, and refuses unknown types with the field named', async () => {
    const generate = await admin.post<Entity<{ scheduling: { period: string }; state: string }>>(
      '/process-groups/root/processors',
      {
        type: 'GenerateFlowFile',
        name: 'Generate',
        properties: { customText: 'hello world', mimeType: 'text/plain' },
        position: { x: 0, y: 0 },
      },
    );
    expect(generate.status).toBe(201);
    expect(generate.body.component.scheduling.period).toBe('1 min'); // the type's default schedule
    expect(generate.body.component.state).toBe('STOPPED');
    ids.generate = generate.body.id;
    const log = await admin.post<Entity>('/process-groups/root/processors', {
      type: 'LogAttribute',
      name: 'Log',
      autoTerminate: ['success'],
      position: { x: 0, y: 200 },
    });
    ids.log = log.body.id;
    const unknown = await admin.post<ErrorReply>('/process-groups/root/processors', { type: 'GenerateFlowFil' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details[0]).toMatchObject({ path: 'body.type' });
    expect(unknown.body.details[0]?.message).toContain('did you mean "GenerateFlowFile"');
    expect((await admin.post('/process-groups/nope/processors', { type: 'LogAttribute' })).status).toBe(404);
  });

  it('answers malformed bodies with 400 naming each offending field', async () => {
    const r = await admin.post<ErrorReply>('/process-groups/root/processors', {
      type: 'LogAttribute',
      scheduling: { concurrentTasks: 0 },
      position: { x: 'left' },
      bogus: true,
    });
    expect(r.status).toBe(400);
    const paths = r.body.details.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['body.scheduling.concurrentTasks', 'body.position.x']));
    expect(r.body.details.some((d) => d.message.includes('bogus'))).toBe(true);
    const notJson = await admin.post<ErrorReply>('/process-groups/root/processors', '{"type":', {
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.details[0]?.path).toBe('body');
    const badQuery = await viewer.get<ErrorReply>('/connections/x/queue?limit=0');
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.details[0]?.path).toBe('query.limit');
    const protoKey = await admin.put<ErrorReply>(`/processors/${ids.generate}`, {
      revision: 1,
      component: { properties: JSON.parse('{"constructor":"x"}') },
    });
    expect(protoKey.status).toBe(400);
  });

  it('updates a processor at the current revision and refuses a stale one with 409', async () => {
    const before = await admin.get<Entity>(`/processors/${ids.generate}`);
    const updated = await admin.put<Entity<{ name: string; properties: Record<string, string> }>>(`/processors/${ids.generate}`, {
      revision: before.body.revision,
      component: { name: 'Generate greetings', properties: { batchSize: '1' } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.component.properties).toMatchObject({ customText: 'hello world', batchSize: '1' });
    const stale = await operator.get<Entity>(`/processors/${ids.generate}`); // operators may read
    expect(stale.body.revision).toBe(before.body.revision + 1);
    const conflict = await admin.put<ErrorReply>(`/processors/${ids.generate}`, {
      revision: before.body.revision,
      component: { name: 'someone else' },
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body.details[0]).toMatchObject({ componentId: ids.generate, path: 'revision' });
    expect((await admin.get(`/processors/${ids.log}`)).status).toBe(200);
    expect((await admin.get('/processors/does-not-exist')).status).toBe(404);
    expect((await admin.put('/processors/does-not-exist', { revision: 0, component: {} })).status).toBe(404);
    // A processor id is not a connection.
    expect((await admin.get(`/connections/${ids.generate}`)).status).toBe(404);
  });

  it('refuses a change the engine refuses, naming the problem, and stores nothing', async () => {
    const version = (await admin.get<{ version: number }>('/flow')).body.version;
    const r = await admin.put<ErrorReply>(`/processors/${ids.generate}`, {
      revision: await rev(`/processors/${ids.generate}`),
      component: { scheduling: { period: 'every now and then' } },
    });
    // A bad period makes the stopped processor invalid (accepted, and it says why); bad wiring is refused.
    expect(r.status).toBe(200);
    expect((await viewer.get<{ errors: string[] }>(`/components/${ids.generate}/validation`)).body.errors.join()).toContain(
      'scheduling period',
    );
    const wiring = await admin.post<ErrorReply>('/process-groups/root/connections', {
      source: { id: ids.generate },
      destination: { id: ids.log },
      relationships: ['nonsense'],
    });
    expect(wiring.status).toBe(400);
    expect(wiring.body.details[0]?.message).toContain('has no relationship "nonsense"');
    const after = (await admin.get<{ version: number }>('/flow')).body.version;
    expect(after).toBe(version + 1); // the accepted change only
    // Put the schedule right again.
    await admin.put(`/processors/${ids.generate}`, {
      revision: await rev(`/processors/${ids.generate}`),
      component: { scheduling: { period: '1 min' } },
    });
  });

  it('creates, updates and deletes connections', async () => {
    const c = await admin.post<Entity<{ relationships: string[] }>>('/process-groups/root/connections', {
      source: { id: ids.generate },
      destination: { id: ids.log },
      relationships: ['success'],
      name: 'greetings',
    });
    expect(c.status).toBe(201);
    ids.connection = c.body.id;
    const u = await admin.put<Entity<{ backPressureObjectThreshold: number }>>(`/connections/${ids.connection}`, {
      revision: c.body.revision,
      component: { backPressureObjectThreshold: 500, prioritizers: ['OldestFlowFileFirst'] },
    });
    expect(u.body.component.backPressureObjectThreshold).toBe(500);
    expect((await viewer.get(`/connections/${ids.connection}`)).status).toBe(200);
  });

  it('creates, updates and deletes ports, funnels and labels', async () => {
    const inPort = await admin.post<Entity>(`/process-groups/${ids.group}/input-ports`, { name: 'in' });
    expect(inPort.status).toBe(201);
    const outPort = await admin.post<Entity>(`/process-groups/${ids.group}/output-ports`, { name: 'out' });
    expect(outPort.status).toBe(201);
    expect((await admin.get(`/input-ports/${inPort.body.id}`)).status).toBe(200);
    expect((await admin.get(`/output-ports/${outPort.body.id}`)).status).toBe(200);
    const renamed = await admin.put<Entity<{ name: string }>>(`/input-ports/${inPort.body.id}`, {
      revision: inPort.body.revision,
      component: { name: 'entry' },
    });
    expect(renamed.body.component.name).toBe('entry');
    const outRenamed = await admin.put(`/output-ports/${outPort.body.id}`, {
      revision: outPort.body.revision,
      component: { comments: 'leaves here' },
    });
    expect(outRenamed.status).toBe(200);
    ids.inPort = inPort.body.id;
    ids.outPort = outPort.body.id;

    const funnel = await admin.post<Entity>('/process-groups/root/funnels', { position: { x: 5, y: 5 } });
    expect(funnel.status).toBe(201);
    const moved = await admin.put<Entity<{ position: { x: number } }>>(`/funnels/${funnel.body.id}`, {
      revision: funnel.body.revision,
      component: { position: { x: 50, y: 5 } },
    });
    expect(moved.body.component.position.x).toBe(50);
    expect((await viewer.get(`/funnels/${funnel.body.id}`)).status).toBe(200);
    expect((await admin.delete(`/funnels/${funnel.body.id}?revision=${moved.body.revision}`)).status).toBe(204);

    const label = await admin.post<Entity>('/process-groups/root/labels', { text: 'Read me', width: 100, height: 40 });
    expect(label.status).toBe(201);
    const relabeled = await admin.put<Entity<{ text: string; width?: number }>>(`/labels/${label.body.id}`, {
      revision: label.body.revision,
      component: { text: 'Read me first', width: null },
    });
    expect(relabeled.body.component).toMatchObject({ text: 'Read me first' });
    expect(relabeled.body.component.width).toBeUndefined();
    expect((await viewer.get(`/labels/${label.body.id}`)).status).toBe(200);
    expect((await admin.delete(`/labels/${label.body.id}?revision=${label.body.revision}`)).status).toBe(409);
    expect((await admin.delete(`/labels/${label.body.id}?revision=${relabeled.body.revision}`)).status).toBe(204);

    const tempPort = await admin.post<Entity>('/process-groups/root/output-ports', { name: 'temp' });
    expect((await admin.delete(`/output-ports/${tempPort.body.id}?revision=${tempPort.body.revision}`)).status).toBe(204);
    const tempIn = await admin.post<Entity>('/process-groups/root/input-ports', { name: 'temp-in' });
    expect((await admin.delete(`/input-ports/${tempIn.body.id}?revision=${tempIn.body.revision}`)).status).toBe(204);
  });

  it('creates, updates and deletes Remote Process Groups, masking the token; their ports are connection ends', async () => {
    type Remote = {
      name: string;
      targetUris: string;
      accessToken?: string;
      communicationsTimeout: string;
      inputPorts: { id: string; name: string; useCompression: boolean; batchCount: number; state: string }[];
      outputPorts: { id: string; name: string; state: string }[];
    };
    const created = await admin.post<Entity<Remote>>('/process-groups/root/remote-process-groups', {
      targetUris: 'http://127.0.0.1:9/nifi',
      accessToken: 'core-token-123',
      position: { x: 600, y: 0 },
      inputPorts: [{ name: 'from-edge' }],
      outputPorts: [{ name: 'to-edge', batchCount: 10 }],
    });
    expect(created.status).toBe(201);
    expect(created.body.kind).toBe('remote-process-group');
    expect(created.body.component).toMatchObject({
      name: 'http://127.0.0.1:9/nifi',
      accessToken: SENSITIVE_VALUE_SET,
      communicationsTimeout: '30 sec',
      inputPorts: [{ name: 'from-edge', useCompression: false, state: 'STOPPED' }],
    });
    const id = created.body.id;
    const inPort = created.body.component.inputPorts[0]?.id ?? '';
    const outPort = created.body.component.outputPorts[0]?.id ?? '';
    expect(JSON.stringify((await viewer.get(`/remote-process-groups/${id}`)).body)).not.toContain('core-token-123');
    expect(JSON.stringify((await admin.get('/flow')).body)).not.toContain('core-token-123');

    // Its ports are ends of connections in the group holding it.
    const push = await admin.post<Entity>('/process-groups/root/connections', {
      source: { id: ids.generate },
      destination: { id: inPort },
      relationships: ['success'],
    });
    expect(push.status).toBe(201);

    // Settings and per-port settings change; the token marker keeps the token; a connected port stays.
    const updated = await admin.put<Entity<Remote>>(`/remote-process-groups/${id}`, {
      revision: created.body.revision,
      component: {
        name: 'Core',
        communicationsTimeout: '5 sec',
        accessToken: SENSITIVE_VALUE_SET,
        inputPorts: [{ id: inPort, name: 'from-edge', useCompression: true, batchCount: 100 }],
      },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.component).toMatchObject({
      name: 'Core',
      communicationsTimeout: '5 sec',
      accessToken: SENSITIVE_VALUE_SET,
      inputPorts: [{ id: inPort, useCompression: true, batchCount: 100 }],
      outputPorts: [{ id: outPort, batchCount: 10 }],
    });
    const dropConnected = await admin.put<ErrorReply>(`/remote-process-groups/${id}`, {
      revision: updated.body.revision,
      component: { inputPorts: [] },
    });
    expect(dropConnected.status).toBe(409);
    expect(dropConnected.body.error).toContain('from-edge');
    const twice = await admin.put<ErrorReply>(`/remote-process-groups/${id}`, {
      revision: updated.body.revision,
      component: { outputPorts: [{ name: 'a' }, { name: 'a' }] },
    });
    expect(twice.status).toBe(400);

    // Stopping the group stops its ports (the remote is not reachable: nothing is started here).
    const stopped = await operator.post<{ changed: string[] }>('/run-status', {
      componentIds: [id],
      state: 'STOPPED',
    });
    expect(stopped.status).toBe(200);
    expect(stopped.body.changed.sort()).toEqual([inPort, outPort].sort());

    // Copy and paste bring it along with new ids (the token left out of the copy).
    const copy = await admin.post<{ remoteProcessGroups: Remote[] }>('/flow/copy', { componentIds: [id] });
    expect(copy.body.remoteProcessGroups[0]?.accessToken).toBe(SENSITIVE_VALUE_SET);

    // Deleting it deletes the connections to its ports.
    const latest = await rev(`/remote-process-groups/${id}`);
    expect((await admin.delete(`/remote-process-groups/${id}?revision=${latest}`)).status).toBe(204);
    expect((await admin.get(`/connections/${push.body.id}`)).status).toBe(404);
    expect((await admin.get(`/remote-process-groups/${id}`)).status).toBe(404);
  });

  it('keeps sensitive values encrypted at rest and never sends them', async () => {
    const secret = 'p@ssw0rd-never-leaves';
    const created = await admin.post<Entity<{ properties: Record<string, string | null> }>>('/process-groups/root/processors', {
      type: 'SecretHolder',
      name: 'Holds a secret',
      properties: { password: secret, note: 'visible', apiKey: 'dyn-secret-value' },
      autoTerminate: ['success'],
    });
    expect(created.status).toBe(201);
    ids.secret = created.body.id;
    expect(created.body.component.properties).toEqual({
      password: SENSITIVE_VALUE_SET,
      note: 'visible',
      apiKey: SENSITIVE_VALUE_SET,
    });
    const flowJson = readFileSync(join(t.dir, 'flow.json'), 'utf8');
    expect(flowJson).not.toContain(secret);
    expect(flowJson).not.toContain('dyn-secret-value');
    expect(flowJson).toContain('enc:v1:');
    for (const path of ['/flow', `/processors/${ids.secret}`, '/flow/export']) {
      expect((await viewer.get(path)).text).not.toContain(secret);
    }
    // The marker sent back keeps the stored value; the engine runs with the real one.
    const kept = await admin.put<Entity<{ properties: Record<string, string | null> }>>(`/processors/${ids.secret}`, {
      revision: created.body.revision,
      component: { properties: { password: SENSITIVE_VALUE_SET, note: 'changed' } },
    });
    expect(kept.status).toBe(200);
    const running = t.server.engine.flow.rootGroup.processors.find((p) => p.id === ids.secret);
    expect(running?.properties.password).toBe(secret);
    expect(running?.properties.note).toBe('changed');
    // null clears it.
    const cleared = await admin.put<Entity<{ properties: Record<string, string | null> }>>(`/processors/${ids.secret}`, {
      revision: kept.body.revision,
      component: { properties: { apiKey: null } },
    });
    expect(cleared.body.component.properties.apiKey).toBeUndefined();
    // The marker for a value never set is an error naming the property.
    const wrong = await admin.put<ErrorReply>(`/processors/${ids.secret}`, {
      revision: cleared.body.revision,
      component: { properties: { apiKey: SENSITIVE_VALUE_SET } },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.details[0]?.path).toBe('component.properties.apiKey');
    const exported = await viewer.get<{ rootGroup: { processors: { id: string; properties: Record<string, string | null> }[] } }>(
      '/flow/export',
    );
    expect(exported.body.rootGroup.processors.find((p) => p.id === ids.secret)?.properties.password).toBeNull();
  });

  it('creates, updates, enables and deletes controller services with sensitive properties', async () => {
    const s = await admin.post<Entity<{ properties: Record<string, string>; state: string }>>(
      '/process-groups/root/controller-services',
      {
        type: 'SecretService',
        name: 'Vault',
        properties: { token: 'tok-123-secret' },
      },
    );
    expect(s.status).toBe(201);
    expect(s.body.component).toMatchObject({ state: 'DISABLED', properties: { token: SENSITIVE_VALUE_SET } });
    ids.service = s.body.id;
    expect(readFileSync(join(t.dir, 'flow.json'), 'utf8')).not.toContain('tok-123-secret');
    const renamed = await admin.put<Entity<{ name: string }>>(`/controller-services/${ids.service}`, {
      revision: s.body.revision,
      component: { name: 'Vault 2', properties: { token: SENSITIVE_VALUE_SET } },
    });
    expect(renamed.body.component.name).toBe('Vault 2');
    expect((await viewer.get(`/controller-services/${ids.service}`)).status).toBe(200);
    const enabled = await operator.put<{ changed: string[] }>(`/controller-services/${ids.service}/run-status`, {
      state: 'ENABLED',
    });
    expect(enabled.body.changed).toEqual([ids.service]);
    expect([...t.server.engine.services()].find((x) => x.id === ids.service)?.enabled).toBe(true);
    const whileEnabled = await admin.put(`/controller-services/${ids.service}`, {
      revision: renamed.body.revision,
      component: { properties: { token: 'other' } },
    });
    expect(whileEnabled.status).toBe(409);
    expect((await operator.put(`/controller-services/${ids.service}/run-status`, { state: 'DISABLED' })).status).toBe(200);
    const removed = await admin.delete(
      `/controller-services/${ids.service}?revision=${await rev(`/controller-services/${ids.service}`)}`,
    );
    expect(removed.status).toBe(204);
  });

  it('manages parameter contexts, keeping sensitive parameters on the server', async () => {
    const created = await admin.post<Entity<{ parameters: { name: string; value: string | null }[] }>>('/parameter-contexts', {
      name: 'Production',
      parameters: [
        { name: 'out.dir', value: '/tmp/out' },
        { name: 'db.password', value: 'hunter2-secret', sensitive: true },
      ],
    });
    expect(created.status).toBe(201);
    ids.context = created.body.id;
    expect(created.body.component.parameters.find((p) => p.name === 'db.password')?.value).toBe(SENSITIVE_VALUE_SET);
    const list = await viewer.get<{ parameterContexts: Entity[] }>('/parameter-contexts');
    expect(list.body.parameterContexts.map((c) => c.id)).toContain(ids.context);
    expect(list.text).not.toContain('hunter2-secret');
    expect(readFileSync(join(t.dir, 'flow.json'), 'utf8')).not.toContain('hunter2-secret');
    const updated = await admin.put<Entity<{ parameters: { name: string; value: string | null }[] }>>(
      `/parameter-contexts/${ids.context}`,
      {
        revision: created.body.revision,
        component: {
          parameters: [
            { name: 'out.dir', value: '/tmp/out2' },
            { name: 'db.password', value: SENSITIVE_VALUE_SET, sensitive: true },
          ],
        },
      },
    );
    expect(updated.status).toBe(200);
    expect(t.server.engine.flow.parameterContexts[0]?.parameters.find((p) => p.name === 'db.password')?.value).toBe(
      'hunter2-secret',
    );
    expect((await viewer.get(`/parameter-contexts/${ids.context}`)).status).toBe(200);
    // In use by a group: cannot be deleted.
    const group = await admin.get<Entity>(`/process-groups/${ids.group}`);
    await admin.put(`/process-groups/${ids.group}`, {
      revision: group.body.revision,
      component: { parameterContextId: ids.context },
    });
    const inUse = await admin.delete<ErrorReply>(`/parameter-contexts/${ids.context}?revision=${updated.body.revision}`);
    expect(inUse.status).toBe(409);
    await admin.put(`/process-groups/${ids.group}`, {
      revision: await rev(`/process-groups/${ids.group}`),
      component: { parameterContextId: null },
    });
    expect((await admin.delete(`/parameter-contexts/${ids.context}?revision=${updated.body.revision}`)).status).toBe(204);
  });
});

describe('running, queues and provenance', () => {
  it('runs a processor once and lists its queue', async () => {
    const r = await operator.post<{ changed: string[] }>(`/processors/${ids.generate}/run-once`);
    expect(r.status).toBe(200);
    const queue = await until(async () => {
      const q = await viewer.get<{ total: { count: number }; items: { uuid: string; size: number; position: number }[] }>(
        `/connections/${ids.connection}/queue?offset=0&limit=10`,
      );
      return q.body.total.count === 1 ? q.body : undefined;
    }, 'a queued FlowFile');
    expect(queue.items[0]).toMatchObject({ position: 1, size: 11 });
    ids.uuid = queue.items[0]?.uuid ?? '';
    expect((await viewer.get(`/connections/${ids.connection}/queue?offset=5`)).body).toMatchObject({ items: [] });
  });

  it("shows a queued FlowFile's attributes, and its content to operators with Range support", async () => {
    const detail = await viewer.get<{ attributes: Record<string, string>; mimeType: string }>(
      `/connections/${ids.connection}/queue/${ids.uuid}`,
    );
    expect(detail.status).toBe(200);
    expect(detail.body.attributes.uuid).toBe(ids.uuid);
    expect(detail.body.mimeType).toBe('text/plain');
    expect((await viewer.get(`/connections/${ids.connection}/queue/${ids.uuid}/content`)).status).toBe(403);
    const full = await operator.get(`/connections/${ids.connection}/queue/${ids.uuid}/content?disposition=inline`);
    expect(full.status).toBe(200);
    expect(full.text).toBe('hello world');
    expect(full.headers.get('content-type')).toContain('text/plain');
    expect(full.headers.get('content-security-policy')).toContain('sandbox');
    const part = await operator.get(`/connections/${ids.connection}/queue/${ids.uuid}/content`, {
      headers: { range: 'bytes=6-' },
    });
    expect(part.status).toBe(206);
    expect(part.text).toBe('world');
    expect(part.headers.get('content-range')).toBe('bytes 6-10/11');
    expect(part.headers.get('content-disposition')).toContain('attachment');
    const beyond = await operator.get(`/connections/${ids.connection}/queue/${ids.uuid}/content`, {
      headers: { range: 'bytes=50-60' },
    });
    expect(beyond.status).toBe(416);
    expect((await viewer.get(`/connections/${ids.connection}/queue/not-there`)).status).toBe(404);
    // Each download is a DOWNLOAD provenance event naming the user.
    await until(async () => {
      const events = await viewer.get<{ events: { eventType: string; details: string | null }[] }>(
        `/provenance/events?eventType=DOWNLOAD`,
      );
      return events.body.events.some((e) => e.details?.includes('operator-user'));
    }, 'a DOWNLOAD event');
  });

  it('searches provenance, shows an event, its content and lineage', async () => {
    const search = await viewer.get<{
      events: { eventId: number; eventType: string; flowFileUuid: string }[];
      more: boolean;
      repository: string;
    }>(`/provenance/events?componentId=${ids.generate}&limit=5`);
    expect(search.status).toBe(200);
    expect(search.body.repository).toBe('durable');
    const create = search.body.events.find((e) => e.eventType === 'CREATE');
    expect(create?.flowFileUuid).toBe(ids.uuid);
    const byUuid = await viewer.get<{ events: unknown[] }>(`/provenance/events?uuid=${ids.uuid}`);
    expect(byUuid.body.events.length).toBeGreaterThan(0);
    const byAttribute = await viewer.get<{ events: unknown[] }>(
      `/provenance/events?attributeName=mime.type&attributeValue=text/plain&startTime=0&endTime=${Date.now() + 1000}`,
    );
    expect(byAttribute.body.events.length).toBeGreaterThan(0);
    const event = await viewer.get<{
      eventType: string;
      outputContent: { size: number; available: boolean } | null;
      attributes: Record<string, string>;
    }>(`/provenance/events/${create?.eventId}`);
    expect(event.body).toMatchObject({ eventType: 'CREATE', outputContent: { size: 11, available: true } });
    expect((await operator.get(`/provenance/events/${create?.eventId}/content/output`)).text).toBe('hello world');
    expect((await operator.get(`/provenance/events/${create?.eventId}/content/input`)).status).toBe(404);
    const lineage = await viewer.get<{ nodes: { kind: string }[]; links: unknown[] }>(`/provenance/lineage?uuid=${ids.uuid}`);
    expect(lineage.body.nodes.some((n) => n.kind === 'event')).toBe(true);
    expect((await viewer.get(`/provenance/events/${create?.eventId}/parents`)).status).toBe(200);
    expect((await viewer.get(`/provenance/events/${create?.eventId}/children`)).status).toBe(200);
    expect((await viewer.get('/provenance/events/99999999')).status).toBe(404);
    expect((await viewer.get('/provenance/events?eventType=NOT_A_TYPE')).status).toBe(400);
  });

  it('replays an event into the queue it came from', async () => {
    await operator.post(`/processors/${ids.log}/run-once`);
    const drop = await until(async () => {
      const r = await viewer.get<{ events: { eventId: number; eventType: string }[] }>(
        `/provenance/events?componentId=${ids.log}&eventType=DROP`,
      );
      return r.body.events[0];
    }, 'the DROP of the auto-terminated FlowFile');
    const detail = await viewer.get<{ replayable: boolean }>(`/provenance/events/${drop.eventId}`);
    expect(detail.body.replayable).toBe(true);
    expect((await viewer.post(`/provenance/events/${drop.eventId}/replay`)).status).toBe(403);
    const replay = await operator.post<{ uuid: string; connectionId: string }>(`/provenance/events/${drop.eventId}/replay`);
    expect(replay.status).toBe(201);
    expect(replay.body.connectionId).toBe(ids.connection);
    const queue = await viewer.get<{ items: { uuid: string }[] }>(`/connections/${ids.connection}/queue`);
    expect(queue.body.items.map((i) => i.uuid)).toContain(replay.body.uuid);
  });

  it('empties a queue with DROP events', async () => {
    expect((await viewer.delete(`/connections/${ids.connection}/queue`)).status).toBe(403);
    const r = await operator.delete<{ dropped: number }>(`/connections/${ids.connection}/queue`);
    expect(r.body.dropped).toBe(1);
    const drops = await until(async () => {
      const e = await viewer.get<{ events: { details: string | null }[] }>(`/provenance/events?eventType=DROP`);
      return e.body.events.find((x) => x.details?.includes('emptied by operator-user'));
    }, 'the DROP event of emptying');
    expect(drops).toBeDefined();
  });

  it('starts and stops a component, a selection and a group, and reports validation', async () => {
    const invalid = await admin.post<Entity>('/process-groups/root/processors', { type: 'PutFile', name: 'Unconfigured' });
    ids.invalid = invalid.body.id;
    const validation = await viewer.get<{ valid: boolean; errors: string[] }>(`/components/${ids.invalid}/validation`);
    expect(validation.body.valid).toBe(false);
    expect(validation.body.errors.length).toBeGreaterThan(0);
    expect((await viewer.get(`/components/${ids.log}/validation`)).body).toMatchObject({ valid: true });
    const refused = await operator.put<ErrorReply>(`/components/${ids.invalid}/run-status`, { state: 'RUNNING' });
    expect(refused.status).toBe(409);
    const started = await operator.put<{ changed: string[] }>(`/components/${ids.log}/run-status`, { state: 'RUNNING' });
    expect(started.body.changed).toEqual([ids.log]);
    expect(t.server.engine.component(ids.log)?.runState).toBe('RUNNING');
    expect(readFileSync(join(t.dir, 'flow.json'), 'utf8')).toContain('"state": "RUNNING"');
    const deleteRunning = await admin.delete<ErrorReply>(
      `/processors/${ids.log}?revision=${await rev(`/processors/${ids.log}`)}`,
    );
    expect(deleteRunning.status).toBe(409);
    await operator.put(`/components/${ids.log}/run-status`, { state: 'STOPPED' });
    const selection = await operator.post<{ changed: string[]; failures: { id: string }[] }>('/run-status', {
      componentIds: [ids.log, ids.invalid, 'nope'],
      state: 'RUNNING',
    });
    expect(selection.body.changed).toEqual([ids.log]);
    expect(selection.body.failures.map((f) => f.id).sort()).toEqual([ids.invalid, 'nope'].sort());
    const stopped = await operator.put<{ changed: string[] }>('/process-groups/root/run-status', { state: 'STOPPED' });
    expect(stopped.body.changed).toContain(ids.log);
    expect(t.server.engine.component(ids.log)?.runState).toBe('STOPPED');
    const groupStart = await operator.put<{ failures: { id: string }[] }>('/process-groups/root/run-status', {
      state: 'RUNNING',
    });
    expect(groupStart.body.failures.map((f) => f.id)).toContain(ids.invalid);
    await operator.put('/process-groups/root/run-status', { state: 'STOPPED' });
    const disabled = await operator.put<{ changed: string[] }>(`/components/${ids.invalid}/run-status`, { state: 'DISABLED' });
    expect(disabled.body.changed).toEqual([ids.invalid]);
    expect(t.server.engine.component(ids.invalid)?.runState).toBe('DISABLED');
    await operator.put(`/components/${ids.invalid}/run-status`, { state: 'STOPPED' });
    expect(t.server.engine.component(ids.invalid)?.runState).toBe('STOPPED');
    expect((await viewer.put(`/components/${ids.log}/run-status`, { state: 'RUNNING' })).status).toBe(403);
  });

  it('reports status, status history, bulletins and diagnostics', async () => {
    const status = await viewer.get<{
      components: { id: string }[];
      connections: { id: string; queued: unknown }[];
      services: unknown[];
    }>('/status');
    expect(status.body.components.map((c) => c.id)).toContain(ids.generate);
    expect(status.body.connections.map((c) => c.id)).toContain(ids.connection);
    t.server.context.history.sample();
    const history = await viewer.get<{ times: number[]; series: Record<string, number[]> }>(`/status/history/${ids.generate}`);
    expect(history.status).toBe(200);
    expect(history.body.times.length).toBeGreaterThan(0);
    expect(history.body.series.outCount?.length).toBe(history.body.times.length);
    expect((await viewer.get(`/status/history/${ids.connection}`)).body).toMatchObject({ kind: 'connection' });
    expect((await viewer.get('/status/history/nope')).status).toBe(404);
    t.server.engine.bulletins.add({ level: 'WARN', message: 'disk is getting full', componentId: ids.log, componentName: 'Log' });
    const bulletins = await viewer.get<{ bulletins: { message: string }[] }>(`/bulletins?componentId=${ids.log}&minLevel=WARN`);
    expect(bulletins.body.bulletins.map((b) => b.message)).toContain('disk is getting full');
    const diagnostics = await viewer.get<{
      memory: { heapUsedBytes: number };
      disk: { totalBytes: number };
      eventLoopDelayMs: { p99: number };
      repositories: { provenance: { mode: string } };
    }>('/system/diagnostics');
    expect(diagnostics.body.repositories.provenance.mode).toBe('durable');
    expect(diagnostics.body.memory.heapUsedBytes).toBeGreaterThan(0);
    expect(diagnostics.body.disk.totalBytes).toBeGreaterThan(0);
    expect(diagnostics.body.eventLoopDelayMs.p99).toBeGreaterThanOrEqual(0);
  });
});

describe('selections, versions, export and import', () => {
  it('copies and pastes a selection with new ids and remapped connections', async () => {
    const copy = await viewer.post<{
      processors: { id: string; properties: Record<string, string | null> }[];
      connections: unknown[];
    }>('/flow/copy', { componentIds: [ids.generate, ids.log, ids.secret] });
    expect(copy.status).toBe(200);
    expect(copy.body.processors).toHaveLength(3);
    expect(copy.body.connections).toHaveLength(1);
    expect(copy.text).not.toContain('p@ssw0rd-never-leaves');
    const pasted = await admin.post<{ idMap: Record<string, string>; created: Entity[] }>(`/process-groups/${ids.group}/paste`, {
      componentIds: [ids.generate, ids.log, ids.secret],
      offset: { x: 100, y: 0 },
    });
    expect(pasted.status).toBe(201);
    const newGenerate = pasted.body.idMap[ids.generate] ?? '';
    const newLog = pasted.body.idMap[ids.log] ?? '';
    expect(newGenerate).not.toBe(ids.generate);
    const group = t.server.engine.flow.rootGroup.processGroups.find((g) => g.id === ids.group);
    expect(group?.connections.map((c) => [c.source.id, c.destination.id])).toContainEqual([newGenerate, newLog]);
    // The secret came along on the server side.
    const secretCopy = group?.processors.find((p) => p.id === pasted.body.idMap[ids.secret]);
    expect(secretCopy?.properties.password).toBe('p@ssw0rd-never-leaves');
    // A fragment from a client loses its masked secrets.
    const fromFragment = await admin.post<{ idMap: Record<string, string> }>(`/process-groups/${ids.group}/paste`, {
      fragment: copy.body,
    });
    expect(fromFragment.status).toBe(201);
    const fragmentSecret = t.server.engine.flow.rootGroup.processGroups
      .find((g) => g.id === ids.group)
      ?.processors.find((p) => p.id === fromFragment.body.idMap[ids.secret]);
    expect(fragmentSecret?.properties.password ?? null).toBeNull();
    expect((await admin.post('/process-groups/root/paste', { componentIds: [ids.generate], fragment: copy.body })).status).toBe(
      400,
    );
    ids.pastedGenerate = newGenerate;
    ids.pastedLog = newLog;
  });

  it('saves a copy as a snippet, lists, reads and deletes it (more in snippets.test.ts)', async () => {
    const copy = await viewer.post('/flow/copy', { componentIds: [ids.generate, ids.log] });
    const created = await admin.post<{ id: string; componentCount: number }>('/snippets', { name: 'pair', fragment: copy.body });
    expect(created.status).toBe(201);
    expect(created.body.componentCount).toBe(2);
    expect((await viewer.get<{ snippets: { id: string }[] }>('/snippets')).body.snippets.map((s) => s.id)).toEqual([
      created.body.id,
    ]);
    expect((await viewer.get(`/snippets/${created.body.id}`)).status).toBe(200);
    expect((await viewer.delete(`/snippets/${created.body.id}`)).status).toBe(403);
    expect((await admin.delete(`/snippets/${created.body.id}`)).status).toBe(204);
  });

  it('moves components, with revisions', async () => {
    const revision = await rev(`/processors/${ids.invalid}`);
    const moved = await admin.post<{ revisions: Record<string, number> }>('/flow/move', {
      items: [{ id: ids.invalid, revision, position: { x: 300, y: 300 } }],
    });
    expect(moved.status).toBe(200);
    expect(moved.body.revisions[ids.invalid]).toBe(revision + 1);
    const into = await admin.post('/flow/move', { items: [{ id: ids.invalid, revision: revision + 1 }], groupId: ids.group });
    expect(into.status).toBe(200);
    expect((await admin.get<Entity>(`/processors/${ids.invalid}`)).body.groupId).toBe(ids.group);
    expect((await admin.post('/flow/move', { items: [{ id: ids.invalid, revision }] })).status).toBe(409);
    // Moving one end of a connection alone is refused by the engine.
    const broken = await admin.post<ErrorReply>('/flow/move', {
      items: [{ id: ids.pastedLog, revision: await rev(`/processors/${ids.pastedLog}`) }],
      groupId: 'root',
    });
    expect(broken.status).toBe(400);
  });

  it('deletes a selection with the connections of what it deletes', async () => {
    const r = await admin.post<{ deleted: string[] }>('/flow/delete', {
      items: [
        { id: ids.pastedGenerate, revision: await rev(`/processors/${ids.pastedGenerate}`) },
        { id: ids.pastedLog, revision: await rev(`/processors/${ids.pastedLog}`) },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.deleted.length).toBe(3);
  });

  it('keeps versions and restores one', async () => {
    const versions = await viewer.get<{ current: number; versions: { version: number; summary: string; savedBy: string }[] }>(
      '/flow/versions',
    );
    expect(versions.body.versions.length).toBeGreaterThan(5);
    expect(versions.body.versions.length).toBeLessThanOrEqual(20);
    expect(versions.body.versions[0]?.version).toBe(versions.body.current);
    expect(versions.body.versions[0]?.savedBy).toBe('admin');
    const old = versions.body.versions[versions.body.versions.length - 1];
    const detail = await viewer.get<{ flow: unknown; summary: string }>(`/flow/versions/${old?.version}`);
    expect(detail.status).toBe(200);
    expect((await viewer.get('/flow/versions/999999')).status).toBe(404);
    const before = await rev(`/processors/${ids.generate}`);
    const restored = await admin.post<{ version: number; restoredFrom: number }>(
      `/flow/versions/${versions.body.current}/restore`,
    );
    expect(restored.status).toBe(200);
    expect(restored.body.version).toBe(versions.body.current + 1);
    expect(await rev(`/processors/${ids.generate}`)).toBe(before + 1); // every revision bumps: stale editors reload
  });

  it('imports a document as a group, reporting what it could not map', async () => {
    const document = {
      sluiceFlow: 1,
      parameterContexts: [{ id: 'ctx', name: 'Imported context', parameters: [{ name: 'a', value: '1' }] }],
      rootGroup: {
        id: 'imported-root',
        name: 'Imported',
        parameterContextId: 'ctx',
        processors: [
          { id: 'g', name: 'Gen', type: 'GenerateFlowFile', state: 'RUNNING' },
          { id: 'm', name: 'Mystery', type: 'ConsumeKafkaRecord_9_9' },
          {
            id: 'l',
            name: 'Log',
            type: 'LogAttribute',
            autoTerminate: ['success', 'failure'],
            properties: { noSuchProperty: 'x' },
          },
        ],
        connections: [
          { id: 'c1', source: { id: 'g' }, destination: { id: 'l' }, relationships: ['success'] },
          { id: 'c2', source: { id: 'g' }, destination: { id: 'm' }, relationships: ['success'] },
        ],
      },
    };
    const r = await admin.post<{
      groupId: string;
      imported: { processors: number; connections: number };
      issues: { action: string; message: string }[];
    }>('/flow/import', { document, mode: 'group', groupId: 'root', position: { x: 0, y: 500 } });
    expect(r.status).toBe(200);
    expect(r.body.imported).toMatchObject({ processors: 2, connections: 1 });
    const messages = r.body.issues.map((i) => `${i.action}: ${i.message}`).join('\n');
    expect(messages).toContain('unknown processor type "ConsumeKafkaRecord_9_9"');
    expect(messages).toContain('has no property "noSuchProperty"');
    expect(messages).toContain('has no relationship "failure"');
    expect(messages).toContain('come in stopped');
    const group = t.server.engine.flow.rootGroup.processGroups.find((g) => g.id === r.body.groupId);
    expect(group?.processors.every((p) => p.state === 'STOPPED')).toBe(true);
    expect(group?.processors.map((p) => p.id)).not.toContain('g'); // new ids
    const bad = await admin.post<ErrorReply>('/flow/import', { document: { sluiceFlow: 2 }, mode: 'replace' });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0]?.path).toContain('document');
    expect((await admin.post('/flow/import', { document, mode: 'group' })).status).toBe(400);
  });

  it('exports one group and re-imports the flow in replace mode', async () => {
    const group = await viewer.get<{ rootGroup: { id: string } }>(`/flow/export?groupId=${ids.group}`);
    expect(group.body.rootGroup.id).toBe(ids.group);
    expect(group.headers.get('content-disposition')).toContain('attachment');
    expect((await viewer.get('/flow/export?groupId=nope')).status).toBe(404);
    const whole = await viewer.get('/flow/export');
    const r = await admin.post<{ version: number; issues: unknown[] }>('/flow/import', {
      document: whole.body,
      mode: 'replace',
      keepRunStates: true,
    });
    expect(r.status).toBe(200);
    expect(t.server.engine.flow.rootGroup.processors.map((p) => p.id)).toContain(ids.generate);
  });

  it('deletes components one by one', async () => {
    expect(
      (await admin.delete(`/connections/${ids.connection}?revision=${await rev(`/connections/${ids.connection}`)}`)).status,
    ).toBe(204);
    expect((await admin.delete(`/processors/${ids.log}?revision=${await rev(`/processors/${ids.log}`)}`)).status).toBe(204);
    expect((await admin.get(`/processors/${ids.log}`)).status).toBe(404);
  });
});

describe('users and passwords', () => {
  it('lists, creates, updates and deletes users; the last admin stays', async () => {
    expect((await admin.get<{ users: { username: string }[] }>('/users')).body.users.map((u) => u.username)).toContain(
      'viewer-user',
    );
    const created = await admin.post('/users', { username: 'carol', password: 'carol-password-1', role: 'viewer' });
    expect(created.status).toBe(201);
    expect((await admin.post('/users', { username: 'carol', password: 'carol-password-1', role: 'viewer' })).status).toBe(409);
    expect(
      (await admin.post<ErrorReply>('/users', { username: 'dave', password: 'short', role: 'viewer' })).body.details[0]?.path,
    ).toBe('body.password');
    const promoted = await admin.put('/users/carol', { role: 'operator' });
    expect(promoted.body).toEqual({ username: 'carol', role: 'operator' });
    expect((await admin.put('/users/nobody', { role: 'operator' })).status).toBe(404);
    expect((await admin.put('/users/admin', { role: 'viewer' })).status).toBe(409);
    expect((await admin.delete('/users/admin')).status).toBe(409);
    expect((await admin.delete('/users/carol')).status).toBe(204);
    expect((await admin.delete('/users/carol')).status).toBe(404);
  });

  it("changes the user's own password and logs out", async () => {
    const carolPassword = 'carol-password-2';
    await admin.post('/users', { username: 'carol', password: carolPassword, role: 'viewer' });
    const { Client } = await import('./test-server.test-helper.ts');
    const carol = await Client.login(t.url, 'carol', carolPassword);
    expect(
      (await carol.put('/auth/password', { currentPassword: 'wrong-password', newPassword: 'carol-password-3' })).status,
    ).toBe(400);
    expect((await carol.put('/auth/password', { currentPassword: carolPassword, newPassword: 'carol-password-3' })).status).toBe(
      204,
    );
    const again = await Client.login(t.url, 'carol', 'carol-password-3');
    expect((await again.post('/auth/logout')).status).toBe(204);
    expect((await again.get('/auth/session')).status).toBe(401);
  });
});

describe('coverage', () => {
  it('exercised every route of the API successfully', () => {
    expect(unexercised()).toEqual([]);
  });
});
