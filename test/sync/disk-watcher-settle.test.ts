/**
 * A plain save truncates the file, then writes it. The watcher must not take
 * the empty file in between (memory would follow it to empty, or keep it as
 * an empty conflict copy): it looks again once the file has been still.
 */
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FsEvent } from '../../src/types.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';

let dir: string;
let scope: RunningScope;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-watch-settle-'));
  await mkdir(join(dir, 'root'));
  scope = await startScope({ scopeKey: `watch-settle-${process.pid}-${Date.now()}`, root: join(dir, 'root'), watch: true });
});
afterEach(async () => {
  await scope.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('disk watcher: a save in two steps', () => {
  it('an editor that truncates, pauses 30 ms and writes: only the saved content is taken in', async () => {
    await scope.fs.writeFile('/doc.md', 'first version\n');
    await scope.fs.flushAll();
    const events: FsEvent[] = [];
    scope.fs.subscribe((event) => {
      events.push(event);
    });
    const saved = new Promise<void>((resolve) =>
      scope.fs.subscribe((e) => {
        if (e.type === 'file_updated' && e.path === '/doc.md' && e.meta.size > 0) resolve();
      }),
    );
    const file = await open(join(dir, 'root', 'doc.md'), 'w'); // truncates
    await sleep(30); // the scenario: the editor is descheduled between its two steps
    await file.write('second version\n');
    await file.close();
    await saved;
    expect(await scope.fs.readFile('/doc.md')).toBe('second version\n');
    const seen = events.filter((e) => e.type !== 'snapshot');
    expect(seen.filter((e) => e.type === 'disk_conflict')).toEqual([]);
    expect(seen.filter((e) => e.type === 'file_updated' && e.meta.size === 0)).toEqual([]);
  });
});
