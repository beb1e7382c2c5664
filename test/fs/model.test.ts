/**
 * Model-based test: random sequences of changes applied to a FileSystemServer
 * and to a plain Map must agree, during the run and after a stop and restart
 * on the same persistence, in every durability mode.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryDriver } from '../../persistence/drivers/memory.js';
import { isScopeFsError } from '../../src/errors.js';
import type { FileSystem } from '../../src/types.js';
import { Servers, tempDir } from './helpers.js';

const FILES = ['/x.md', '/y.md', '/d/p.md', '/d/q.md', '/e/p.md'];
const DIRS = ['/d', '/e'];

type Command =
  | { op: 'write'; path: string; text: string }
  | { op: 'append'; path: string; text: string }
  | { op: 'delete'; path: string }
  | { op: 'move'; from: string; to: string }
  | { op: 'moveDir'; from: string; to: string }
  | { op: 'flush' };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('write' as const), path: fc.constantFrom(...FILES), text: fc.string({ maxLength: 8 }) }),
  fc.record({ op: fc.constant('append' as const), path: fc.constantFrom(...FILES), text: fc.string({ maxLength: 4 }) }),
  fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...FILES) }),
  fc.record({ op: fc.constant('move' as const), from: fc.constantFrom(...FILES), to: fc.constantFrom(...FILES) }),
  fc.record({ op: fc.constant('moveDir' as const), from: fc.constantFrom(...DIRS), to: fc.constantFrom(...DIRS) }),
  fc.record({ op: fc.constant('flush' as const) }),
);

/** Applies a command to the model; returns false where the server must refuse it. */
function applyToModel(model: Map<string, string>, c: Command): boolean {
  switch (c.op) {
    case 'write':
      model.set(c.path, c.text);
      return true;
    case 'append':
      model.set(c.path, (model.get(c.path) ?? '') + c.text);
      return true;
    case 'delete':
      return model.delete(c.path);
    case 'move': {
      if (!model.has(c.from) || (c.from !== c.to && model.has(c.to))) return false;
      const content = model.get(c.from)!;
      model.delete(c.from);
      model.set(c.to, content);
      return true;
    }
    case 'moveDir': {
      const sources = [...model.keys()].filter((p) => p.startsWith(`${c.from}/`));
      if (sources.length === 0) return false;
      if (c.from === c.to) return true;
      const targets = sources.map((p) => c.to + p.slice(c.from.length));
      if (targets.some((t) => model.has(t))) return false;
      const contents = sources.map((p) => model.get(p)!);
      sources.forEach((p) => model.delete(p));
      targets.forEach((t, i) => model.set(t, contents[i]!));
      return true;
    }
    case 'flush':
      return true;
  }
}

async function applyToServer(fs: FileSystem, c: Command): Promise<void> {
  switch (c.op) {
    case 'write':
      return void (await fs.writeFile(c.path, c.text));
    case 'append':
      return void (await fs.appendFile(c.path, c.text));
    case 'delete':
      return fs.deleteFile(c.path);
    case 'move':
    case 'moveDir':
      return void (await fs.moveFile(c.from, c.to));
    case 'flush':
      return void (await fs.flushAll());
  }
}

async function contents(fs: FileSystem): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const path of await fs.listFiles()) result[path] = await fs.readFile(path);
  return result;
}

describe('FileSystemServer agrees with a model', () => {
  it.each(['journal', 'debounced', 'immediate'] as const)('%s: during the run and after a restart', async (durability) => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 30 }), async (commands) => {
        const servers = new Servers();
        const dir = await tempDir();
        try {
          const driver = new MemoryDriver();
          const options = { durability, debounceMs: 5, journalPath: join(dir.path, 'journal'), configs: [{ base: '/', driver, default: true }] };
          const fs = await servers.start(options);
          const model = new Map<string, string>();
          for (const c of commands) {
            const allowed = applyToModel(model, c);
            const outcome = await applyToServer(fs, c).then(
              () => true,
              (err: unknown) => {
                if (!isScopeFsError(err)) throw err;
                return false;
              },
            );
            expect(outcome, JSON.stringify(c)).toBe(allowed);
          }
          const expected = Object.fromEntries([...model].sort(([a], [b]) => (a < b ? -1 : 1)));
          expect(await contents(fs)).toEqual(expected);
          await fs.stop();
          expect(Object.fromEntries(driver.paths().map((p) => [p, driver.peekText(p)]))).toEqual(expected);
          expect(await contents(await servers.start(options))).toEqual(expected);
        } finally {
          await servers.stopAll();
          await dir.remove();
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
