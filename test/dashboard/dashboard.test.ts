/**
 * The dashboard in a real chromium against a real `scopefs serve`: sign-in,
 * browsing, editing with If-Match (a concurrent write leads to the stale-save
 * flow, never an overwrite), live events, limited tokens, first render.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { runCli } from '../cli/helpers.js';
import { browserUnavailable, ensureBuilt, http, launchBrowser, readDisk, screenshot, signIn, startServer, type Served } from './harness.js';

const skip = await browserUnavailable();
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe.skipIf(skip !== undefined)('dashboard (browser)', () => {
  let served: Served;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let context: BrowserContext;

  beforeAll(async () => {
    await ensureBuilt();
    served = await startServer();
    ({ browser, close: closeBrowser } = await launchBrowser());
    await http(served, 'PUT', '/v1/files/notes/todo.md', '# Todo\n- one\n- two\n- three\n');
    await http(served, 'PUT', '/v1/files/docs/config.json', '{"name":"demo","tags":["a","b"]}', { 'content-type': 'application/json' });
    await http(served, 'PUT', '/v1/files/docs/dot.png', Buffer.from(PNG_1X1, 'base64') as unknown as string, { 'content-type': 'image/png' });
    await http(served, 'PUT', '/v1/files/docs/blob.bin', '\u0000\u0001\u0002binary', { 'content-type': 'application/octet-stream' });
  }, 90_000);
  afterAll(async () => {
    await closeBrowser?.();
    await served?.stop();
  });
  const freshContext = async (viewport = { width: 1280, height: 800 }) => {
    await context?.close();
    context = await browser.newContext({ viewport });
    return context;
  };

  it('refuses a wrong token with a clear message', async () => {
    const page = await (await freshContext()).newPage();
    await page.goto(served.url);
    await page.getByLabel('Token').fill('not-the-token-at-all-0000');
    await page.getByLabel('Token').press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('refused');
    expect(await page.locator('.bar nav').count()).toBe(0);
    await screenshot(page, 'signin-refused');
  });

  it('signs in, browses the tree and shows text, JSON, image and binary files; the token is never in the page', async () => {
    const page = await signIn(await freshContext(), served.url, served.token);
    await page.getByRole('link', { name: 'todo.md' }).click();
    await expect.poll(() => page.locator('pre.code .ln').count()).toBe(4);
    expect(await page.locator('.file .toolbar .hint').textContent()).toContain('revision');
    await screenshot(page, 'files-text');
    await page.getByRole('link', { name: 'config.json' }).click();
    await expect.poll(() => page.locator('pre.code').textContent()).toContain('"name": "demo"');
    await page.getByRole('link', { name: 'dot.png' }).click();
    // The image is shown from a blob: URL, which the page's CSP allows (and nothing else outside).
    await expect.poll(() => page.evaluate<number>("document.querySelector('img.image')?.naturalWidth ?? 0")).toBe(1);
    await page.getByRole('link', { name: 'blob.bin' }).click();
    await expect.poll(() => page.locator('.file').textContent()).toContain('Binary file');
    await page.getByRole('link', { name: 'Download' }).waitFor();
    expect(page.url()).toContain('#/files/docs/blob.bin');
    const html = await page.content();
    expect(html).not.toContain('Loading the scopefs dashboard'); // the shell replaced the page's placeholder
    expect(html).not.toContain(served.token);
    expect(await page.evaluate<string>('JSON.stringify(localStorage)')).not.toContain(served.token);
    expect(page.url()).not.toContain(served.token);
  });

  it('edits a file and saves it with If-Match', async () => {
    const page = await signIn(await freshContext(), served.url, served.token);
    await page.goto(`${served.url}/#/files/notes/todo.md`);
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('File content').fill('# Todo\n- one\n- two (edited)\n- three\n');
    // Another file and back: the unsaved edit is still there.
    await page.getByRole('link', { name: 'config.json' }).click();
    await page.locator('pre.code').waitFor();
    await page.getByRole('link', { name: 'todo.md' }).click();
    await expect.poll(() => page.getByLabel('File content').inputValue()).toBe('# Todo\n- one\n- two (edited)\n- three\n');
    await page.getByLabel('File content').press('Control+s');
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Saved as revision');
    await http(served, 'POST', '/v1/flush');
    expect(await readDisk(served, 'notes/todo.md')).toBe('# Todo\n- one\n- two (edited)\n- three\n');
  });

  it('a concurrent write from another client makes the save stale, not an overwrite, and offers a merge', async () => {
    await http(served, 'PUT', '/v1/files/notes/shared.md', 'alpha\nbeta\ngamma\n');
    const page = await signIn(await freshContext(), served.url, served.token);
    await page.goto(`${served.url}/#/files/notes/shared.md`);
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('File content').fill('ALPHA (browser)\nbeta\ngamma\n');
    const other = await http(served, 'PUT', '/v1/files/notes/shared.md', 'alpha\nbeta\ngamma (other client)\n');
    expect(other.status).toBe(200);
    await page.getByRole('button', { name: 'Save' }).click();
    const stale = page.locator('.stale');
    await expect.poll(() => stale.textContent()).toContain('Not saved');
    expect(await stale.textContent()).toContain('gamma (other client)');
    await http(served, 'POST', '/v1/flush');
    expect(await readDisk(served, 'notes/shared.md')).toBe('alpha\nbeta\ngamma (other client)\n');
    await screenshot(page, 'files-stale-save');
    await page.getByRole('button', { name: /Merge my changes/ }).click();
    await expect.poll(() => page.getByLabel('File content').inputValue()).toBe('ALPHA (browser)\nbeta\ngamma (other client)\n');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Saved as revision');
    await http(served, 'POST', '/v1/flush');
    expect(await readDisk(served, 'notes/shared.md')).toBe('ALPHA (browser)\nbeta\ngamma (other client)\n');
  });

  it('shows live events without a reload: the tree and the activity view', async () => {
    const page = await signIn(await freshContext(), served.url, served.token);
    await page.locator('.live.on').waitFor();
    await http(served, 'PUT', '/v1/files/notes/live.md', 'appeared\n');
    await page.getByRole('link', { name: 'live.md' }).waitFor();
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.locator('.live.on').waitFor();
    await http(served, 'PUT', '/v1/files/notes/live.md', 'again\n');
    const updated = page.locator('tr.event', { hasText: 'file_updated' });
    await expect.poll(() => updated.first().textContent()).toContain('/notes/live.md');
    expect(await updated.first().textContent()).toContain('local');
    expect(await updated.first().textContent()).toContain('owner'); // the actor
    await page.getByLabel('Filter by path').fill('nothing-matches');
    await expect.poll(() => page.locator('tr.event').count()).toBe(0);
    await page.getByLabel('Filter by path').fill('live');
    await screenshot(page, 'activity');
    await page.getByRole('link', { name: 'Audit' }).click();
    await expect.poll(() => page.locator('table.grid').textContent()).toContain('/notes/live.md');
    await screenshot(page, 'audit');
  });

  it('a limited token sees only what its grant allows: no edit outside write, no delete without delete', async () => {
    const created = await runCli(['token', 'create', '--root', served.root, '--name', 'reader', '--read', '/docs', '--write', '/notes', '--no-delete', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { token } = JSON.parse(created.stdout.toString()) as { token: string };
    const page = await signIn(await freshContext(), served.url, token);
    expect(await page.locator('.actor').textContent()).toContain('limited');
    expect(await page.getByRole('link', { name: 'Audit' }).count()).toBe(0);
    await page.goto(`${served.url}/#/files/docs/config.json`);
    await expect.poll(() => page.locator('pre.code').textContent()).toContain('demo');
    expect(await page.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    await page.goto(`${served.url}/#/files/notes/todo.md`);
    await page.getByRole('button', { name: 'Edit' }).waitFor();
    expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    expect(await page.content()).not.toContain(token);
    // Revoked while the page is open: the server ends its stream, the reconnect is refused, the page says so.
    await page.locator('.live.on').waitFor();
    const revoked = await runCli(['token', 'revoke', 'reader', '--root', served.root]);
    expect(revoked.code, revoked.stderr).toBe(0);
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 15_000 }).toContain('no longer accepted');
  });

  it('creates, renames and deletes a file', async () => {
    const page = await signIn(await freshContext(), served.url, served.token);
    await page.getByRole('button', { name: 'New file' }).click();
    await page.getByLabel('New file path').fill('/notes/new.md');
    await page.getByLabel('New file path').press('Enter');
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('File content').fill('fresh\n');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Saved');
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New path').fill('/notes/renamed.md');
    await page.getByLabel('New path').press('Enter');
    await page.getByRole('link', { name: 'renamed.md' }).waitFor();
    expect(await page.getByRole('link', { name: 'new.md', exact: true }).count()).toBe(0);
    expect(await (await http(served, 'GET', '/v1/files/notes/renamed.md')).text()).toBe('fresh\n');
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.getByRole('link', { name: 'renamed.md' }).count()).toBe(0);
    expect((await http(served, 'GET', '/v1/files/notes/renamed.md')).status).toBe(404);
  });

  it('is usable by keyboard: Enter signs in, Escape closes a dialog', async () => {
    const page = await (await freshContext()).newPage();
    await page.goto(served.url);
    // The token field takes the focus by itself once the page has rendered.
    await expect.poll(() => page.evaluate<string | undefined>('document.activeElement?.id')).toBe('token');
    await page.keyboard.type(served.token);
    await page.keyboard.press('Enter');
    await page.locator('.bar nav').waitFor();
    const notes = page.getByRole('button', { name: /notes\// });
    await notes.focus();
    await page.keyboard.press('Enter'); // collapses the directory
    await expect.poll(() => page.getByRole('link', { name: 'todo.md' }).count()).toBe(0);
    expect(await notes.getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'todo.md' }).waitFor();
    await page.goto(`${served.url}/#/files/notes/todo.md`);
    await page.getByRole('button', { name: 'Rename' }).focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('New path').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByLabel('New path').count()).toBe(0);
  });

  // The router heard hash changes only once its effect ran, after the first paint: a deep link
  // followed right after sign-in (or any hash change in between) was missed, and the view stayed on
  // "Choose a file" (a playwright goto just after sign-in hung there in about one run in four).
  it('follows a hash changed between the first render and the router listening', async () => {
    const fresh = await freshContext();
    // Changes the hash the moment the shell is in the DOM: after the render, before any effect.
    await fresh.addInitScript(`new MutationObserver((_, observer) => {
      if (!document.querySelector('.bar nav')) return;
      observer.disconnect();
      location.hash = '#/files/notes/todo.md';
    }).observe(document, { childList: true, subtree: true });`);
    const page = await signIn(fresh, served.url, served.token);
    await expect.poll(() => page.locator('pre.code').count()).toBe(1);
    expect(await page.locator('pre.code').textContent()).toContain('Todo');
  });

  it('lays out at 390x844', async () => {
    const page = await signIn(await freshContext({ width: 390, height: 844 }), served.url, served.token);
    await page.goto(`${served.url}/#/files/notes/todo.md`);
    await page.locator('pre.code').waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'files-mobile');
  });
});
