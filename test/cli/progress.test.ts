import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { migrationProgress, showSyncProgress, wantsProgress } from '../../src/cli/progress.js';
import { startScope } from '../../supervisors/scope/scopes.js';
import type { SyncEvent, SyncHandle } from '../../src/sync/types.js';

function terminal(): PassThrough & { text(): string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return Object.assign(stream, { text: () => chunks.join('') });
}

describe('progress bars', () => {
  it('are wanted only on a terminal and without --json', () => {
    expect(wantsProgress(false, { isTTY: true } as NodeJS.WriteStream)).toBe(true);
    expect(wantsProgress(true, { isTTY: true } as NodeJS.WriteStream)).toBe(false);
    expect(wantsProgress(false, { isTTY: false } as NodeJS.WriteStream)).toBe(false);
  });

  it('count synced files against synced plus pending', () => {
    let listener: ((event: SyncEvent) => void) | undefined;
    const sync = {
      subscribe: (l: (event: SyncEvent) => void) => {
        listener = l;
        return () => (listener = undefined);
      },
      status: () => new Promise(() => undefined),
    } as unknown as SyncHandle;
    const stream = terminal();
    const bar = showSyncProgress(sync, stream);
    listener!({ type: 'synced', direction: 'pull', paths: ['/a', '/b'], cursor: 2 });
    listener!({ type: 'synced', direction: 'push', paths: ['/c'], cursor: 3 });
    bar.stop();
    expect(listener).toBeUndefined();
    expect(stream.text()).toMatch(/sync .* 3\/3 files {2}done/);
  });

  it('shows the running pass\'s real counts (sync_progress), then the files synced', () => {
    let listener: ((event: SyncEvent) => void) | undefined;
    const sync = {
      subscribe: (l: (event: SyncEvent) => void) => ((listener = l), () => (listener = undefined)),
      status: () => new Promise(() => undefined),
    } as unknown as SyncHandle;
    const stream = terminal();
    const bar = showSyncProgress(sync, stream);
    listener!({ type: 'sync_progress', done: 0, total: 208 });
    listener!({ type: 'sync_progress', done: 100, total: 208 });
    listener!({ type: 'sync_progress', done: 208, total: 208 });
    listener!({ type: 'synced', direction: 'pull', paths: Array.from({ length: 208 }, (_, i) => `/f${i}.md`), cursor: 208 });
    bar.stop();
    expect(stream.text()).toMatch(/208\/208 files {2}done/);
  });

  it('a pull reports sync_progress over the files it brings: from 0 of them to all', async () => {
    const store = `memory:progress-${process.pid}-${Date.now()}`;
    const a = await startScope({ scopeKey: `${store}-a`, sync: { store, instanceId: 'a' } });
    const b = await startScope({ scopeKey: `${store}-b`, sync: { store, instanceId: 'b' } });
    try {
      await b.sync!.idle({ timeoutMs: 10_000 });
      await b.sync!.pause();
      for (let i = 0; i < 30; i++) await a.fs.writeFile(`/f${i}.md`, `file ${i}`);
      await a.sync!.idle({ timeoutMs: 10_000 });
      const seen: Array<{ done: number; total: number }> = [];
      b.sync!.subscribe((event) => {
        if (event.type === 'sync_progress') seen.push({ done: event.done, total: event.total });
      });
      await b.sync!.resume();
      await b.sync!.idle({ timeoutMs: 10_000 });
      expect(seen[0]).toEqual({ done: 0, total: 30 });
      expect(seen.at(-1)).toEqual({ done: 30, total: 30 });
      expect(await b.fs.listFiles('/')).toHaveLength(30);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('says "up to date" when there was nothing to sync', () => {
    const sync = { subscribe: () => () => undefined, status: () => new Promise(() => undefined) } as unknown as SyncHandle;
    const stream = terminal();
    showSyncProgress(sync, stream).stop();
    expect(stream.text()).toMatch(/0\/0 files {2}up to date/);
  });

  it('shows migrations as they are applied', () => {
    const stream = terminal();
    const bar = migrationProgress(stream);
    bar.update(0, 2);
    bar.update(2, 2);
    bar.stop();
    expect(stream.text()).toMatch(/migrate .* 2\/2 migrations/);
  });
});
