import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestServer, until } from './test-server.test-helper.ts';

// A flow built through the API, with data queued, survives a restart of the server.

let t: TestServer | undefined;
afterAll(async () => {
  await t?.close();
});

describe('restart', () => {
  it('keeps the flow, revisions, sensitive values, versions, logins and queued data', async () => {
    t = await TestServer.start({ initialFlow: 'demo' });
    const admin = t.admin;
    // The first start loads the demo flow, stopped.
    const demo = t.server.engine.flow.rootGroup.processors;
    expect(demo.map((p) => p.id)).toEqual(['generate', 'tag', 'route', 'write', 'log']);
    expect(demo.every((p) => p.state === 'STOPPED')).toBe(true);

    const group = await admin.post<{ id: string }>('/process-groups/root/process-groups', { name: 'Kept' });
    const gen = await admin.post<{ id: string }>(`/process-groups/${group.body.id}/processors`, {
      type: 'GenerateFlowFile',
      properties: { customText: 'survives restarts', batchSize: '3' },
    });
    const secret = await admin.post<{ id: string }>(`/process-groups/${group.body.id}/processors`, {
      type: 'SecretHolder',
      properties: { password: 'kept-secret-value' },
    });
    const connection = await admin.post<{ id: string }>(`/process-groups/${group.body.id}/connections`, {
      source: { id: gen.body.id },
      destination: { id: secret.body.id },
      relationships: ['success'],
    });
    const renamed = await admin.put<{ revision: number }>(`/processors/${gen.body.id}`, {
      revision: 1,
      component: { name: 'Renamed' },
    });
    expect(renamed.status).toBe(200);
    await (await t.as('operator')).post(`/processors/${gen.body.id}/run-once`);
    await until(() => (t?.server.engine.connection(connection.body.id)?.queue.size().count ?? 0) === 3, 'three queued FlowFiles');
    const versionBefore = (await admin.get<{ version: number }>('/flow')).body.version;
    const flowBefore = JSON.stringify(t.server.engine.flow);

    await t.restart();
    const after = t.admin;
    expect(t.server.initialCredentials).toBeUndefined(); // the login is not regenerated
    expect(JSON.stringify(t.server.engine.flow)).toBe(flowBefore);
    const flow = await after.get<{ version: number; revisions: Record<string, number> }>('/flow');
    expect(flow.body.version).toBe(versionBefore);
    expect(flow.body.revisions[gen.body.id]).toBe(renamed.body.revision);
    // The stale revision is still stale after the restart.
    expect((await after.put(`/processors/${gen.body.id}`, { revision: 1, component: { name: 'x' } })).status).toBe(409);
    const queue = await after.get<{ total: { count: number }; items: { uuid: string }[] }>(
      `/connections/${connection.body.id}/queue`,
    );
    expect(queue.body.total.count).toBe(3);
    const operator = await t.as('operator');
    const content = await operator.get(`/connections/${connection.body.id}/queue/${queue.body.items[0]?.uuid}/content`);
    expect(content.text).toBe('survives restarts');
    const running = t.server.engine.flow.rootGroup.processGroups[0]?.processors.find((p) => p.id === secret.body.id);
    expect(running?.properties.password).toBe('kept-secret-value');
    expect(readFileSync(join(t.dir, 'flow.json'), 'utf8')).not.toContain('kept-secret-value');
    const versions = await after.get<{ versions: unknown[] }>('/flow/versions');
    expect(versions.body.versions.length).toBeGreaterThan(3);
  });
});
