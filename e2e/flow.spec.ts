import { readdirSync } from 'node:fs';
import { connect, docScreenshot, dragProcessor, expect, login, processor, test } from './fixtures.ts';

// The main story, one step after another on one server: build GenerateFlowFile -> UpdateAttribute ->
// PutFile by drag and drop, configure (invalid then valid), start, watch counts, stop the sink and
// watch back pressure, list the queue and open a FlowFile, then follow a written FlowFile's lineage
// and replay it.
test('build, configure, run, back-pressure, queue, lineage and replay', async ({ page, server }) => {
  await login(page);

  // ---- build by drag and drop ----
  await dragProcessor(page, 'GenerateFlowFile', 200, 80);
  await dragProcessor(page, 'UpdateAttribute', 200, 330);
  await dragProcessor(page, 'PutFile', 200, 580);
  const generate = processor(page, 'GenerateFlowFile');
  const update = processor(page, 'UpdateAttribute');
  const put = processor(page, 'PutFile');

  await connect(page, generate, update);
  await expect(page.getByTestId('relationship-picker')).toBeVisible();
  // One relationship: picked already.
  await expect(page.getByTestId('pick-relationship-success')).toBeChecked();
  await page.getByTestId('relationship-create').click();
  await expect(page.getByTestId('connection-label')).toHaveCount(1);

  await connect(page, update, put);
  await page.getByTestId('relationship-create').click();
  await expect(page.getByTestId('connection-label')).toHaveCount(2);

  // ---- configure the source: fast schedule, JSON content ----
  await generate.dblclick();
  const dialog = page.getByTestId('configure-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('property-input-customText').fill('{"n":${nextInt()},"site":"e2e"}');
  await dialog.getByTestId('property-input-mimeType').fill('application/json');
  await dialog.getByTestId('tab-scheduling').click();
  await dialog.getByTestId('scheduling-period').fill('200 ms');
  await dialog.getByTestId('configure-save').click();
  await expect(dialog).toBeHidden();

  // ---- UpdateAttribute: a dynamic property ----
  await update.dblclick();
  await dialog.getByTestId('dynamic-name').fill('filename');
  await dialog.getByTestId('dynamic-value').fill('${uuid}.json');
  await dialog.getByTestId('dynamic-add').click();
  await expect(dialog.getByTestId('property-input-filename')).toHaveValue('${uuid}.json');
  await dialog.getByTestId('configure-save').click();
  await expect(dialog).toBeHidden();

  // ---- PutFile: an invalid Expression Language value first, then a valid directory ----
  await put.dblclick();
  const directory = dialog.getByTestId('property-input-directory');
  await directory.fill('${literal("out"):toUpper(}');
  const error = dialog.getByTestId('property-error-directory');
  await expect(error).toBeVisible();
  await expect(error).toContainText('position');
  await expect(dialog.getByTestId('el-excerpt').locator('mark')).toBeVisible();
  await expect(dialog.getByTestId('configure-save')).toBeDisabled();
  await docScreenshot(page, 'editor-configure.png', dialog);
  await directory.fill(server.outDir);
  await expect(error).toBeHidden();
  await dialog.getByTestId('tab-relationships').click();
  await dialog.getByTestId('autoterminate-success').check();
  await dialog.getByTestId('autoterminate-failure').check();
  await dialog.getByTestId('configure-save').click();
  await expect(dialog).toBeHidden();

  // Every processor valid now (status pushes say so).
  for (const node of [generate, update, put]) await expect(node).toHaveAttribute('data-state', 'STOPPED');

  // ---- start everything (nothing selected: the whole group), watch counts rise ----
  await page.getByTestId('canvas').click({ position: { x: 1000, y: 40 } });
  await page.getByTestId('toolbar-start').click();
  for (const node of [generate, update, put]) await expect(node).toHaveAttribute('data-state', 'RUNNING');
  await expect
    .poll(async () => Number(await put.getByTestId('stat-in').getAttribute('data-count')), { timeout: 20_000 })
    .toBeGreaterThan(2);
  await expect.poll(() => readdirSync(server.outDir).filter((f) => f.endsWith('.json')).length).toBeGreaterThan(0);

  // ---- back pressure: a small threshold, stop the sink, the bar fills and the source waits ----
  const secondLabel = page.locator('[data-testid="connection-label"]').nth(1);
  const firstLabel = page.locator('[data-testid="connection-label"]').nth(0);
  await firstLabel.dblclick();
  const connDialog = page.getByTestId('connection-dialog');
  await connDialog.getByTestId('connection-object-threshold').fill('5');
  await connDialog.getByTestId('connection-save').click();
  await expect(connDialog).toBeHidden();
  // Stop UpdateAttribute (the sink of the first queue): its input queue fills up to the threshold.
  await update.click();
  await page.getByTestId('toolbar-stop').click();
  await expect(update).toHaveAttribute('data-state', 'STOPPED');
  await expect(firstLabel.getByTestId('fill-count')).toHaveAttribute('data-level', 'red', { timeout: 20_000 });
  await expect(firstLabel).toHaveAttribute('data-queued', '5');
  // The source is not triggered while its queue is full: its output stays put.
  const outBefore = Number(await generate.getByTestId('stat-out').getAttribute('data-count'));
  await page.waitForTimeout(2500);
  await expect(firstLabel).toHaveAttribute('data-queued', '5');
  expect(Number(await generate.getByTestId('stat-out').getAttribute('data-count'))).toBe(outBefore);
  await expect(secondLabel).toBeVisible();
  await page.getByTestId('toolbar-fit').click();
  await docScreenshot(page, 'editor-canvas.png');

  // ---- list the queue and open a FlowFile's content ----
  await firstLabel.dblclick();
  await connDialog.getByTestId('list-queue').click();
  const queue = page.getByTestId('queue-dialog');
  await expect(queue.getByTestId('queue-total')).toHaveAttribute('data-count', '5');
  await expect(queue.getByTestId('queue-row')).toHaveCount(5);
  await queue.getByTestId('queue-row').first().click();
  const flowFile = page.getByTestId('flowfile-dialog');
  await expect(flowFile.getByTestId('attribute-mime.type')).toContainText('application/json');
  await flowFile.getByTestId('tab-content').click();
  await expect(flowFile.getByTestId('content-text')).toContainText('"site": "e2e"'); // pretty JSON
  await flowFile.getByTestId('content-mode-hex').click();
  await expect(flowFile.getByTestId('content-text')).toContainText('00000000  7b');
  await expect(flowFile.getByTestId('content-download')).toHaveAttribute('href', /disposition=attachment/);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await expect(page.locator('.overlay')).toHaveCount(0);

  // ---- lineage of a written FlowFile, and replay it ----
  const written = readdirSync(server.outDir).filter((f) => f.endsWith('.json'));
  const uuid = written[0]?.replace(/\.json$/, '') ?? '';
  expect(uuid).not.toBe('');
  await page.getByTestId('open-provenance').click();
  const provenance = page.getByTestId('provenance-dialog');
  await provenance.getByTestId('provenance-uuid').fill(uuid);
  await provenance.getByTestId('provenance-search').click();
  const sendRow = provenance.locator('[data-testid="provenance-row"][data-event-type="SEND"]');
  await expect(sendRow).toHaveCount(1);
  await sendRow.getByTestId('provenance-lineage').click();
  const lineage = page.getByTestId('lineage-dialog');
  await expect(lineage.locator('[data-testid="lineage-event"][data-event-type="CREATE"]')).toBeVisible();
  await expect(lineage.locator('[data-testid="lineage-event"][data-event-type="SEND"]')).toBeVisible();
  await docScreenshot(page, 'editor-lineage.png', lineage);
  await lineage.locator('[data-testid="lineage-event"][data-event-type="SEND"]').click();
  const event = page.getByTestId('event-dialog');
  await event.getByTestId('tab-attributes').click();
  await expect(event.getByTestId('attribute-filename')).toContainText(`${uuid}.json`);
  await event.getByTestId('tab-input').click();
  await expect(event.getByTestId('content-text')).toContainText('"site": "e2e"');
  await event.getByTestId('event-replay').click();
  await expect(page.getByTestId('message-info').filter({ hasText: /Replayed|queued again/ })).toBeVisible();
  await expect(event.getByTestId('event-error')).toHaveCount(0);
  // The replay is in provenance: a REPLAY event naming the written FlowFile as its parent.
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await expect(lineage).toBeHidden();
  await provenance.getByTestId('provenance-search').click();
  await expect(provenance.locator('[data-testid="provenance-row"][data-event-type="REPLAY"]')).toHaveCount(1);
});
