/**
 * The Conflicts, History (versions and checkpoints) and Health views in a
 * real chromium against real `serve` processes: a conflict made between two
 * instances on one SQLite store is resolved from the browser (both disks
 * checked), an old version is restored and a checkpoint rolled back after its
 * dry-run preview (files on disk checked), and a held lock shows in Health.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { browserUnavailable, ensureBuilt, http, launchBrowser, readDisk, screenshot, signIn, startServer, type Served } from './harness.js';

const skip = await browserUnavailable();

const text = async (served: Served, path: string) => {
  const response = await http(served, 'GET', `/v1/files${path}`);
  return response.ok ? response.text() : undefined;
};
const diskOr = (served: Served, path: string) => readDisk(served, path).catch(() => undefined);

describe.skipIf(skip !== undefined)('dashboard views (browser)', () => {
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let context: BrowserContext | undefined;
  const opened: Served[] = [];
  const open = async (...args: Parameters<typeof startServer>) => {
    const served = await startServer(...args);
    opened.push(served);
    return served;
  };
  const page = async (served: Served, viewport = { width: 1280, height: 800 }): Promise<Page> => {
    await context?.close();
    context = await browser.newContext({ viewport });
    return signIn(context, served.url, served.token);
  };

  beforeAll(async () => {
    await ensureBuilt();
    ({ browser, close: closeBrowser } = await launchBrowser());
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    await closeBrowser?.();
    for (const served of opened) await served.stop();
  });

  it('shows a conflict between two instances with its diff and resolves it; both disks agree', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'scopefs-dashboard-store-'));
    try {
      const store = ['--store', `sqlite:${join(storeDir, 'store.db')}`];
      const a = await open({ args: [...store, '--instance', 'dash-a'] });
      const b = await open({ args: [...store, '--instance', 'dash-b'] });
      await http(a, 'PUT', '/v1/files/notes/plan.md', 'plan: start\n');
      await expect.poll(() => text(b, '/notes/plan.md'), { timeout: 15_000 }).toBe('plan: start\n');
      // B stops syncing while both change the same line: B's resume finds two edits that cannot merge.
      expect((await http(b, 'POST', '/v1/sync/pause')).status).toBe(200);
      await http(a, 'PUT', '/v1/files/notes/plan.md', 'plan: alpha from A\n');
      await http(b, 'PUT', '/v1/files/notes/plan.md', 'plan: beta from B\n');
      expect((await http(b, 'POST', '/v1/sync/resume')).status).toBe(200);
      const conflicts = async () => ((await (await http(b, 'GET', '/v1/conflicts')).json()) as { conflicts: unknown[] }).conflicts.length;
      await expect.poll(conflicts, { timeout: 15_000 }).toBe(1);

      const view = await page(b);
      await view.getByRole('link', { name: 'Conflicts' }).click();
      await view.getByRole('button', { name: '/notes/plan.md' }).click();
      const detail = view.getByTestId('conflict-detail');
      await expect.poll(() => detail.locator('tr.diff-changed').count()).toBe(1);
      expect(await detail.locator('td.left').first().textContent()).toContain('beta from B');
      expect(await detail.locator('td.right').first().textContent()).toContain('alpha from A');
      await screenshot(view, 'conflicts');
      await view.getByRole('button', { name: 'Edit, then resolve' }).click();
      await view.getByLabel('resolved text').fill('plan: alpha and beta\n');
      await view.getByRole('button', { name: 'Resolve with this text' }).click();
      await expect.poll(() => view.getByTestId('no-conflicts').count()).toBe(1);
      await expect.poll(() => diskOr(b, 'notes/plan.md'), { timeout: 15_000 }).toBe('plan: alpha and beta\n');
      await expect.poll(() => diskOr(a, 'notes/plan.md'), { timeout: 15_000 }).toBe('plan: alpha and beta\n');
    } finally {
      await rm(storeDir, { recursive: true, force: true });
    }
  });

  it('restores an old version of a file, after showing its diff against the current one', async () => {
    const served = await open({ args: ['--no-sync'] });
    await http(served, 'PUT', '/v1/files/draft.md', 'first version\n');
    await http(served, 'PUT', '/v1/files/draft.md', 'second version\n');
    const view = await page(served);
    await view.goto(`${served.url}/#/history/draft.md`);
    const rows = view.locator('.versions tr[data-revision]');
    await expect.poll(() => rows.count()).toBe(2);
    const oldest = rows.last();
    await oldest.getByRole('button', { name: 'Diff with current' }).click();
    await expect.poll(() => view.locator('.versions tr.diff-changed td.left').textContent()).toContain('first version');
    await screenshot(view, 'history');
    await oldest.getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => view.locator('.versions [role=status]').textContent()).toContain('Restored /draft.md');
    expect(await text(served, '/draft.md')).toBe('first version\n');
    await expect.poll(() => diskOr(served, 'draft.md'), { timeout: 10_000 }).toBe('first version\n');
    await expect.poll(() => rows.count()).toBe(3);
  });

  it('creates a checkpoint and rolls back to it through a dry-run preview; the files on disk follow', async () => {
    const served = await open({ args: ['--no-sync'] });
    await http(served, 'PUT', '/v1/files/keep.md', 'as checkpointed\n');
    const view = await page(served);
    await view.getByRole('link', { name: 'History' }).click();
    await view.getByLabel('checkpoint name').fill('before-agent');
    await view.getByRole('button', { name: 'Create checkpoint' }).click();
    const row = view.locator('tr[data-checkpoint="before-agent"]');
    await row.waitFor();
    await http(served, 'PUT', '/v1/files/keep.md', 'changed by an agent\n');
    await http(served, 'PUT', '/v1/files/extra.md', 'new file\n');
    await row.getByRole('button', { name: 'Roll back…' }).click();
    const preview = view.getByTestId('rollback-preview');
    await expect.poll(() => preview.textContent()).toContain('/extra.md');
    expect(await preview.textContent()).toContain('/keep.md');
    // The preview changed nothing.
    expect(await text(served, '/keep.md')).toBe('changed by an agent\n');
    await screenshot(view, 'checkpoint-preview');
    await preview.getByRole('button', { name: 'Roll back now' }).click();
    await expect.poll(() => text(served, '/keep.md')).toBe('as checkpointed\n');
    expect(await text(served, '/extra.md')).toBeUndefined();
    await expect.poll(() => diskOr(served, 'keep.md'), { timeout: 10_000 }).toBe('as checkpointed\n');
    await expect.poll(() => diskOr(served, 'extra.md'), { timeout: 10_000 }).toBeUndefined();
  });

  it('highlights the syntax of a TypeScript file in the viewer, as text (no markup from the file)', async () => {
    const served = await open({ args: ['--no-sync'] });
    await http(served, 'PUT', '/v1/files/code.ts', 'const greeting = "<b>hi</b>"; // say it\n');
    const view = await page(served);
    await view.goto(`${served.url}/#/files/code.ts`);
    await expect.poll(() => view.locator('pre.code .tok-keyword').first().textContent()).toBe('const');
    expect(await view.locator('pre.code .tok-string').first().textContent()).toBe('"<b>hi</b>"');
    expect(await view.locator('pre.code b').count()).toBe(0);
    expect(await view.locator('pre.code .tok-comment').first().textContent()).toBe('// say it');
  });

  it('shows the sync state, the supervision tree and a held lock with its holder, at phone width too', async () => {
    const served = await open();
    const lock = await http(served, 'POST', '/v1/locks', JSON.stringify({ path: '/notes', ttlMs: 120_000, owner: 'agent-7' }), { 'content-type': 'application/json' });
    expect(lock.status).toBe(201);
    const view = await page(served);
    await view.getByRole('link', { name: 'Health' }).click();
    await expect.poll(() => view.getByTestId('sync-state').textContent(), { timeout: 15_000 }).toContain('live');
    expect(await view.getByTestId('locks').textContent()).toContain('agent-7');
    expect(await view.locator('.tree-nodes [data-restarts]').count()).toBeGreaterThan(0);
    await screenshot(view, 'health');
    const phone = await page(served, { width: 390, height: 844 });
    await phone.getByRole('link', { name: 'Health' }).click();
    await phone.getByTestId('locks').waitFor();
    const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(1);
    expect(await phone.content()).not.toContain(served.token);
  });
});
