/** Syncing instances share their subscriptions through the store, and each change is delivered once, by the instance that made it. */
import { afterEach, expect, it } from 'vitest';
import { SyncLab } from '../helpers/sync-scopes.js';
import { startReceiver, type Receiver } from './receiver.js';

const SECRET = 'sync-test-secret-0123456789';
let lab: SyncLab | undefined;
let hook: Receiver | undefined;

afterEach(async () => {
  await lab?.remove();
  await hook?.close();
});

it('shares subscriptions through the store and delivers a synced change only from its own instance', async () => {
  lab = await SyncLab.create();
  hook = await startReceiver({ secret: SECRET });
  const a = await lab.start('a');
  const b = await lab.start('b');
  await a.webhooks!.add({ url: hook.url, secret: SECRET });
  expect((await b.webhooks!.list()).map((w) => w.url)).toEqual([hook.url]); // read from the store
  await a.fs.writeFile('/from-a.txt', 'a');
  await b.fs.writeFile('/from-b.txt', 'b');
  await lab.settle(a, b);
  expect(await b.fs.readFile('/from-a.txt')).toBe('a');
  await hook.waitFor((r) => r.length >= 2);
  await expect.poll(() => a.webhooks!.status().delivered + b.webhooks!.status().delivered).toBe(2);
  // The synced copies were heard (origin sync) but never queued: one row per change, in its instance's outbox.
  expect([a.webhooks!.status(), b.webhooks!.status()].map((s) => s.pending + s.delivered)).toEqual([1, 1]);
  expect(hook.received.map((r) => r.event.path).sort()).toEqual(['/from-a.txt', '/from-b.txt']);
});
