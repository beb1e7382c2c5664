import { appendFileSync, copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDriver } from '../../persistence/drivers/memory.js';
import { JOURNAL_MAGIC, decodeJournal, encodeRecord, encodeRecordChunks, type JournalOp } from '../../src/fs/journal-codec.js';
import { Journal } from '../../src/fs/journal.js';
import { Servers, tempDir, until } from './helpers.js';

const servers = new Servers();
let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir();
});
/** Blocked driver operations, released before the servers stop (a stop flushes). */
const blocked: Array<() => void> = [];
const block = (driver: MemoryDriver, op: 'write' | 'delete') => blocked.push(driver.block(op));
afterEach(async () => {
  for (const release of blocked.splice(0)) release();
  await servers.stopAll();
  await dir.remove();
});

const put = (path: string, content: string): JournalOp => ({
  op: 'put',
  path,
  content: new Uint8Array(Buffer.from(content)),
  mimeType: 'text/plain',
  createdAt: 1,
  modifiedAt: 2,
});

/** A driver holding the same files as `driver`: the persisted state a killed process leaves behind. */
function copyOf(driver: MemoryDriver): MemoryDriver {
  const copy = new MemoryDriver();
  copy.seed(Object.fromEntries(driver.paths().map((p) => [p, driver.peek(p)!])));
  return copy;
}

describe('journal format', () => {
  const records = [[put('/a.md', 'alpha')], [put('/b.bin', '\u0000\u00ff'), { op: 'delete', path: '/a.md' } as JournalOp], [put('/c.md', '')]];
  const file = Buffer.concat([JOURNAL_MAGIC, ...records.map((r) => encodeRecord(r))]);

  it('round-trips records, bytes included', () => {
    const decoded = decodeJournal(file);
    expect(decoded.records).toEqual(records);
    expect(decoded).toMatchObject({ validBytes: file.byteLength, ignoredBytes: 0 });
  });

  it('ignores a torn last record at every possible cut, keeping all complete ones', () => {
    const lastStart = file.byteLength - encodeRecord(records[2]!).byteLength;
    for (let cut = lastStart; cut < file.byteLength; cut++) {
      const decoded = decodeJournal(file.subarray(0, cut));
      expect(decoded.records).toEqual(records.slice(0, 2));
      expect(decoded.ignoredBytes).toBe(cut - lastStart);
    }
  });

  it('stops at a record whose checksum does not match', () => {
    const corrupted = Buffer.from(file);
    corrupted[corrupted.byteLength - 3]! ^= 0xff;
    expect(decodeJournal(corrupted).records).toEqual(records.slice(0, 2));
  });

  it('checksums every content of a record written in pieces: a flipped byte in any of them drops the record', () => {
    const record = [put('/one.bin', 'first content'), put('/two.bin', 'second content')];
    const { chunks, bytes } = encodeRecordChunks(record);
    const joined = Buffer.concat([JOURNAL_MAGIC, ...chunks]);
    expect(joined.byteLength).toBe(JOURNAL_MAGIC.byteLength + bytes);
    expect(decodeJournal(joined).records).toEqual([record]);
    for (const offset of [joined.indexOf('first'), joined.indexOf('second')]) {
      const corrupted = Buffer.from(joined);
      corrupted[offset]! ^= 0xff;
      expect(decodeJournal(corrupted).records).toEqual([]);
    }
  });

  it('treats a partial magic as an empty journal and a foreign file as an error', () => {
    expect(decodeJournal(JOURNAL_MAGIC.subarray(0, 3)).records).toEqual([]);
    expect(() => decodeJournal(Buffer.from('hello world, not a journal'))).toThrow(/magic/);
  });
});

describe('Journal file', () => {
  it('appends, rewrites atomically, truncates, and reads back', () => {
    const path = join(dir.path, 'sub', 'journal');
    expect(Journal.read(path).records).toEqual([]);
    const journal = Journal.create(path, [put('/x', 'initial')]);
    journal.append([put('/y', 'appended')]);
    expect(Journal.read(path).records.map((r) => r[0]!.path)).toEqual(['/x', '/y']);
    journal.rewrite([put('/z', 'only')]);
    journal.append([{ op: 'delete', path: '/z' }]);
    expect(Journal.read(path).records.map((r) => r[0]!.op)).toEqual(['put', 'delete']);
    journal.truncate();
    expect(journal.empty).toBe(true);
    expect(statSync(path).size).toBe(JOURNAL_MAGIC.byteLength);
    journal.close();
    expect(Journal.read(path).records).toEqual([]);
  });
});

describe('Journal file: a new empty journal', () => {
  it('is created owner-only holding just the magic, appends after it, and truncates back to it', () => {
    const path = join(dir.path, 'fresh', 'journal');
    const journal = Journal.create(path, []);
    expect(readFileSync(path)).toEqual(JOURNAL_MAGIC);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    journal.append([put('/a', 'one')]);
    journal.truncate();
    // Appending after a truncate writes at the end, not at the old offset (the fd appends).
    journal.append([put('/b', 'two')]);
    expect(Journal.read(path).records.map((r) => r[0]!.path)).toEqual(['/b']);
    expect(statSync(path).size).toBe(journal.bytes);
    journal.close();
    expect(Journal.read(path).records.map((r) => r[0]!.path)).toEqual(['/b']);
  });

  it('replaces an existing journal atomically: its records are gone only once the new file is in place', () => {
    const path = join(dir.path, 'journal');
    Journal.create(path, [put('/old', 'x')]).close();
    const journal = Journal.create(path, []);
    expect(Journal.read(path).records).toEqual([]);
    expect(existsSync(`${path}.rewrite`)).toBe(false);
    journal.append([put('/new', 'y')]);
    journal.close();
    expect(Journal.read(path).records.map((r) => r[0]!.path)).toEqual(['/new']);
  });

  it('with fsyncEachRecord: records appended to a new journal read back after close', () => {
    const path = join(dir.path, 'synced', 'journal');
    const journal = Journal.create(path, [], { fsyncEachRecord: true });
    journal.append([put('/a', 'one')]);
    journal.append([put('/b', 'two')]);
    journal.close();
    expect(Journal.read(path).records.map((r) => r[0]!.path)).toEqual(['/a', '/b']);
  });
});

describe('FileSystemServer: journal durability', () => {
  async function journaled(driver = new MemoryDriver(), extra = {}) {
    const journalPath = join(dir.path, 'journal');
    const fs = await servers.start({ journalPath, debounceMs: 60_000, configs: [{ base: '/', driver, default: true }], ...extra });
    return { fs, driver, journalPath };
  }

  it('a write is in the journal when it resolves; a crash before persisting loses nothing', async () => {
    const { fs, driver, journalPath } = await journaled();
    await fs.writeFile('/kept.md', 'v1');
    await fs.flushAll();
    block(driver, 'write'); // nothing reaches the driver any more
    block(driver, 'delete');
    await fs.writeFile('/kept.md', 'v2');
    await fs.writeFile('/new.bin', new Uint8Array([0, 1, 2, 255]));
    await fs.writeFile('/doomed.md', 'x');
    await fs.deleteFile('/doomed.md');
    await fs.moveFile('/kept.md', '/moved.md');
    await fs.appendFile('/new.bin', new Uint8Array([7]));

    const crashed = join(dir.path, 'crashed-journal');
    copyFileSync(journalPath, crashed); // the journal as a SIGKILL would leave it
    const recovered = await servers.start({ journalPath: crashed, configs: [{ base: '/', driver: copyOf(driver), default: true }] });
    expect(await recovered.listFiles()).toEqual(['/moved.md', '/new.bin']);
    expect(await recovered.readFile('/moved.md')).toBe('v2');
    expect(await recovered.readFile('/new.bin', { encoding: 'bytes' })).toEqual(new Uint8Array([0, 1, 2, 255, 7]));
  });

  it('replay persists the recovered state and then empties the journal', async () => {
    const { fs, driver, journalPath } = await journaled();
    block(driver, 'write');
    await fs.writeFile('/a.md', 'a');
    const crashed = join(dir.path, 'crashed');
    copyFileSync(journalPath, crashed);
    const target = copyOf(driver);
    const recovered = await servers.start({ journalPath: crashed, configs: [{ base: '/', driver: target, default: true }] });
    await until(() => target.peekText('/a.md') === 'a');
    await until(() => statSync(crashed).size === JOURNAL_MAGIC.byteLength);
    expect((await recovered.stat('/a.md')).dirty).toBe(false);
  });

  it('ignores a torn last record and keeps appending after it', async () => {
    const { fs, driver, journalPath } = await journaled();
    block(driver, 'write');
    await fs.writeFile('/whole.md', 'whole');
    const crashed = join(dir.path, 'torn');
    copyFileSync(journalPath, crashed);
    const torn = encodeRecord([put('/torn.md', 'never acknowledged')]);
    appendFileSync(crashed, torn.subarray(0, torn.byteLength - 5));
    const target = copyOf(driver);
    block(target, 'write');
    const recovered = await servers.start({ journalPath: crashed, configs: [{ base: '/', driver: target, default: true }] });
    expect(await recovered.listFiles()).toEqual(['/whole.md']);
    await recovered.writeFile('/after.md', 'after');
    expect(decodeJournal(readFileSync(crashed)).records.flat().map((op) => op.path).sort()).toEqual(['/after.md', '/whole.md']);
  });

  it('truncates the journal after a flush, and leaves it empty after a clean stop', async () => {
    const { fs, journalPath } = await journaled();
    await fs.writeFile('/a.md', 'a');
    await fs.writeFile('/a.md', 'b');
    expect(statSync(journalPath).size).toBeGreaterThan(JOURNAL_MAGIC.byteLength);
    await fs.flushAll();
    expect(statSync(journalPath).size).toBe(JOURNAL_MAGIC.byteLength);
    await fs.writeFile('/a.md', 'c');
    await fs.stop();
    expect(statSync(journalPath).size).toBe(JOURNAL_MAGIC.byteLength);
  });

  it('compacts a growing journal down to the changes not yet persisted', async () => {
    const { fs, journalPath } = await journaled();
    const mib = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 8; i++) await fs.writeFile('/big.txt', `${i}${mib}`); // one file, never persisted (60 s debounce)
    expect(statSync(journalPath).size).toBeLessThan(5 * 1024 * 1024);
    const records = decodeJournal(readFileSync(journalPath)).records.flat();
    expect(Buffer.from((records.at(-1) as Extract<JournalOp, { op: 'put' }>).content).toString().startsWith('7')).toBe(true);
  });

  it('a stop that cannot persist leaves the changes in the journal for the next start', async () => {
    const { fs, driver, journalPath } = await journaled(new MemoryDriver(), { retry: { initialMs: 60_000 } });
    driver.failNext('write', 100);
    await fs.writeFile('/stuck.md', 'precious');
    await fs.stop();
    const records = decodeJournal(readFileSync(journalPath)).records.flat();
    expect(records.map((op) => op.path)).toEqual(['/stuck.md']);
    const target = new MemoryDriver();
    const again = await servers.start({ journalPath, configs: [{ base: '/', driver: target, default: true }] });
    expect(await again.readFile('/stuck.md')).toBe('precious');
    await until(() => target.peekText('/stuck.md') === 'precious');
  });

  it('memory-only paths are not journaled', async () => {
    const journalPath = join(dir.path, 'journal');
    const fs = await servers.start({ journalPath, configs: [{ base: '/kept', driver: new MemoryDriver() }] });
    await fs.writeFile('/scratch.md', 'x'.repeat(1000));
    expect(statSync(journalPath).size).toBe(JOURNAL_MAGIC.byteLength);
  });

  it('journal durability without a journal path behaves as debounced', async () => {
    const driver = new MemoryDriver();
    const fs = await servers.start({ durability: 'journal', debounceMs: 60_000, configs: [{ base: '/', driver, default: true }] });
    await fs.writeFile('/a.md', 'a');
    await fs.writeFile('/a.md', 'b');
    expect((await fs.stats()).pendingTimers).toBe(1);
  });

  it('a journal left by a crashed run is recovered in debounced mode too, then removed', async () => {
    const journalPath = join(dir.path, 'journal');
    writeFileSync(journalPath, Buffer.concat([JOURNAL_MAGIC, encodeRecord([put('/left.md', 'left over')])]));
    const driver = new MemoryDriver();
    await servers.start({ journalPath, durability: 'debounced', configs: [{ base: '/', driver, default: true }] });
    await until(() => driver.peekText('/left.md') === 'left over');
    await until(() => !existsSync(journalPath));
  });

  it('refuses to start on a file that is not a journal', async () => {
    const journalPath = join(dir.path, 'journal');
    writeFileSync(journalPath, 'definitely not a journal');
    await expect(servers.start({ journalPath })).rejects.toMatchObject({ code: 'EINVAL' });
    expect(readFileSync(journalPath, 'utf8')).toBe('definitely not a journal');
  });
});
