/**
 * Another program racing the persister on the same files (issue 9): a child
 * process saves three files in a loop (plain write, temp file renamed over,
 * truncate then write) while the test appends and rewrites the same files
 * through the API with a 20 ms debounce and the watcher on. Afterwards every
 * outside save and every acknowledged write must be in the file, merged into
 * it, or in a recorded conflict copy.
 *
 * Tokens are JSON lines every writer adds while keeping what it read, so the
 * only way a token may legitimately disappear is a save that never saw it:
 * an outside save that read the file just before scopefs wrote a token there
 * and wrote over it (the outside program's own lost update), or scopefs's
 * rename landing in the microseconds between its check and the rename (the
 * remaining window of the on-disk compare-and-swap). Both are decided from
 * CLOCK_MONOTONIC times of every save and of every disk write scopefs made
 * (a recording DiskDriver), and counted. A save that a later outside save
 * read and rewrote lives on in that one only, so it shares its fate.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import { isConflictCopy } from '../../src/sync/conflict-copy.js';
import type { FsEvent } from '../../src/types.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import type { OutsideWriterConfig, SaveRecord } from './fixtures/outside-writer.js';
import { RecordingDisk, tokensOf, type DiskWrite } from './fixtures/recording-disk.js';
import { printFigures } from './harness/settings.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/outside-writer.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FILES = ['/race/a.jsonl', '/race/b.jsonl', '/race/notes.md'];
const MARKER = '/outside-done.md';
interface Acked {
  token: string;
  path: string;
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-outside-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Where the scopefs write of the save's path nearest to its effect ended, to tell a timing excuse from a real loss. */
function nearestWrite(writes: readonly DiskWrite[], save: SaveRecord): string {
  const from = BigInt(save.effectFrom);
  const to = BigInt(save.savedAt);
  const ofPath = writes.filter((w) => w.path === save.path);
  if (ofPath.length === 0) return 'no scopefs write of this path';
  const distance = (w: DiskWrite) => (w.end < from ? from - w.end : w.end > to ? w.end - to : 0n);
  const nearest = ofPath.reduce((a, b) => (distance(b) < distance(a) ? b : a));
  const us = (ns: bigint) => `${Number(ns) / 1000} µs`;
  return `effect took ${us(to - from)}; nearest scopefs write ended ${nearest.end < from ? `${us(from - nearest.end)} before` : nearest.end > to ? `${us(nearest.end - to)} after` : 'inside'} it`;
}

/** Starts the outside writer; resolves with every save it logged once it exited. */
function outsideWriter(config: OutsideWriterConfig): Promise<SaveRecord[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(config)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const saves: SaveRecord[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => saves.push(JSON.parse(line) as SaveRecord));
  return once(child, 'close').then(([code]) => {
    if (code !== 0) throw new Error(`the outside writer exited with ${code}: ${stderr}`);
    return saves;
  });
}

/** Appends or rewrites (compare-and-swap on the revision read) one JSON line with `token`; true once acknowledged. */
async function apiSave(scope: RunningScope, path: string, token: string, rewrite: boolean): Promise<boolean> {
  const line = `${JSON.stringify({ w: 'api', t: token })}\n`;
  if (!rewrite) return scope.fs.appendFile(path, line).then(() => true);
  for (let attempt = 0; attempt < 20; attempt++) {
    const { revision } = await scope.fs.stat(path);
    const text = await scope.fs.readFile(path);
    try {
      await scope.fs.writeFile(path, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}`, { ifRevision: revision });
      return true;
    } catch (err) {
      if (!isScopeFsError(err, 'ESTALE')) throw err;
    }
  }
  return false;
}

/** Flushes until nothing is left to write (a flush that finds the disk changed reconciles and writes again). */
async function settle(scope: RunningScope): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const result = await scope.fs.flushAll();
    if (result.failed.length === 0 && (await scope.fs.stats()).dirty === 0) return;
  }
  throw new Error('the scope kept having unwritten changes');
}

/** Every file the scope serves and every file on disk under the root (engine state aside), by name. */
async function everything(scope: RunningScope, root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const path of await scope.fs.listFiles('/')) files.set(`memory:${path}`, await scope.fs.readFile(path));
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const full = join(entry.parentPath, entry.name);
    if (!entry.isFile() || full.includes('.scopefs')) continue;
    files.set(`disk:${full.slice(root.length)}`, await readFile(full, 'utf8'));
  }
  return files;
}

describe('an outside writer process racing the persister (watcher on)', () => {
  it('every outside save and every acknowledged write ends up in the file, merged, or in a recorded conflict copy', async () => {
    const root = join(dir, 'race');
    // No fsync: a write then takes microseconds, so its recorded span is close to its check-and-rename.
    const driver = new RecordingDisk({ root, fsync: false });
    const scope = await startScope({ scopeKey: 'outside-race', root, configs: [{ base: '/', default: true, driver }], debounceMs: 20, watch: true });
    const events: FsEvent[] = [];
    let markerSeen!: () => void;
    const marker = new Promise<void>((resolve) => (markerSeen = resolve));
    scope.fs.subscribe((event) => {
      events.push(event);
      if (event.type === 'file_updated' && event.path === MARKER && event.origin === 'disk') markerSeen();
    });
    try {
      for (const path of FILES) await scope.fs.writeFile(path, `${JSON.stringify({ w: 'api', t: '#start0#' })}\n`);
      await scope.fs.flushAll();

      const saving = outsideWriter({ root, files: FILES, saves: 150, maxMs: 6_000, prefix: 'o', marker: MARKER });
      let outsideDone = false;
      void saving.finally(() => (outsideDone = true)).catch(() => undefined);
      const acked: Acked[] = [];
      const apiLoop = async (lane: number): Promise<void> => {
        for (let n = 0; !outsideDone && n < 400; n++) {
          const path = FILES[(n + lane) % FILES.length]!;
          const token = `#api${lane * 1000 + n}#`;
          if (await apiSave(scope, path, token, n % 3 === 2)) acked.push({ token, path });
          // Pacing, not waiting for anything: a few writes every debounce period, like an agent at work.
          await new Promise((resolve) => setTimeout(resolve, 3 + ((n * 7) % 9)));
        }
      };
      const [saves] = await Promise.all([saving, apiLoop(0), apiLoop(1)]);
      await marker; // the outside writer's last save is older than its marker, which the watcher has now taken in
      await settle(scope);

      const files = await everything(scope, root);
      const copies = [...files.keys()].filter((name) => isConflictCopy(name.slice(name.indexOf(':') + 1)));
      const recorded = new Set(events.flatMap((e) => (e.type === 'disk_conflict' ? [e.copyPath] : [])));
      const present = new Set([...files.values()].flatMap(tokensOf));

      // Memory and disk agree on every raced file, and no temp file of the outside writer is served.
      for (const path of FILES) expect(files.get(`disk:${path}`), path).toBe(files.get(`memory:${path}`));
      expect([...files.keys()].filter((name) => name.includes('.tmp-'))).toEqual([]);
      // Every conflict copy is recorded by a disk_conflict event.
      for (const name of copies) expect(recorded.has(name.slice(name.indexOf(':') + 1)), `${name} has no disk_conflict event`).toBe(true);
      expect(events.filter((e) => e.type === 'disk_alert' && e.alert !== 'refused')).toEqual([]);

      const landed = saves.filter((s) => s.landed);
      const writesOn = (path: string) => driver.writes.filter((w) => w.path === path);
      // The save landed between scopefs's check and its rename (the residual window), which ends its
      // write: the save's effect interval meets the last millisecond before that write returned. The
      // interval, not its end: a writer descheduled after its syscall reads the clock late.
      const overwrittenInWindow = (s: SaveRecord) =>
        driver.replacedWithin(s.path, BigInt(s.effectFrom), BigInt(s.savedAt), [s.token]).length > 0;
      // An outside save that read the file before scopefs wrote `token` there and wrote over it afterwards.
      const supersededByOutsideSave = (a: Acked) =>
        landed.some(
          (s) =>
            s.path === a.path &&
            !s.read.includes(a.token) &&
            writesOn(a.path).some((w) => w.tokens.has(a.token) && w.end >= BigInt(s.readAt) && w.start <= BigInt(s.savedAt)),
        );
      // A save whose bytes a later outside save read and rewrote lives on only in that later save
      // (the later one may have truncated the file before scopefs ever saw this one): it is excused
      // exactly when the later save is.
      const excused = new Map<SaveRecord, boolean>();
      const isExcused = (s: SaveRecord): boolean => {
        if (!excused.has(s)) {
          excused.set(s, false);
          const carriers = landed.filter((later) => later.path === s.path && later.read.includes(s.token) && !present.has(later.token));
          excused.set(s, overwrittenInWindow(s) || carriers.some(isExcused));
        }
        return excused.get(s)!;
      };
      const lostOutside = landed.filter((s) => !present.has(s.token) && !isExcused(s));
      const lostApi = acked.filter((a) => !present.has(a.token) && !supersededByOutsideSave(a));
      const excusedOutside = landed.filter((s) => !present.has(s.token)).length - lostOutside.length;
      const excusedApi = acked.filter((a) => !present.has(a.token)).length - lostApi.length;
      printFigures('outside-writer', {
        outsideSaves: saves.length,
        landed: landed.length,
        apiAcked: acked.length,
        diskWrites: driver.writes.length,
        conflictCopies: copies.length,
        mergedOrTakenIn: events.filter((e) => e.type === 'file_updated' && e.origin === 'disk').length,
        excusedOutside,
        excusedApi,
      });
      expect(saves.length).toBeGreaterThanOrEqual(90);
      expect(acked.length).toBeGreaterThanOrEqual(90);
      expect(lostOutside.map((s) => `${s.token} (${s.method} ${s.path}; ${nearestWrite(driver.writes, s)})`)).toEqual([]);
      expect(lostApi.map((a) => `${a.token} (${a.path})`)).toEqual([]);
    } finally {
      await scope.stop();
    }
  }, 60_000);
});
