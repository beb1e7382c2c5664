/**
 * One better-sqlite3 connection with the SQLite store's statements prepared
 * once, and a count of every statement executed (transactions count their
 * BEGIN and COMMIT) so benchmarks can show what idle sync costs.
 */
import Database from 'better-sqlite3';
import { asBuffer } from '../../src/content.js';
import { SQLITE_SIDECARS, makePrivateFile } from '../../src/private-files.js';
import type { LeaseRecord } from '../stores/lease-rules.js';
import type { StoreRow } from '../stores/types.js';
import { ensureSchema } from './sqlite-schema.js';

/** A row as SQLite returns it: `deleted` as 0/1, snake_case times. */
type RawRow = Omit<StoreRow, 'deleted' | 'content' | 'updatedAt' | 'updatedBy' | 'batch'> & {
  deleted: number;
  content: Buffer | null;
  updated_at: number;
  updated_by: string;
  batch: string | null;
};

/** A row to write: `deleted` follows from `content` being null. */
export type RowWrite = Omit<StoreRow, 'deleted'>;

const COLUMNS = 'app, owner, path, revision, hash, size, deleted, content, updated_at, updated_by, batch';
const BY_IDENTITY = 'WHERE app = ? AND owner = ? AND path = ?';

const SQL = {
  head: 'SELECT head FROM scopefs_heads WHERE app = ?',
  heads: 'SELECT app, head FROM scopefs_heads',
  setHead: `INSERT INTO scopefs_heads (app, head) VALUES (?, ?)
            ON CONFLICT (app) DO UPDATE SET head = excluded.head`,
  revision: `SELECT revision FROM scopefs_files ${BY_IDENTITY}`,
  row: `SELECT ${COLUMNS} FROM scopefs_files ${BY_IDENTITY}`,
  upsert: `INSERT INTO scopefs_files (${COLUMNS})
           VALUES (@app, @owner, @path, @revision, @hash, @size, @deleted, @content, @updatedAt, @updatedBy, @batch)
           ON CONFLICT (app, owner, path) DO UPDATE SET
             revision = excluded.revision, hash = excluded.hash, size = excluded.size,
             deleted = excluded.deleted, content = excluded.content,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by, batch = excluded.batch`,
  // Owners arrive as one JSON array so a single prepared statement serves any number of them.
  feed: `SELECT ${COLUMNS} FROM scopefs_files
         WHERE app = ? AND revision > ? AND owner IN (SELECT value FROM json_each(?))
         ORDER BY revision LIMIT ?`,
  dataVersion: 'PRAGMA data_version',
  lease: 'SELECT name, holder, token, expires_at AS expiresAt FROM scopefs_leases WHERE name = ?',
  saveLease: `INSERT INTO scopefs_leases (name, holder, token, expires_at) VALUES (@name, @holder, @token, @expiresAt)
              ON CONFLICT (name) DO UPDATE SET
                holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at`,
} as const;

type Statements = { [K in keyof typeof SQL]: Database.Statement };

export interface ConnectionOptions {
  /** How long SQLite itself waits for a lock before reporting SQLITE_BUSY. */
  busyTimeoutMs: number;
}

export class SqliteConnection {
  private readonly db: Database.Database;
  private readonly statements: Statements;
  queryCount = 0;

  constructor(file: string, options: ConnectionOptions) {
    // The store holds every synced file: only its owner may read it (SQLite gives the -wal and -shm the same mode).
    makePrivateFile(file, SQLITE_SIDECARS);
    this.db = new Database(file, { timeout: options.busyTimeoutMs });
    try {
      this.db.pragma('journal_mode = WAL');
      // FULL fsyncs every commit (about 0.3 ms here). NORMAL could lose the last commits on power
      // loss after other instances had already pulled them, and then hand their revisions out again.
      this.db.pragma('synchronous = FULL');
      ensureSchema(this.db, file);
      this.queryCount += 3;
      this.statements = Object.fromEntries(
        Object.entries(SQL).map(([name, sql]) => [name, this.db.prepare(sql)]),
      ) as Statements;
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    this.db.close();
  }

  /** Runs `work` in a read transaction: every statement in it sees one snapshot. */
  read<T>(work: () => T): T {
    this.queryCount += 2;
    return this.db.transaction(work).deferred();
  }

  /** Runs `work` holding the database's single write lock from the start. */
  write<T>(work: () => T): T {
    this.queryCount += 2;
    return this.db.transaction(work).immediate();
  }

  head(app: string): number {
    return this.pluck<number>('head', app) ?? 0;
  }

  /** Every app's head in one statement (apps without one are absent: their head is 0). */
  heads(): Map<string, number> {
    this.queryCount++;
    const rows = this.statements.heads.all() as Array<{ app: string; head: number }>;
    return new Map(rows.map((row) => [row.app, row.head]));
  }

  setHead(app: string, head: number): void {
    this.queryCount++;
    this.statements.setHead.run(app, head);
  }

  /** The current revision of a row; 0 when there is none. */
  revision(app: string, owner: string, path: string): number {
    return this.pluck<number>('revision', app, owner, path) ?? 0;
  }

  row(app: string, owner: string, path: string): StoreRow | null {
    this.queryCount++;
    const raw = this.statements.row.get(app, owner, path) as RawRow | undefined;
    return raw ? toStoreRow(raw) : null;
  }

  upsert(row: RowWrite): void {
    this.queryCount++;
    this.statements.upsert.run({
      app: row.app,
      owner: row.owner,
      path: row.path,
      revision: row.revision,
      hash: row.hash,
      size: row.size,
      deleted: row.content === null ? 1 : 0,
      content: row.content && asBuffer(row.content),
      updatedAt: row.updatedAt,
      updatedBy: row.updatedBy,
      batch: row.batch ?? null,
    });
  }

  /** Rows of `owners` after `cursor`, ascending, read lazily so a caller can stop early. */
  *feed(app: string, owners: readonly string[], cursor: number, limit: number): Generator<StoreRow> {
    this.queryCount++;
    for (const raw of this.statements.feed.iterate(app, cursor, JSON.stringify(owners), limit)) {
      yield toStoreRow(raw as RawRow);
    }
  }

  lease(name: string): LeaseRecord | undefined {
    this.queryCount++;
    return this.statements.lease.get(name) as LeaseRecord | undefined;
  }

  saveLease(lease: LeaseRecord): void {
    this.queryCount++;
    this.statements.saveLease.run(lease);
  }

  /** Changes whenever another connection commits; cheap (no table access). */
  dataVersion(): number {
    return this.pluck<number>('dataVersion') ?? 0;
  }

  private pluck<T>(name: keyof Statements, ...args: unknown[]): T | undefined {
    this.queryCount++;
    const raw = this.statements[name].get(...args) as Record<string, T> | undefined;
    return raw === undefined ? undefined : Object.values(raw)[0];
  }
}

function toStoreRow(raw: RawRow): StoreRow {
  return {
    app: raw.app,
    owner: raw.owner,
    path: raw.path,
    revision: raw.revision,
    hash: raw.hash,
    size: raw.size,
    deleted: raw.deleted === 1,
    content: raw.deleted === 1 ? null : raw.content,
    updatedAt: raw.updated_at,
    updatedBy: raw.updated_by,
    ...(raw.batch === null ? {} : { batch: raw.batch }),
  };
}
