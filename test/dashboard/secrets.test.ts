/**
 * The dashboard never shows a secret: with a PostgreSQL store whose URL
 * carries a password, no view's page text or DOM holds that password or
 * the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { browserUnavailable, ensureBuilt, http, launchBrowser, screenshot, signIn, startServer, type Served } from './harness.js';

const skip = await browserUnavailable();
const PASSWORD = 'dashboard-store-s3cret';

describePostgres('dashboard secrets (browser, PostgreSQL store)', () => {
  const db = useTestDatabase('dashboard');
  let served: Served;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;

  beforeAll(async () => {
    if (skip !== undefined) return;
    await ensureBuilt();
    const url = new URL(db.url);
    url.password = PASSWORD; // the test server trusts loopback: the password is carried, never checked
    served = await startServer({ args: ['--store', url.toString()] });
    ({ browser, close: closeBrowser } = await launchBrowser());
    await http(served, 'PUT', '/v1/files/a.md', 'a\n');
  }, 90_000);
  afterAll(async () => {
    await closeBrowser?.();
    await served?.stop();
  });

  it.skipIf(skip !== undefined)('no view shows the store password or the token', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await signIn(context, served.url, served.token);
    const ids = await page.locator('.bar nav a').evaluateAll((links) => links.map((link) => link.getAttribute('href')!));
    expect(ids.length).toBeGreaterThanOrEqual(3);
    for (const href of ids) {
      await page.goto(`${served.url}/${href}`);
      await page.locator('#view > *').first().waitFor();
      // Whatever the view loads is on screen once it says Loading no more (the event stream never goes idle).
      await expect.poll(() => page.locator('#view', { hasText: /Loading/ }).count()).toBe(0);
      const html = await page.content();
      expect(html, href).not.toContain(PASSWORD);
      expect(html, href).not.toContain(served.token);
      await screenshot(page, `secrets-${href.replace(/[^a-z]+/g, '')}`);
    }
    await context.close();
  });
});
