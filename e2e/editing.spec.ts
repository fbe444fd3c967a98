import { readFileSync } from 'node:fs';
import { buildPair, dragBy, dragProcessor, expect, login, processor, test } from './fixtures.ts';

test('undo and redo: connect, move, delete', async ({ page }) => {
  await login(page);
  const { sink } = await buildPair(page);
  const labels = page.getByTestId('connection-label');

  // The status history of the processor (sampled each minute: a fresh server has none or one).
  await sink.click();
  await page.getByTestId('toolbar-history').click();
  await expect(page.getByTestId('history-dialog')).toContainText(/No samples yet|samples, one a minute/);
  await page.keyboard.press('Escape');

  // Undo the connection, redo it.
  await page.getByTestId('toolbar-undo').click();
  await expect(labels).toHaveCount(0);
  await page.getByTestId('toolbar-redo').click();
  await expect(labels).toHaveCount(1);

  // Move a processor by dragging it; undo puts it back (keyboard shortcut), redo moves it again.
  const before = await dragBy(page, sink, 200);
  await expect.poll(async () => Math.round((await sink.boundingBox())?.x ?? 0)).toBeGreaterThan(Math.round(before.x) + 150);
  await page.keyboard.press('Control+z');
  await expect.poll(async () => Math.round((await sink.boundingBox())?.x ?? 0)).toBe(Math.round(before.x));
  await page.keyboard.press('Control+Shift+z');
  await expect.poll(async () => Math.round((await sink.boundingBox())?.x ?? 0)).toBeGreaterThan(Math.round(before.x) + 150);

  // Delete a processor (its connection goes with it); undo brings both back.
  await sink.click();
  await page.keyboard.press('Delete');
  await expect(sink).toHaveCount(0);
  await expect(labels).toHaveCount(0);
  await page.getByTestId('toolbar-undo').click();
  await expect(sink).toHaveCount(1);
  await expect(labels).toHaveCount(1);
  // ... and redo deletes them again.
  await page.getByTestId('toolbar-redo').click();
  await expect(sink).toHaveCount(0);
  await expect(labels).toHaveCount(0);
});

test('export the flow and import it again', async ({ page, server }) => {
  await login(page);
  await buildPair(page);

  const download = page.waitForEvent('download');
  await page.getByTestId('export-flow').click();
  const file = `${server.dir}/exported.json`;
  await (await download).saveAs(file);
  const document: unknown = JSON.parse(readFileSync(file, 'utf8'));
  expect(document).toMatchObject({
    sluiceFlow: 1,
    rootGroup: { processors: [{ type: 'GenerateFlowFile' }, { type: 'LogAttribute' }] },
  });

  // Clear the canvas, then import the file (replace).
  await page.getByTestId('canvas').click({ position: { x: 900, y: 40 } });
  await page.keyboard.press('Control+a');
  await page.keyboard.press('Delete');
  await expect(page.getByTestId('processor-node')).toHaveCount(0);

  await page.getByTestId('import-flow').click();
  const dialog = page.getByTestId('import-dialog');
  await dialog.getByTestId('import-file').setInputFiles(file);
  await expect(dialog.getByTestId('import-result')).toContainText('2');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('processor-node')).toHaveCount(2);
  await expect(page.getByTestId('connection-label')).toHaveCount(1);

  // A file that is not a flow gets a clear error, and the flow stays.
  const bad = `${server.dir}/bad.json`;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(bad, '{"not":"a flow"}');
  await page.getByTestId('import-flow').click();
  await dialog.getByTestId('import-file').setInputFiles(bad);
  await expect(dialog.getByTestId('import-error')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('processor-node')).toHaveCount(2);
});

test('group a selection, enter the group and leave it by the breadcrumbs', async ({ page }) => {
  await login(page);
  await buildPair(page);

  // Select both (Ctrl+A), move them into a new group.
  await page.getByTestId('canvas').click({ position: { x: 900, y: 40 } });
  await page.keyboard.press('Control+a');
  await page.getByTestId('toolbar-group').click();
  const group = page.getByTestId('group-node');
  await expect(group).toHaveCount(1);
  await expect(page.getByTestId('processor-node')).toHaveCount(0);

  // Enter it: the processors and their connection are inside; the breadcrumbs say where we are.
  await group.dblclick();
  await expect(page.getByTestId('processor-node')).toHaveCount(2);
  await expect(page.getByTestId('connection-label')).toHaveCount(1);
  await expect(page.getByTestId('breadcrumbs')).toContainText('E2E flow');
  await expect(page.getByTestId('breadcrumbs')).toContainText('New group');
  await page.getByTestId('breadcrumb-root').click();
  await expect(page.getByTestId('group-node')).toHaveCount(1);

  // Undo the grouping: the processors are back on the root canvas.
  await page.getByTestId('toolbar-undo').click();
  await expect(page.getByTestId('group-node')).toHaveCount(0);
  await expect(page.getByTestId('processor-node')).toHaveCount(2);
});

test('pick a controller service, create it from the picker, configure and enable it', async ({ page }) => {
  await login(page);
  await dragProcessor(page, 'ConvertRecord', 250, 150);
  await processor(page, 'ConvertRecord').dblclick();
  const dialog = page.getByTestId('configure-dialog');
  await expect(dialog.getByTestId('property-error-recordReader')).toBeVisible();
  // "Create new JsonTreeReader…": the service is created in this group and the services panel opens.
  await dialog.getByTestId('property-input-recordReader').selectOption({ label: 'Create new JsonTreeReader…' });
  const services = page.getByTestId('services-dialog');
  const row = services.locator('[data-testid="service-row"][data-name="JsonTreeReader"]');
  await expect(row).toHaveAttribute('data-state', 'DISABLED');
  await row.getByTestId('service-configure').click();
  const serviceDialog = page.getByTestId('service-dialog');
  await serviceDialog.getByTestId('property-input-schemaSampleSize').fill('0');
  await expect(serviceDialog.getByTestId('property-error-schemaSampleSize')).toBeVisible();
  await serviceDialog.getByTestId('property-input-schemaSampleSize').fill('50');
  await serviceDialog.getByTestId('service-save').click();
  await expect(serviceDialog).toBeHidden();
  await row.getByTestId('service-toggle').click();
  await expect(row).toHaveAttribute('data-state', 'ENABLED');
  await page.keyboard.press('Escape');
  // Back in the processor's dialog, the new service is the chosen reader.
  await expect(dialog.getByTestId('property-error-recordReader')).toBeHidden();
  await expect(dialog.getByTestId('property-input-recordReader').locator('option:checked')).toContainText('JsonTreeReader');
});
