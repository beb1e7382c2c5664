import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { migrationProgress, showSyncProgress, wantsProgress } from '../../src/cli/progress.js';
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
