import { afterEach, describe, expect, it } from 'vitest';
import { Servers, recorder, until } from '../fs/helpers.js';

const servers = new Servers();
afterEach(() => servers.stopAll());

describe('FileSystemServer: locks refuse changes without the token', () => {
  it('refuses write, append, edit, delete and move of a locked file with ELOCKED, leaving no trace', async () => {
    const { server: fs, driver } = await servers.withMemory();
    await fs.writeFile('/a.md', 'one');
    await fs.flushAll();
    const events = recorder();
    fs.subscribe(events.listener);
    await fs.lock('/a.md', { ttlMs: 10_000, owner: 'agent-a' });
    const refused = { code: 'ELOCKED', message: expect.stringContaining('"agent-a"') };
    await expect(fs.writeFile('/a.md', 'two')).rejects.toMatchObject(refused);
    await expect(fs.appendFile('/a.md', '!')).rejects.toMatchObject(refused);
    await expect(fs.editFile('/a.md', 'one', 'uno')).rejects.toMatchObject(refused);
    await expect(fs.deleteFile('/a.md')).rejects.toMatchObject(refused);
    await expect(fs.moveFile('/a.md', '/b.md')).rejects.toMatchObject(refused);
    expect(await fs.readFile('/a.md')).toBe('one');
    expect(await fs.fileExists('/b.md')).toBe(false);
    expect(events.events).toEqual([]);
    expect((await fs.stat('/a.md')).dirty).toBe(false);
    const writes = driver.writes;
    await fs.flushAll();
    expect(driver.writes).toBe(writes);
    expect(driver.peekText('/a.md')).toBe('one');
    expect(driver.has('/b.md')).toBe(false);
  });

  it('the holder writes, edits, moves and deletes by presenting its token', async () => {
    const fs = await servers.start();
    await fs.writeFile('/d/a.md', 'one');
    const { token } = await fs.lock('/d', { ttlMs: 10_000 });
    await fs.writeFile('/d/a.md', 'two', { lockToken: token });
    await fs.editFile('/d/a.md', 'two', 'three', { lockToken: token });
    await fs.appendFile('/d/a.md', '!', { lockToken: token });
    await fs.moveFile('/d/a.md', '/d/b.md', { lockToken: token });
    expect(await fs.readFile('/d/b.md')).toBe('three!');
    await fs.deleteFile('/d/b.md', { lockToken: token });
    expect(await fs.listFiles()).toEqual([]);
  });

  it('a prefix lock covers every path under it, new files included, and moves into or out of it', async () => {
    const fs = await servers.start();
    await fs.writeFile('/out/x.md', 'x');
    await fs.writeFile('/docs/old.md', 'old');
    await fs.lock('/docs/', { ttlMs: 10_000, owner: 'editor' });
    await expect(fs.writeFile('/docs/deep/new.md', 'n')).rejects.toMatchObject({ code: 'ELOCKED' });
    await expect(fs.moveFile('/out/x.md', '/docs/x.md')).rejects.toMatchObject({ code: 'ELOCKED' });
    await expect(fs.moveFile('/docs', '/elsewhere')).rejects.toMatchObject({ code: 'ELOCKED' });
    await fs.writeFile('/docsx/free.md', 'free'); // a sibling sharing the name's start is not under it
    expect(await fs.listFiles()).toEqual(['/docs/old.md', '/docsx/free.md', '/out/x.md']);
  });

  it('a path lock and a prefix lock over it exclude each other', async () => {
    const fs = await servers.start();
    await fs.lock('/docs/a.md', { ttlMs: 10_000, owner: 'one' });
    await expect(fs.lock('/docs', { ttlMs: 1_000, owner: 'two' })).rejects.toMatchObject({ code: 'ELOCKED' });
    await expect(fs.lock('/docs/a.md', { ttlMs: 1_000 })).rejects.toMatchObject({ code: 'ELOCKED' });
    await expect(fs.lock('/docs/b.md', { ttlMs: 1_000 })).resolves.toMatchObject({ path: '/docs/b.md' });
  });

  it('a token that expired is ESTALE on write, even once another holder has the lock', async () => {
    const fs = await servers.start();
    await fs.writeFile('/a.md', 'one');
    const old = await fs.lock('/a.md', { ttlMs: 30 });
    await until(async () => (await fs.locks()).length === 0);
    await expect(fs.writeFile('/a.md', 'late', { lockToken: old.token })).rejects.toMatchObject({ code: 'ESTALE' });
    const next = await fs.lock('/a.md', { ttlMs: 10_000, owner: 'next' });
    expect(next.fence).toBeGreaterThan(old.fence);
    await expect(fs.writeFile('/a.md', 'late', { lockToken: old.token })).rejects.toMatchObject({ code: 'ESTALE' });
    await fs.writeFile('/a.md', 'next', { lockToken: next.token });
    expect(await fs.readFile('/a.md')).toBe('next');
  });

  it('a released token is ESTALE; the path is free for writers without a token', async () => {
    const fs = await servers.start();
    const grant = await fs.lock('/a.md', { ttlMs: 10_000 });
    expect(await fs.unlock(grant.token)).toBe(true);
    await expect(fs.writeFile('/a.md', 'x', { lockToken: grant.token })).rejects.toMatchObject({ code: 'ESTALE' });
    await fs.writeFile('/a.md', 'x');
  });

  it('changes that arrive by sync or from the disk are never refused', async () => {
    const fs = await servers.start();
    await fs.lock('/a.md', { ttlMs: 10_000 });
    await fs.writeFile('/a.md', 'remote', { origin: 'sync', source: 'other-instance' });
    await fs.deleteFile('/a.md', { origin: 'sync' });
    expect(await fs.fileExists('/a.md')).toBe(false);
  });

  it('withLock waits (with backoff) for the holder to unlock, then runs and releases', async () => {
    const fs = await servers.start();
    const held = await fs.lock('/a.md', { ttlMs: 10_000, owner: 'first' });
    const order: string[] = [];
    const waiting = fs.withLock(
      '/a.md',
      async (lock) => {
        order.push('second runs');
        await fs.writeFile('/a.md', 'second', { lockToken: lock.token });
        return lock.fence;
      },
      { ttlMs: 10_000, wait: 5_000, owner: 'second' },
    );
    await fs.writeFile('/a.md', 'first', { lockToken: held.token });
    order.push('first unlocks');
    await fs.unlock(held.token);
    expect(await waiting).toBeGreaterThan(held.fence);
    expect(order).toEqual(['first unlocks', 'second runs']);
    expect(await fs.readFile('/a.md')).toBe('second');
    expect(await fs.locks()).toEqual([]);
  });

  it('withLock gives up after `wait` with ELOCKED naming the holder, and releases when fn throws', async () => {
    const fs = await servers.start();
    const held = await fs.lock('/a.md', { ttlMs: 10_000, owner: 'holder-1' });
    const started = Date.now();
    await expect(fs.withLock('/a.md', () => 'never', { ttlMs: 1_000, wait: 60 })).rejects.toMatchObject({
      code: 'ELOCKED',
      message: expect.stringContaining('"holder-1"'),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    await fs.unlock(held.token);
    await expect(
      fs.withLock('/a.md', () => {
        throw new Error('boom');
      }, { ttlMs: 1_000 }),
    ).rejects.toThrow('boom');
    expect(await fs.locks()).toEqual([]);
  });
});
