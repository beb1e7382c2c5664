import { afterEach, describe, expect, it } from 'vitest';
import type { FsEvent } from '../../src/types.js';
import { Servers, recorder } from './helpers.js';

const servers = new Servers();
afterEach(() => servers.stopAll());

describe('FileSystemServer: subscriber events', () => {
  it('emits file_updated, file_moved and file_deleted with origin and source', async () => {
    const fs = await servers.start();
    const { events, listener, count } = recorder();
    fs.subscribe(listener);
    await fs.writeFile('/a.md', 'one');
    await fs.writeFile('/a.md', 'two', { origin: 'sync', source: 'instance-2' });
    await fs.moveFile('/a.md', '/b.md', { origin: 'disk' });
    await fs.deleteFile('/b.md');
    await count(4);
    expect(events).toMatchObject([
      { type: 'file_updated', path: '/a.md', created: true, origin: 'local', meta: { size: 3 } },
      { type: 'file_updated', path: '/a.md', created: false, origin: 'sync', source: 'instance-2', meta: { size: 3 } },
      { type: 'file_moved', from: '/a.md', to: '/b.md', origin: 'disk', meta: { path: '/b.md' } },
      { type: 'file_deleted', path: '/b.md', origin: 'local' },
    ]);
    expect('source' in events[0]!).toBe(false);
    const revisions = events.map((e) => ('meta' in e ? e.meta.revision : (e as { revision: number }).revision));
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
  });

  it('carries the actor of every kind of change into its event', async () => {
    const fs = await servers.start();
    const { events, listener, count } = recorder();
    fs.subscribe(listener);
    const actor = 'token:ci-bot';
    await fs.writeFile('/a.md', 'one', { actor });
    await fs.appendFile('/a.md', '!', { actor });
    await fs.editFile('/a.md', 'one!', 'two', { actor });
    await fs.moveFile('/a.md', '/b.md', { actor, origin: 'sync', source: 'instance-2' });
    await fs.deleteFile('/b.md', { actor });
    await fs.writeFile('/c.md', 'anonymous');
    await count(6);
    expect(events.slice(0, 5).map((e) => ('actor' in e ? e.actor : undefined))).toEqual([actor, actor, actor, actor, actor]);
    expect(events[3]).toMatchObject({ type: 'file_moved', source: 'instance-2', actor });
    expect('actor' in events[5]!).toBe(false);
  });

  it('emits events for append and edit, and one file_moved per file of a prefix move', async () => {
    const fs = await servers.start();
    await fs.writeFile('/d/x.md', 'x');
    await fs.writeFile('/d/y.md', 'y');
    const { events, listener, count } = recorder();
    fs.subscribe(listener);
    await fs.appendFile('/d/x.md', '!');
    await fs.editFile('/d/x.md', 'x!', 'done');
    await fs.moveFile('/d', '/e');
    await count(4);
    expect(events.map((e) => e.type)).toEqual(['file_updated', 'file_updated', 'file_moved', 'file_moved']);
    expect(events.slice(2).map((e) => (e as { to: string }).to)).toEqual(['/e/x.md', '/e/y.md']);
  });

  it('with snapshot, first delivers the current entries, then later events in order', async () => {
    const fs = await servers.start();
    await fs.writeFile('/one.md', '1');
    await fs.writeFile('/two.md', '22');
    const { events, listener, count } = recorder();
    fs.subscribe(listener, { snapshot: true });
    await fs.writeFile('/three.md', '333');
    await count(2);
    const [snapshot, update] = events as [Extract<FsEvent, { type: 'snapshot' }>, FsEvent];
    expect(snapshot.type).toBe('snapshot');
    expect(snapshot.entries.map((e) => [e.path, e.size])).toEqual([['/one.md', 1], ['/two.md', 2]]);
    expect(update).toMatchObject({ type: 'file_updated', path: '/three.md' });
  });

  it('unsubscribe stops delivery', async () => {
    const fs = await servers.start();
    const { events, listener } = recorder();
    const unsubscribe = fs.subscribe(listener);
    unsubscribe();
    await fs.writeFile('/a.md', 'x');
    const other = recorder();
    fs.subscribe(other.listener);
    await fs.writeFile('/b.md', 'x');
    await other.count(1);
    expect(events).toEqual([]);
  });

  it('a listener that throws, rejects or never resolves never breaks or blocks the actor', async () => {
    const fs = await servers.start();
    let calls = 0;
    fs.subscribe(() => {
      calls++;
      throw new Error('listener bug');
    });
    fs.subscribe(async () => {
      throw new Error('async listener bug');
    });
    fs.subscribe(() => new Promise<void>(() => undefined)); // never settles
    const healthy = recorder();
    fs.subscribe(healthy.listener);
    for (let i = 0; i < 20; i++) await fs.writeFile(`/f${i}.md`, `${i}`);
    await healthy.count(20);
    expect(calls).toBe(20);
    expect(fs.status).toBe('running');
    expect(await fs.listFiles()).toHaveLength(20);
  });

  it('a listener may call back into the filesystem without deadlocking', async () => {
    const fs = await servers.start();
    const mirrored = new Promise<string>((resolve) => {
      fs.subscribe(async (event) => {
        if (event.type === 'file_updated' && event.path === '/in.md') {
          await fs.writeFile('/out.md', await fs.readFile('/in.md'));
          resolve(await fs.readFile('/out.md'));
        }
      });
    });
    await fs.writeFile('/in.md', 'echo');
    expect(await mirrored).toBe('echo');
  });
});
