import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDriver } from '../../persistence/drivers/memory.js';
import type { FsMessage } from '../../src/fs/messages.js';
import { Servers, text, until } from './helpers.js';

const servers = new Servers();
afterEach(() => servers.stopAll());

describe('FileSystemServer: its mailbox holds data messages', () => {
  it('traces calls as plain data, in the order they are handled', async () => {
    const seen: FsMessage[] = [];
    const fs = await servers.start({ trace: (message) => seen.push(message) });
    await fs.writeFile('/a.md', 'one', { source: 'agent-1' });
    await fs.moveFile('/a.md', '/b.md');
    await fs.stat('/b.md');
    await fs.deleteFile('/b.md');
    expect(seen.map((m) => m.type)).toEqual(['write', 'move', 'stat', 'delete']);
    // JSON round-trips them unchanged: nothing in them is a function or a hidden reference.
    expect(JSON.parse(JSON.stringify(seen))).toEqual(seen);
    expect(seen[0]).toEqual({ type: 'write', path: '/a.md', content: 'one', options: { source: 'agent-1' } });
  });

  it('persist timers and finished driver writes come back as casts, not callbacks', async () => {
    const seen: FsMessage[] = [];
    const driver = new MemoryDriver();
    const fs = await servers.start({
      durability: 'debounced',
      debounceMs: 5,
      configs: [{ base: '/', default: true, driver }],
      trace: (message) => seen.push(message),
    });
    await fs.writeFile('/a.md', 'one'); // a new file persists at once
    await fs.writeFile('/a.md', 'two'); // an update waits for its debounce timer
    await until(async () => text((await driver.load('/a.md')) ?? undefined) === 'two');
    const due = seen.findIndex((m) => m.type === 'persist_due');
    expect(seen[due]).toEqual({ type: 'persist_due', key: '/a.md' });
    // The write the timer started settles the journal through the mailbox too.
    await until(() => seen.slice(due).some((m) => m.type === 'persist_settled'));
    expect(JSON.parse(JSON.stringify(seen))).toEqual(seen);
  });

  it('carries on when the tracer throws', async () => {
    const fs = await servers.start({
      trace: () => {
        throw new Error('broken tracer');
      },
    });
    await fs.writeFile('/a.md', 'one');
    expect(await fs.readFile('/a.md')).toBe('one');
    expect(fs.status).toBe('running');
  });

  it('answers an unknown message with EINVAL instead of crashing', async () => {
    const fs = await servers.start();
    // Reach the mailbox the way a wrong client would: with a type the protocol does not have.
    const actor = (fs as unknown as { actor: { call(message: unknown): Promise<unknown> } }).actor;
    await expect(actor.call({ type: 'format_disk' })).rejects.toMatchObject({ code: 'EINVAL' });
    expect(fs.status).toBe('running');
    await fs.writeFile('/still.md', 'fine');
  });
});
