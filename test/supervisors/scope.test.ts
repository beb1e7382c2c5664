import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getScope, startScope } from 'scopefs';

let dir: string;
let counter = 0;
const key = (name: string) => ['scope-test', ++counter, name];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-scope-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('startScope', () => {
  it('builds the rest_for_one tree: fs, then agents', async () => {
    const scope = await startScope({ scopeKey: key('tree'), agents: [{ id: 'idle', run: ({ signal }) => waitForAbort(signal) }] });
    try {
      expect(scope.tree().map((c) => [c.id, c.type, c.status])).toEqual([
        ['fs', 'worker', 'running'],
        ['agents', 'supervisor', 'running'],
      ]);
      expect(scope.tree()[1]!.children?.map((c) => c.id)).toEqual(['idle']);
    } finally {
      await scope.stop();
    }
  });

  it('returns the running scope for the same key, even for concurrent starts', async () => {
    const scopeKey = key('same');
    const [first, second] = await Promise.all([startScope({ scopeKey }), startScope({ scopeKey: [...scopeKey] })]);
    try {
      expect(second).toBe(first);
      expect(await getScope(scopeKey)).toBe(first);
      await first.fs.writeFile('/a.md', 'shared');
      expect(await (await getScope(scopeKey))!.fs.readFile('/a.md')).toBe('shared');
    } finally {
      await first.stop();
    }
    expect(await getScope(scopeKey)).toBeUndefined();
  });

  it('canonicalises keys: a tuple and its string form find the same scope', async () => {
    const scope = await startScope({ scopeKey: ['user', 123 + counter] });
    try {
      expect(await getScope(`user/${123 + counter}`)).toBe(scope);
    } finally {
      await scope.stop();
    }
  });

  it('an agent crashing 100 times never changes filesystem content', async () => {
    let runs = 0;
    let crashedEnough!: () => void;
    const done = new Promise<void>((resolve) => (crashedEnough = resolve));
    const scope = await startScope({
      scopeKey: key('crashy'),
      root: join(dir, 'root'),
      intensity: { maxRestarts: 1000, withinMs: 1000 },
      agents: [
        {
          id: 'crashy',
          run: async ({ fs }) => {
            runs++;
            if (runs > 100) {
              crashedEnough();
              return new Promise(() => undefined);
            }
            await fs.readFile('/precious.md');
            throw new Error(`crash #${runs}`);
          },
        },
      ],
    });
    try {
      await scope.fs.writeFile('/precious.md', 'do not lose me');
      await done;
      expect(await scope.fs.readFile('/precious.md')).toBe('do not lose me');
      expect(scope.tree()[0]).toMatchObject({ id: 'fs', status: 'running', restarts: 0 });
      expect(scope.tree()[1]!.children![0]!.restarts).toBeGreaterThanOrEqual(100);
    } finally {
      await scope.stop();
    }
  });

  it('stopping a scope flushes pending debounced writes to disk', async () => {
    const root = join(dir, 'flush');
    const scope = await startScope({ scopeKey: key('flush'), root, durability: 'debounced', debounceMs: 60_000 });
    await scope.fs.writeFile('/doc.md', 'v1');
    await scope.fs.writeFile('/doc.md', 'v2 pending');
    expect((await scope.fs.stats()).dirty).toBeGreaterThan(0);
    await scope.stop();
    expect(await readFile(join(root, 'doc.md'), 'utf8')).toBe('v2 pending');
  });

  it('the fs handle survives a filesystem server restart', async () => {
    const root = join(dir, 'restart');
    const scope = await startScope({ scopeKey: key('fs-restart'), root });
    try {
      await scope.fs.writeFile('/kept.md', 'kept');
      const seen: string[] = [];
      scope.fs.subscribe((e) => {
        if (e.type === 'file_updated') seen.push(e.path);
      });
      const restarted = new Promise<void>((resolve) =>
        scope.supervisor.onChildEvent((e) => e.type === 'restarted' && e.id === 'fs' && resolve()),
      );
      scope.supervisor.child('fs')!.exit(new Error('injected'));
      await restarted;
      expect(await scope.fs.readFile('/kept.md')).toBe('kept');
      await scope.fs.writeFile('/after.md', 'after');
      expect(seen).toContain('/after.md');
    } finally {
      await scope.stop();
    }
  });

  it('rejects invalid scope keys with EINVAL', () => {
    expect(() => startScope({ scopeKey: '' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => startScope({ scopeKey: ['a', '../b'] })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
