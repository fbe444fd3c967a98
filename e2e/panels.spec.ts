import { writeFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { buildPair, connect, dragProcessor, expect, login, processor, test } from './fixtures.ts';

/** The flow document as the server has it (GET needs no CSRF token; the page's session cookie is shared). */
async function flowOf(page: Page) {
  const response = await page.request.get('/api/v1/flow');
  expect(response.ok()).toBe(true);
  return (await response.json()) as {
    flow: {
      parameterContexts: { id: string; name: string; parameters: { name: string; value: string | null; sensitive: boolean }[] }[];
      rootGroup: {
        parameterContextId?: string;
        processors: { id: string; properties: Record<string, string | null> }[];
        connections: { source: { id: string }; destination: { id: string } }[];
        processGroups: { inputPorts: { id: string }[]; outputPorts: { id: string }[] }[];
      };
    };
  };
}

test('parameter contexts: create, edit (sensitive masked), assign, #{references} checked, delete', async ({ page, server }) => {
  await login(page);
  await dragProcessor(page, 'PutFile', 300, 200);

  // Create a context with a plain and a sensitive parameter.
  await page.getByTestId('open-parameters').click();
  const dialog = page.getByTestId('parameters-dialog');
  await dialog.getByTestId('parameter-context-new-name').fill('e2e context');
  await dialog.getByTestId('parameter-context-create').click();
  const editor = dialog.getByTestId('parameter-context-editor');
  await expect(editor).toBeVisible();
  await editor.getByTestId('parameter-add').click();
  await editor.getByTestId('parameter-name').last().fill('out dir');
  await editor.getByTestId('parameter-value').last().fill(server.outDir);
  await editor.getByTestId('parameter-add').click();
  await editor.getByTestId('parameter-name').last().fill('bad/name');
  await expect(editor.getByTestId('parameter-problem')).toBeVisible();
  await expect(editor.getByTestId('parameter-context-save')).toBeDisabled();
  await editor.getByTestId('parameter-name').last().fill('secret');
  await editor.getByTestId('parameter-sensitive').last().check();
  await editor.getByTestId('parameter-value').last().fill('s3cret-value');
  await expect(editor.getByTestId('parameter-value').last()).toHaveAttribute('type', 'password');
  await editor.getByTestId('parameter-context-save').click();
  await expect(editor).toBeHidden();
  const row = dialog.locator('[data-testid="parameter-context-row"][data-name="e2e context"]');
  await expect(row).toContainText('2');

  // The sensitive value never comes back: not from the API, not in the form.
  const stored = (await flowOf(page)).flow.parameterContexts[0];
  expect(stored?.parameters.find((p) => p.name === 'secret')?.value).not.toBe('s3cret-value');
  expect(JSON.stringify(stored)).not.toContain('s3cret-value');
  await row.getByTestId('parameter-context-edit').click();
  const secret = editor.locator('[data-testid="parameter-row"][data-name="secret"]').getByTestId('parameter-value');
  await expect(secret).toHaveValue('');
  await expect(secret).toHaveAttribute('placeholder', 'Sensitive value set');
  await editor.getByRole('button', { name: 'Cancel' }).click();

  // A reference before the group has a context is an error that says so.
  await page.keyboard.press('Escape');
  await processor(page, 'PutFile').dblclick();
  const configure = page.getByTestId('configure-dialog');
  await configure.getByTestId('property-input-directory').fill('#{out dir}');
  await expect(configure.getByTestId('property-error-directory')).toContainText('no parameter context');
  await page.keyboard.press('Escape');
  await expect(configure).toBeHidden();

  // Assign the context to the root group; now a defined name is fine and an unknown one is named.
  await page.getByTestId('open-parameters').click();
  await dialog.getByTestId('group-parameter-context').selectOption({ label: 'e2e context' });
  await expect(row).toContainText('E2E flow');
  await expect(row.getByTestId('parameter-context-delete')).toBeDisabled();
  await page.keyboard.press('Escape');
  await processor(page, 'PutFile').dblclick();
  await configure.getByTestId('property-input-directory').fill('#{nope}');
  await expect(configure.getByTestId('property-error-directory')).toContainText('"nope"');
  await expect(configure.getByTestId('configure-save')).toBeDisabled();
  await configure.getByTestId('property-input-directory').fill('#{out dir}');
  await expect(configure.getByTestId('property-error-directory')).toHaveCount(0);
  await configure.getByTestId('configure-save').click();
  await expect(configure).toBeHidden();
  const flow = await flowOf(page);
  expect(flow.flow.rootGroup.processors[0]?.properties.directory).toBe('#{out dir}');
  expect(flow.flow.rootGroup.parameterContextId).toBe(stored?.id);

  // Unassign, then delete the context.
  await page.getByTestId('open-parameters').click();
  await dialog.getByTestId('group-parameter-context').selectOption({ value: '' });
  await expect(row.getByTestId('parameter-context-delete')).toBeEnabled();
  await row.getByTestId('parameter-context-delete').click();
  await expect(row).toHaveCount(0);
  await expect(dialog.getByTestId('parameters-error')).toHaveCount(0);
});

test('edit a label by double-clicking it; undo and redo the edit', async ({ page }) => {
  await login(page);
  await page.getByTestId('palette-label').dblclick();
  const label = page.getByTestId('label-node');
  await expect(label).toHaveText('Label');
  await label.dblclick();
  const dialog = page.getByTestId('label-dialog');
  await dialog.getByTestId('label-text').fill('Reads the sensors\nand files them');
  await dialog.getByTestId('label-save').click();
  await expect(dialog).toBeHidden();
  await expect(label).toContainText('Reads the sensors');
  await page.getByTestId('toolbar-undo').click();
  await expect(label).toHaveText('Label');
  await page.getByTestId('toolbar-redo').click();
  await expect(label).toContainText('and files them');
});

test("connect into a child group's input port and out of its output port from the parent canvas", async ({ page }) => {
  await login(page);
  await page.getByTestId('palette-group').dblclick();
  const group = page.getByTestId('group-node');
  await expect(group).toHaveCount(1);
  await group.dblclick();
  await page.getByTestId('palette-input-port').dblclick();
  await expect(page.getByTestId('port-node')).toHaveCount(1);
  await page.getByTestId('palette-output-port').dblclick();
  await expect(page.getByTestId('port-node')).toHaveCount(2);
  await page.getByTestId('breadcrumbs').getByRole('button').first().click();
  await expect(group.getByTestId('group-input-port')).toHaveCount(1);
  await expect(group.getByTestId('group-output-port')).toHaveCount(1);

  await dragProcessor(page, 'GenerateFlowFile', 250, 80);
  await dragProcessor(page, 'LogAttribute', 700, 450);
  await page.getByTestId('toolbar-fit').click();
  await connect(page, processor(page, 'GenerateFlowFile'), group.getByTestId('group-input-port'));
  await page.getByTestId('relationship-create').click();
  await expect(page.getByTestId('connection-label')).toHaveCount(1);
  await connect(page, group.getByTestId('group-output-port'), processor(page, 'LogAttribute'));
  await expect(page.getByTestId('connection-label')).toHaveCount(2);

  const { rootGroup } = (await flowOf(page)).flow;
  const child = rootGroup.processGroups[0];
  const ends = rootGroup.connections.map((c) => [c.source.id, c.destination.id]);
  expect(ends).toContainEqual([rootGroup.processors.find(() => true)?.id, child?.inputPorts[0]?.id]);
  expect(ends.some(([source]) => source === child?.outputPorts[0]?.id)).toBe(true);

  // Deleting the group takes the connections to its ports along; undo brings back both.
  await group.locator('.node-head').click();
  await page.keyboard.press('Delete');
  await expect(group).toHaveCount(0);
  await expect(page.getByTestId('connection-label')).toHaveCount(0);
  await page.getByTestId('toolbar-undo').click();
  await expect(group).toHaveCount(1);
  await expect(page.getByTestId('connection-label')).toHaveCount(2);
});

test('save the selection as a snippet on the server, paste it from the palette, share it with a viewer', async ({
  page,
  browser,
  baseURL,
}) => {
  await login(page);
  await buildPair(page);
  await page.getByTestId('canvas').click({ position: { x: 900, y: 40 } });
  await page.keyboard.press('Control+a');
  await page.getByTestId('toolbar-snippet').click();
  const dialog = page.getByTestId('snippet-dialog');
  await dialog.getByTestId('snippet-name').fill('generate and log');
  await dialog.getByTestId('snippet-save').click();
  await expect(dialog).toBeHidden();
  // Saving under a name that exists asks before replacing it.
  await page.getByTestId('toolbar-snippet').click();
  await dialog.getByTestId('snippet-name').fill(' generate and log ');
  await dialog.getByTestId('snippet-save').click();
  await expect(dialog.getByTestId('snippet-error')).toContainText('already exists');
  await dialog.getByTestId('snippet-replace').click();
  await expect(dialog).toBeHidden();
  await page.keyboard.press('Delete');
  await expect(page.getByTestId('processor-node')).toHaveCount(0);
  // Kept on the server, not in this browser.
  expect(await page.evaluate(() => Object.keys(window.localStorage).filter((k) => k.startsWith('sluice.snippets')))).toEqual([]);

  // A viewer in another browser sees it (but may not delete it).
  const viewerContext = await browser.newContext({ baseURL });
  const viewer = await viewerContext.newPage();
  await login(viewer, 'viewer');
  await expect(viewer.getByTestId('open-snippets')).toHaveText('Snippets (1)');
  await viewer.getByTestId('open-snippets').click();
  const row = viewer.getByTestId('snippet-row-generate and log');
  await expect(row).toContainText('admin');
  await expect(row.locator('td').nth(1)).toHaveText('2');
  await expect(viewer.getByTestId('snippet-delete-generate and log')).toHaveCount(0);

  await page.reload();
  await expect(page.getByTestId('canvas')).toBeVisible();
  const snippet = page.getByTestId('snippet-generate and log');
  await expect(snippet).toHaveAttribute('title', '2 components');
  await snippet.dblclick();
  await expect(page.getByTestId('processor-node')).toHaveCount(2);
  await expect(page.getByTestId('connection-label')).toHaveCount(1);
  // Pasting is undoable like any other edit.
  await page.getByTestId('toolbar-undo').click();
  await expect(page.getByTestId('processor-node')).toHaveCount(0);
  await page.getByTestId('toolbar-redo').click();
  await expect(page.getByTestId('processor-node')).toHaveCount(2);
  await page.getByTestId('snippet-remove-generate and log').click();
  await expect(page.getByTestId('snippets-empty')).toBeVisible();
  // The viewer's list follows live.
  await expect(viewer.getByTestId('snippet-list-empty')).toBeVisible();
  await viewerContext.close();
});

test('snippets an earlier version kept in the browser move to the server once', async ({ page }) => {
  await login(page);
  const legacy = [
    {
      name: 'from the browser',
      savedAt: '2026-01-01T00:00:00.000Z',
      fragment: { processors: [{ id: 'old', name: 'Old log', type: 'LogAttribute', position: { x: 100, y: 100 } }] },
    },
  ];
  await page.evaluate((value) => window.localStorage.setItem('sluice.snippets:admin', value), JSON.stringify(legacy));
  await page.reload();
  await expect(page.getByTestId('snippet-from the browser')).toHaveAttribute('title', '1 components');
  await expect(page.getByTestId('message-info').filter({ hasText: 'Moved 1 snippet' })).toBeVisible();
  expect(await page.evaluate(() => window.localStorage.getItem('sluice.snippets:admin'))).toBeNull();
  const listed = await page.request.get('/api/v1/snippets');
  expect(((await listed.json()) as { snippets: { name: string }[] }).snippets.map((s) => s.name)).toEqual(['from the browser']);
  await page.getByTestId('snippet-from the browser').dblclick();
  await expect(processor(page, 'Old log')).toBeVisible();
});

test('expand the children of a CLONE event in the lineage graph', async ({ page, server }) => {
  // GenerateFlowFile -> three LogAttributes: one gets the FlowFile, the other two a clone each (a
  // CLONE event each).
  const sink = (id: string, y: number) => ({
    id,
    name: `Log ${id}`,
    type: 'LogAttribute',
    position: { x: 100 + y, y: 300 },
    autoTerminate: ['success'],
    state: 'RUNNING',
  });
  const file = `${server.dir}/clone-flow.json`;
  writeFileSync(
    file,
    JSON.stringify({
      sluiceFlow: 1,
      rootGroup: {
        id: 'root',
        name: 'Clones',
        processors: [
          {
            id: 'gen',
            name: 'Generate',
            type: 'GenerateFlowFile',
            position: { x: 300, y: 0 },
            scheduling: { period: '1 hour' },
            state: 'RUNNING',
          },
          sink('a', 0),
          sink('b', 300),
          sink('c', 600),
        ],
        connections: ['a', 'b', 'c'].map((id) => ({
          id: `to-${id}`,
          source: { id: 'gen' },
          destination: { id },
          relationships: ['success'],
        })),
      },
    }),
  );
  await login(page);
  await page.getByTestId('import-flow').click();
  await page.getByTestId('import-file').setInputFiles(file);
  await expect(page.getByTestId('import-result')).toBeVisible();
  await page.keyboard.press('Escape');
  // An import leaves processors stopped: start the whole group.
  await expect(page.getByTestId('processor-node')).toHaveCount(4);
  await page.getByTestId('toolbar-start').click();

  // A clone's uuid (from the CLONE event's children), then its lineage.
  let child = '';
  await expect
    .poll(async () => {
      const found = await page.request.get('/api/v1/provenance/events?eventType=CLONE');
      const { events } = (await found.json()) as { events: { eventId: number }[] };
      if (events[0] === undefined) return '';
      const event = (await (await page.request.get(`/api/v1/provenance/events/${events[0].eventId}`)).json()) as {
        childUuids: string[];
      };
      child = event.childUuids[0] ?? '';
      return child;
    })
    .not.toBe('');
  await page.getByTestId('open-provenance').click();
  const provenance = page.getByTestId('provenance-dialog');
  await provenance.getByTestId('provenance-uuid').fill(child);
  await provenance.getByTestId('provenance-search').click();
  await expect(provenance.getByTestId('provenance-row').first()).toBeVisible();
  await provenance.getByTestId('provenance-row').first().getByTestId('provenance-lineage').click();

  // The other clone (a sibling) shows as a FlowFile only; expanding the children of the CLONE events
  // adds its events.
  const lineage = page.getByTestId('lineage-dialog');
  const drops = lineage.locator('[data-testid="lineage-event"][data-event-type="DROP"]');
  const clones = lineage.locator('[data-testid="lineage-event"][data-event-type="CLONE"]');
  await expect(clones).toHaveCount(2);
  await expect(lineage.getByTestId('lineage-flowfile')).toHaveCount(3);
  await expect(drops).toHaveCount(2);
  const before = Number(await lineage.getByTestId('lineage-graph').getAttribute('data-nodes'));
  await clones.nth(0).dblclick();
  await clones.nth(1).dblclick();
  await expect(drops).toHaveCount(3);
  await expect
    .poll(async () => Number(await lineage.getByTestId('lineage-graph').getAttribute('data-nodes')))
    .toBeGreaterThan(before);
});

test('a Remote Process Group: add it from the palette, connect its ports, configure it, start and stop it', async ({ page }) => {
  await login(page);
  await dragProcessor(page, 'GenerateFlowFile', 250, 80);
  await dragProcessor(page, 'LogAttribute', 250, 520);

  // Added from the palette: the dialog asks for the URL first (nothing listens there: no transfer happens).
  await page.getByTestId('palette-remote-group').dragTo(page.getByTestId('canvas'), { targetPosition: { x: 700, y: 280 } });
  const dialog = page.getByTestId('remote-dialog');
  await expect(dialog.getByTestId('remote-save')).toBeDisabled();
  await dialog.getByTestId('remote-name').fill('Core');
  await dialog.getByTestId('remote-urls').fill('http://127.0.0.1:9/nifi');
  await dialog.getByTestId('remote-token').fill('core-token-e2e');
  await dialog.getByTestId('remote-input-new').fill('from-edge');
  await dialog.getByTestId('remote-input-add').click();
  await dialog.getByTestId('remote-output-new').fill('to-edge');
  await dialog.getByTestId('remote-output-add').click();
  await dialog.getByTestId('remote-save').click();
  await expect(dialog).toBeHidden();
  const remote = page.locator('[data-testid="remote-node"][data-name="Core"]');
  const input = remote.getByTestId('remote-input-port');
  const output = remote.getByTestId('remote-output-port');
  await expect(input).toHaveAttribute('data-state', 'STOPPED');
  await expect(output).toHaveAttribute('data-name', 'to-edge');

  // Its ports connect like any other component's.
  await page.getByTestId('toolbar-fit').click();
  await connect(page, processor(page, 'GenerateFlowFile'), input);
  await page.getByTestId('relationship-create').click();
  await expect(page.getByTestId('connection-label')).toHaveCount(1);
  await connect(page, output, processor(page, 'LogAttribute'));
  await expect(page.getByTestId('connection-label')).toHaveCount(2);
  let { rootGroup } = (await flowOf(page)).flow;
  const stored = () => (rootGroup as unknown as { remoteProcessGroups: RemoteDoc[] }).remoteProcessGroups[0];
  type RemoteDoc = {
    accessToken?: string;
    sslContextService?: string;
    communicationsTimeout: string;
    inputPorts: { id: string; useCompression: boolean; batchCount: number }[];
    outputPorts: { id: string }[];
  };
  const ends = rootGroup.connections.map((c) => [c.source.id, c.destination.id]);
  expect(ends.some(([, destination]) => destination === stored()?.inputPorts[0]?.id)).toBe(true);
  expect(ends.some(([source]) => source === stored()?.outputPorts[0]?.id)).toBe(true);
  expect(stored()?.accessToken).toBe('{sensitive value set}');

  // Configure: timeout and per-port settings; the token stays masked; undo takes the change back.
  await remote.locator('.node-head').dblclick();
  await expect(dialog.getByTestId('remote-token')).toHaveValue('');
  await expect(dialog.getByTestId('remote-token')).toHaveAttribute('placeholder', 'Sensitive value set');
  await dialog.getByTestId('remote-timeout').fill('5 sec');
  // For https with mutual TLS: an SSL context service, created from the picker (the services panel
  // opens over the dialog to configure it; closing it comes back here with the new service chosen).
  await dialog.getByTestId('remote-ssl-context').selectOption('new:StandardSSLContextService');
  await expect(page.getByTestId('services-dialog')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('services-dialog')).toBeHidden();
  await expect(dialog.getByTestId('remote-ssl-context')).not.toHaveValue('');
  const row = dialog.getByTestId('remote-input-ports').getByTestId('remote-port-row');
  await row.getByTestId('remote-port-compression').check();
  await row.getByTestId('remote-port-batch-count').fill('50');
  await dialog.getByTestId('remote-save').click();
  await expect(dialog).toBeHidden();
  await expect
    .poll(
      async () =>
        ((await flowOf(page)).flow.rootGroup as unknown as { remoteProcessGroups: RemoteDoc[] }).remoteProcessGroups[0]
          ?.inputPorts[0],
    )
    .toMatchObject({ useCompression: true, batchCount: 50 });
  rootGroup = (await flowOf(page)).flow.rootGroup;
  expect(stored()?.communicationsTimeout).toBe('5 sec');
  expect(stored()?.accessToken).toBe('{sensitive value set}');
  const services = (rootGroup as unknown as { controllerServices: { id: string; type: string }[] }).controllerServices;
  const tls = services.find((service) => service.type === 'StandardSSLContextService');
  expect(tls).toBeDefined();
  expect(stored()?.sslContextService).toBe(tls?.id);
  await page.getByTestId('toolbar-undo').click();
  await expect
    .poll(
      async () =>
        ((await flowOf(page)).flow.rootGroup as unknown as { remoteProcessGroups: RemoteDoc[] }).remoteProcessGroups[0]
          ?.inputPorts[0]?.useCompression,
    )
    .toBe(false);
  rootGroup = (await flowOf(page)).flow.rootGroup;
  expect(stored()?.sslContextService).toBeUndefined();

  // Start and stop it (its ports) from the toolbar; each port shows its run state.
  await remote.locator('.node-head').click();
  await page.getByTestId('toolbar-start').click();
  await expect(input).toHaveAttribute('data-state', 'RUNNING');
  await expect(output).toHaveAttribute('data-state', 'RUNNING');
  await page.getByTestId('toolbar-stop').click();
  await expect(input).toHaveAttribute('data-state', 'STOPPED');
  await expect(output).toHaveAttribute('data-state', 'STOPPED');

  // Deleting it takes its connections along; undo brings back both.
  await page.keyboard.press('Delete');
  await expect(remote).toHaveCount(0);
  await expect(page.getByTestId('connection-label')).toHaveCount(0);
  await page.getByTestId('toolbar-undo').click();
  await expect(remote).toHaveCount(1);
  await expect(page.getByTestId('connection-label')).toHaveCount(2);
});
