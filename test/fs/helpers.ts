import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryDriver } from '../../persistence/drivers/memory.js';
import { FileSystemServer, type FileSystemServerOptions } from '../../src/fs/file-system-server.js';
import type { FsEvent } from '../../src/types.js';

/** Servers started by a test; stop them all in afterEach. */
export class Servers {
  private readonly running: FileSystemServer[] = [];

  async start(options: FileSystemServerOptions = {}): Promise<FileSystemServer> {
    const server = await FileSystemServer.start(options);
    this.running.push(server);
    return server;
  }

  /** A server with one default MemoryDriver config. */
  async withMemory(options: FileSystemServerOptions = {}, driver = new MemoryDriver()) {
    const server = await this.start({ durability: 'debounced', configs: [{ base: '/', driver, default: true }], ...options });
    return { server, driver };
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.running.splice(0).map((s) => s.stop().catch(() => undefined)));
  }
}

export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'scopefs-fs-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Polls `condition` until it holds; fails after `timeoutMs`. For state with no event to await. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Collects events; `next(n)` resolves once n events have arrived. */
export function recorder() {
  const events: FsEvent[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const listener = (event: FsEvent) => {
    events.push(event);
    for (const waiter of waiters.filter((w) => events.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const count = (n: number) =>
    events.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count: n, resolve }));
  return { events, listener, count };
}

export const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8'));
