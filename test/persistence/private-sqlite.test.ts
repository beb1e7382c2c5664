import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPrivateSqlite } from '../../persistence/sql/private-sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-private-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let opened = 0;
const open = (file: string) =>
  openPrivateSqlite(file, { label: 'test' }, (path, timeout) => (opened++, new Database(path, { timeout })));

describe('openPrivateSqlite', () => {
  it('gives every opener of one file a handle on one connection; the last close closes it', () => {
    const file = join(dir, 'shared.db');
    const before = opened;
    const a = open(file);
    const b = open(file);
    expect(opened - before).toBe(1);
    // A TEMP table lives in its connection only: b sees a's.
    a.exec('CREATE TEMP TABLE only_here (x)');
    expect(b.prepare("SELECT count(*) AS n FROM temp.sqlite_master WHERE name = 'only_here'").get()).toEqual({ n: 1 });
    a.close();
    a.close(); // idempotent: does not give b's use back
    expect(a.open).toBe(false);
    expect(b.open).toBe(true);
    expect(b.prepare('SELECT 1 AS one').get()).toEqual({ one: 1 });
    b.close();
    expect(b.open).toBe(false);
    // All handles closed: the next opener gets a fresh connection.
    const c = open(file);
    expect(opened - before).toBe(2);
    expect(c.prepare("SELECT count(*) AS n FROM temp.sqlite_master WHERE name = 'only_here'").get()).toEqual({ n: 0 });
    c.close();
  });

  it('commits through a shared handle are durable in the file (WAL, synchronous FULL)', () => {
    const file = join(dir, 'durable.db');
    const a = open(file);
    expect(a.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(a.pragma('synchronous', { simple: true })).toBe(2);
    a.exec('CREATE TABLE t (x)');
    a.prepare('INSERT INTO t VALUES (1)').run();
    a.close();
    const other = new Database(file);
    expect(other.prepare('SELECT x FROM t').all()).toEqual([{ x: 1 }]);
    other.close();
  });

  it('keeps :memory: databases apart', () => {
    const a = open(':memory:');
    const b = open(':memory:');
    a.exec('CREATE TABLE t (x)');
    expect(() => b.prepare('SELECT x FROM t').all()).toThrow();
    a.close();
    b.close();
  });
});
