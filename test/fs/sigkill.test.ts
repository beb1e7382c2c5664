/**
 * The real crash test: a child process writes in journal mode to a disk root
 * and reports every acknowledged operation; we SIGKILL it mid-stream, start
 * a FileSystemServer on the same root and journal, and check that every
 * acknowledged operation is there (and every acknowledged move or delete
 * left nothing behind).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskDriver } from '../../persistence/drivers/disk.js';
import { APPENDED, bytesFor, contentFor } from './fixtures/stream-content.js';
import { Servers, tempDir } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/journal-writer.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

const servers = new Servers();
afterEach(() => servers.stopAll());

/** The state the acknowledged operations describe. `null` means the file must not exist. */
class Model {
  readonly files = new Map<string, string | Uint8Array | null>();
  counter = -1;

  apply(op: string): void {
    const [verb, a = '', b = ''] = op.split(' ');
    if (verb === 'write') this.files.set(a, contentFor(indexIn(a)));
    else if (verb === 'bytes') this.files.set(a, bytesFor(indexIn(a)));
    else if (verb === 'counter') this.counter = Number(a);
    else if (verb === 'move') {
      this.files.set(b, this.files.get(a)!);
      this.files.set(a, null);
    } else if (verb === 'delete') this.files.set(a, null);
    else if (verb === 'append') this.files.set(a, `${this.files.get(a) as string}${APPENDED}`);
    else throw new Error(`unknown op ${op}`);
  }
}

/** The paths an operation touches (so an unacknowledged one can be left out of the check). */
function touched(op: string): string[] {
  const [verb, a = '', b = ''] = op.split(' ');
  if (verb === 'counter') return ['/counter.txt'];
  return verb === 'move' ? [a, b] : [a];
}

function indexIn(path: string): number {
  return Number(/(\d+)\.\w+$/.exec(path)![1]);
}

/** Runs the writer until `acks` operations are acknowledged, then SIGKILLs it. Returns its output lines. */
async function runAndKill(root: string, journalPath: string, acks: number): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, root, journalPath], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  const enough = new Promise<void>((resolve, reject) => {
    let count = 0;
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('ack ') && ++count === acks) resolve();
    });
    void exited.then(() => reject(new Error(`writer exited before ${acks} acks:\n${stderr}`)));
  });
  try {
    await enough;
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  expect(child.signalCode).toBe('SIGKILL');
  return lines;
}

describe('journal durability under SIGKILL', () => {
  it.each([60, 400])('every acknowledged operation survives a SIGKILL after %i acks', async (acks) => {
    const dir = await tempDir();
    try {
      const root = join(dir.path, 'root');
      const journalPath = join(root, '.scopefs', 'journal');
      const lines = await runAndKill(root, journalPath, acks);

      const model = new Model();
      let inFlight: string | undefined;
      for (const line of lines) {
        if (line.startsWith('begin ')) inFlight = line.slice(6);
        if (line.startsWith('ack ')) {
          model.apply(line.slice(4));
          inFlight = undefined;
        }
      }
      const uncertain = new Set(inFlight ? touched(inFlight) : []);

      const fs = await servers.start({ journalPath, configs: [{ base: '/', driver: new DiskDriver({ root }), default: true }] });
      let checked = 0;
      for (const [path, expected] of model.files) {
        if (uncertain.has(path)) continue;
        if (expected === null) {
          expect(await fs.fileExists(path), `${path} must be gone`).toBe(false);
        } else if (typeof expected === 'string') {
          expect(await fs.readFile(path), path).toBe(expected);
        } else {
          expect(await fs.readFile(path, { encoding: 'bytes' }), path).toEqual(expected);
        }
        checked++;
      }
      expect(checked).toBeGreaterThan(acks / 4);
      // Counter updates never reach the disk before the kill (60 s debounce): only the journal has them.
      const counter = Number(await fs.readFile('/counter.txt'));
      expect(counter).toBeGreaterThanOrEqual(model.counter);
      expect(counter).toBeLessThanOrEqual(model.counter + 1);
      expect(model.counter).toBeGreaterThan(0);
      await fs.stop();

      // After the recovered state is persisted and the server stopped cleanly, a plain restart agrees.
      const again = await servers.start({ journalPath, durability: 'debounced', configs: [{ base: '/', driver: new DiskDriver({ root }), default: true }] });
      expect(Number(await again.readFile('/counter.txt'))).toBe(counter);
    } finally {
      await dir.remove();
    }
  }, 120_000);
});
