/**
 * The dashboard of a multi-scope server (`serve --data`): the scope picker,
 * a scope's files under /v1/scopes/<scope>/, and back to the picker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { runCli } from '../cli/helpers.js';
import { browserUnavailable, ensureBuilt, http, launchBrowser, screenshot, startServer, type Served } from './harness.js';

const skip = await browserUnavailable();

describe.skipIf(skip !== undefined)('dashboard of a multi-scope server (browser)', () => {
  let served: Served;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;

  beforeAll(async () => {
    await ensureBuilt();
    served = await startServer({ multi: true });
    ({ browser, close: closeBrowser } = await launchBrowser());
    expect((await http(served, 'PUT', '/v1/scopes/alice/v1/files/alice-notes.md', 'for alice\n')).status).toBe(200);
    expect((await http(served, 'PUT', '/v1/scopes/user%2Fbob/v1/files/bob-plan.md', 'for bob\n')).status).toBe(200);
  }, 90_000);
  afterAll(async () => {
    await closeBrowser?.();
    await served?.stop();
  });

  it('lists the scopes, opens one, and switches to another', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await signInToPicker(context, served.url, served.token);
    expect(await page.locator('.scopes li').allTextContents()).toEqual(['alice', 'user/bob']);
    await screenshot(page, 'scope-picker');
    await page.getByRole('button', { name: 'user/bob' }).click();
    await page.getByRole('link', { name: 'bob-plan.md' }).click();
    await expect.poll(() => page.locator('pre.code').textContent()).toContain('for bob');
    expect(await page.getByRole('link', { name: 'alice-notes.md' }).count()).toBe(0);
    expect(await page.locator('.scope-name').textContent()).toBe('user/bob');
    // A reload keeps the scope (this tab's sessionStorage).
    await page.reload();
    await page.getByRole('link', { name: 'bob-plan.md' }).waitFor();
    await page.getByRole('button', { name: 'Scopes' }).click();
    await page.getByRole('button', { name: 'alice' }).click();
    await page.getByRole('link', { name: 'alice-notes.md' }).waitFor();
    expect(await page.content()).not.toContain(served.token);
    await context.close();
  });

  it('shows a token only the scopes it names', async () => {
    const created = await runCli(['token', 'create', '--data', served.root, '--name', 'alice-only', '--for-scope', 'alice', '--read', '/', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { token } = JSON.parse(created.stdout.toString()) as { token: string };
    const context = await browser.newContext();
    const page = await signInToPicker(context, served.url, token);
    expect(await page.locator('.scopes li').allTextContents()).toEqual(['alice']);
    await page.getByRole('button', { name: 'alice' }).click();
    await page.getByRole('link', { name: 'alice-notes.md' }).waitFor();
    expect(await page.locator('.actor').textContent()).toContain('limited');
    await context.close();
  });
});

async function signInToPicker(context: BrowserContext, url: string, token: string) {
  const page = await context.newPage();
  await page.goto(url);
  await page.getByLabel('Token').fill(token);
  await page.getByLabel('Token').press('Enter');
  await page.getByRole('heading', { name: 'Choose a scope' }).waitFor();
  return page;
}
