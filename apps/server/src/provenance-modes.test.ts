import { afterEach, describe, expect, it } from 'vitest';
import { TestServer, until } from './test-server.test-helper.ts';

// `sluice start --provenance volatile|off`: the API says which repository runs, so the editor can
// tell a user why lineage is short-lived or missing.
describe('provenance modes', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const flow = {
    sluiceFlow: 1 as const,
    rootGroup: {
      id: 'root',
      name: 'modes',
      processors: [{ id: 'gen', name: 'Make', type: 'GenerateFlowFile', autoTerminate: ['success'], state: 'STOPPED' as const }],
    },
  };

  type Search = { events: { eventType: string }[]; repository: string };
  type Diagnostics = { repositories: { provenance: { mode: string; events: number } } };

  it('volatile: events are searchable, and the API says they are kept in memory only', async () => {
    server = await TestServer.start({ initialFlow: flow, engine: { provenance: 'volatile' } });
    expect((await server.admin.post('/processors/gen/run-once')).status).toBe(200);
    const search = await until(async () => {
      const reply = await server?.admin.get<Search>('/provenance/events?componentId=gen');
      return (reply?.body.events.length ?? 0) > 0 ? reply : undefined;
    }, 'the CREATE event');
    expect(search.body.repository).toBe('volatile');
    expect(search.body.events.map((e) => e.eventType)).toContain('CREATE');
    const diagnostics = await server.admin.get<Diagnostics>('/system/diagnostics');
    expect(diagnostics.body.repositories.provenance.mode).toBe('volatile');
  });

  it('off: no events, and the API says provenance is off', async () => {
    server = await TestServer.start({ initialFlow: flow, engine: { provenance: 'off' } });
    expect((await server.admin.post('/processors/gen/run-once')).status).toBe(200);
    await until(() => (server?.server.engine.component('gen')?.stats.tasks.sum(Date.now()) ?? 0) > 0, 'the run');
    const search = await server.admin.get<Search>('/provenance/events');
    expect(search.body).toMatchObject({ events: [], repository: 'off' });
    const diagnostics = await server.admin.get<Diagnostics>('/system/diagnostics');
    expect(diagnostics.body.repositories.provenance).toMatchObject({ mode: 'off', events: 0 });
  });
});
