import { dragBy, dragProcessor, expect, login, processor, test } from './fixtures.ts';

test('switch to Korean, and it stays after a reload', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('language-switch').selectOption('ko');
  await expect(page.getByTestId('login-submit')).toHaveText('로그인');
  await page.getByTestId('login-username').fill('admin');
  await page.getByTestId('login-password').fill('wrong-password-123');
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('login-error')).toContainText('로그인 실패');
  await login(page);
  await expect(page.getByTestId('logout')).toHaveText('로그아웃');
  await expect(page.getByTestId('palette')).toContainText('프로세서 추가');
  await expect(page.getByTestId('toolbar-start')).toContainText('모두 시작');
  await page.reload();
  await expect(page.getByTestId('logout')).toHaveText('로그아웃');
  await page.getByTestId('language-switch').selectOption('en');
  await expect(page.getByTestId('logout')).toHaveText('Log out');
});

test('a viewer sees the flow, live, but cannot edit it', async ({ page, browser, baseURL }) => {
  // The admin edits in one browser context; the viewer watches in another.
  const adminContext = await browser.newContext({ baseURL });
  const admin = await adminContext.newPage();
  await login(admin, 'admin');
  await dragProcessor(admin, 'GenerateFlowFile', 250, 100);

  await login(page, 'viewer');
  await expect(page.getByTestId('header-user')).toHaveAttribute('data-role', 'viewer');
  const node = processor(page, 'GenerateFlowFile');
  await expect(node).toBeVisible();
  await expect(page.getByTestId('read-only')).toBeVisible();
  for (const id of ['palette', 'toolbar-start', 'toolbar-stop', 'toolbar-delete', 'toolbar-undo', 'import-flow']) {
    await expect(page.getByTestId(id)).toHaveCount(0);
  }
  // The configure dialog is read only.
  await node.dblclick();
  const dialog = page.getByTestId('configure-dialog');
  await expect(dialog.getByTestId('property-input-customText')).toBeDisabled();
  await expect(dialog.getByTestId('configure-save')).toHaveCount(0);
  await page.keyboard.press('Escape');
  // Delete does nothing; dragging pans the view but does not move the processor.
  await node.click();
  await page.keyboard.press('Delete');
  const wrapper = page.locator('.react-flow__node', { has: node });
  const before = await wrapper.evaluate((e) => (e instanceof HTMLElement ? e.style.transform : ''));
  await dragBy(page, node, 240);
  await expect(node).toHaveCount(1);
  expect(await wrapper.evaluate((e) => (e instanceof HTMLElement ? e.style.transform : ''))).toBe(before);

  // A change by the admin shows up for the viewer without a reload.
  await dragProcessor(admin, 'LogAttribute', 250, 400);
  await expect(processor(page, 'LogAttribute')).toBeVisible();
  await adminContext.close();
});

test('an operator may start and stop but not edit', async ({ page }) => {
  await login(page, 'operator');
  await expect(page.getByTestId('toolbar-start')).toBeVisible();
  await expect(page.getByTestId('toolbar-stop')).toBeVisible();
  await expect(page.getByTestId('palette')).toHaveCount(0);
  await expect(page.getByTestId('toolbar-delete')).toHaveCount(0);
  // Operators (everyone) may read the system diagnostics.
  await page.getByTestId('open-diagnostics').click();
  await expect(page.getByTestId('diagnostics-table')).toContainText('Node.js');
  await page.keyboard.press('Escape');
  await page.getByTestId('logout').click();
  await expect(page.getByTestId('login-form')).toBeVisible();
});
