import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { PRIVATE_FILE_MODE, SQLITE_SIDECARS, makePrivateFile, makeStateDirFor } from '../private-files.js';
import type { ConflictRecord } from './types.js';

/**
 * The sync engine's local state, one small SQLite database per scope root
 * (`.scopefs/sync-state.db`): per path the base both sides last agreed on and
 * the last remote state seen, content-addressed base blobs for merging, the
 * cursor, the instance id and open conflicts. Updates are incremental, so
 * the cost of a change does not grow with the number of files.
 *
 * Writes of paths, blobs, push intents and the cursor are staged in memory
 * and written by commit() in one transaction (the engine commits after each
 * step of a pass). Losing staged writes in a crash is safe because the
 * intent of every push is committed before the store sees it: a row the
 * store committed but this state never recorded comes back with this
 * instance's id and an intent's hash, and is adopted as the base (see
 * PathActions.observeRow), whatever the local file did since.
 *
 * A missing or corrupt database is moved aside and started empty: the next
 * reconciliation then treats every path as "no base", which can only lead to
 * pushes, pulls, base updates or conflicts, never to a silent overwrite.
 */
export interface PathRecord {
  path: string;
  owner: string;
  /** Hash of the content both sides agreed on; null = no agreed content. */
  baseHash: string | null;
  baseRevision: number;
  /** Last remote state seen; null hash = absent or tombstone. */
  remoteHash: string | null;
  remoteRevision: number;
}

/**
 * A push about to be sent, recorded before the store sees it. When the
 * process dies (or the connection drops) after the store committed it but
 * before its outcome was recorded, the row that comes back with this
 * instance's id and this hash is recognised as this instance's own content.
 */
export interface PushIntent {
  path: string;
  owner: string;
  /** Hash of the pushed content; null for a tombstone. */
  hash: string | null;
  /** The revision the push was a compare-and-swap on. */
  baseRevision: number;
}

const SCHEMA_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paths (
  path TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  base_hash TEXT,
  base_revision INTEGER NOT NULL DEFAULT 0,
  remote_hash TEXT,
  remote_revision INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS blobs (hash TEXT PRIMARY KEY, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS open_conflicts (copy_path TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS push_intents (
  path TEXT NOT NULL,
  owner TEXT NOT NULL,
  hash TEXT NOT NULL, -- '' for a tombstone
  base_revision INTEGER NOT NULL,
  PRIMARY KEY (path, hash)
);
`;

/** Upgrades from each earlier schema version, applied in order after SCHEMA. */
const UPGRADES: Record<number, string> = {
  // v2: conflicts keyed by their copy, since one path can hold several.
  2: `INSERT OR REPLACE INTO open_conflicts (copy_path, record)
        SELECT json_extract(record, '$.copyPath'), record FROM conflicts;
      DROP TABLE conflicts;`,
  // v3: push_intents (created by SCHEMA).
};

export class SyncStateDb {
  /** Set when the previous state could not be read and was moved aside. */
  readonly recovered: string | undefined;
  private readonly db: Database.Database;
  private readonly statements: Statements;
  private readonly stagedPaths = new Map<string, PathRecord>();
  private readonly stagedBlobs = new Map<string, Uint8Array>();
  private stagedCursor: number | undefined;
  /** Push intents by path (the source of truth in memory); paths whose intents changed since the last commit. */
  private readonly intents = new Map<string, PushIntent[]>();
  private readonly stagedIntentPaths = new Set<string>();

  private constructor(db: Database.Database, recovered: string | undefined) {
    this.db = db;
    this.recovered = recovered;
    this.statements = prepare(db);
    for (const raw of this.statements.allIntents.all() as RawIntent[]) {
      const intent = { path: raw.path, owner: raw.owner, hash: raw.hash === '' ? null : raw.hash, baseRevision: raw.base_revision };
      this.intents.set(raw.path, [...(this.intents.get(raw.path) ?? []), intent]);
    }
  }

  /**
   * Opens (or creates) the state database; `:memory:` for memory-only scopes.
   * A file already open in this process is not opened again: the caller gets
   * a handle on the open one (a scope's history reads the instance id before
   * its sync actor starts). Each handle's close() commits what is staged and
   * gives its use back; the last one closes the database.
   */
  static open(file: string): SyncStateDb {
    if (file === ':memory:') return new SyncStateDb(initialise(new Database(':memory:')), undefined);
    const key = resolve(file);
    let entry = openFiles.get(key);
    if (!entry?.state.isOpen) openFiles.set(key, (entry = { state: SyncStateDb.openFile(file), users: 0 }));
    const used = entry;
    return shareState(used, () => openFiles.get(key) === used && openFiles.delete(key));
  }

  private static openFile(file: string): SyncStateDb {
    makeStateDirFor(file);
    try {
      if (createFromTemplate(file)) return new SyncStateDb(initialise(new Database(file), true), undefined);
      makePrivateFile(file, SQLITE_SIDECARS);
      return new SyncStateDb(initialise(new Database(file)), undefined);
    } catch (err) {
      const aside = `${file}.corrupt-${Date.now()}`;
      if (existsSync(file)) renameSync(file, aside);
      for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
      const reason = `sync state was unreadable (${(err as Error).message}); moved to ${aside}, reconciling from scratch`;
      makePrivateFile(file);
      return new SyncStateDb(initialise(new Database(file)), reason);
    }
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    if (!this.db.open) return;
    this.commit();
    this.db.close();
  }

  getMeta(key: string): string | undefined {
    const row = this.statements.getMeta.get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.statements.setMeta.run(key, value);
  }

  get cursor(): number {
    return this.stagedCursor ?? Number(this.getMeta('cursor') ?? 0);
  }

  set cursor(value: number) {
    this.stagedCursor = value;
  }

  allPaths(): PathRecord[] {
    return (this.statements.allPaths.all() as RawPath[]).map(fromRaw);
  }

  putPath(record: PathRecord): void {
    this.stagedPaths.set(record.path, { ...record });
  }

  putBlob(hash: string, content: Uint8Array): void {
    this.stagedBlobs.set(hash, content);
  }

  getBlob(hash: string): Uint8Array | null {
    const staged = this.stagedBlobs.get(hash);
    if (staged) return staged;
    const row = this.statements.getBlob.get(hash) as { content: Buffer } | undefined;
    return row ? new Uint8Array(row.content) : null;
  }

  /** The pushes of `path` sent and not yet settled (normally none, at most a few after crashes). */
  pushIntents(path: string): readonly PushIntent[] {
    return this.intents.get(path) ?? [];
  }

  /** Stages intents (committed with the next commit(), which must come before the push). */
  putPushIntents(intents: readonly PushIntent[]): void {
    for (const intent of intents) {
      const others = this.pushIntents(intent.path).filter((i) => i.hash !== intent.hash);
      this.intents.set(intent.path, [...others, { ...intent }]);
      this.stagedIntentPaths.add(intent.path);
    }
  }

  /** Keeps only the intents of `path` that `keep` accepts (staged like putPushIntents). */
  settlePushIntents(path: string, keep: (intent: PushIntent) => boolean): void {
    const current = this.pushIntents(path);
    const kept = current.filter(keep);
    if (kept.length === current.length) return;
    if (kept.length === 0) this.intents.delete(path);
    else this.intents.set(path, kept);
    this.stagedIntentPaths.add(path);
  }

  /** Writes every staged path, blob, push intent and the cursor in one transaction. */
  commit(): void {
    const staged = this.stagedPaths.size + this.stagedBlobs.size + this.stagedIntentPaths.size;
    if (staged === 0 && this.stagedCursor === undefined) return;
    const { putPath, putBlob, deleteIntents, putIntent } = this.statements;
    this.transaction(() => {
      for (const [hash, content] of this.stagedBlobs) putBlob.run(hash, content);
      for (const r of this.stagedPaths.values()) {
        putPath.run(r.path, r.owner, r.baseHash, r.baseRevision, r.remoteHash, r.remoteRevision);
      }
      for (const path of this.stagedIntentPaths) {
        deleteIntents.run(path);
        for (const i of this.pushIntents(path)) putIntent.run(i.path, i.owner, i.hash ?? '', i.baseRevision);
      }
      if (this.stagedCursor !== undefined) this.setMeta('cursor', String(this.stagedCursor));
    });
    this.stagedPaths.clear();
    this.stagedBlobs.clear();
    this.stagedIntentPaths.clear();
    this.stagedCursor = undefined;
  }

  /** Drops blobs no base refers to any more. */
  collectGarbage(): number {
    this.commit();
    return this.statements.gcBlobs.run().changes;
  }

  conflicts(): ConflictRecord[] {
    return (this.statements.allConflicts.all() as Array<{ record: string }>).map((r) => JSON.parse(r.record));
  }

  putConflict(conflict: ConflictRecord): void {
    this.statements.putConflict.run(conflict.copyPath, JSON.stringify(conflict));
  }

  deleteConflict(copyPath: string): void {
    this.statements.deleteConflict.run(copyPath);
  }

  /** The configured instance id, else the one generated on first start and kept here. */
  instanceId(configured?: string): string {
    const saved = this.getMeta('instance_id');
    const id = configured ?? saved ?? generateInstanceId();
    // Written only when it changes: a commit per scope start would be a write for nothing.
    if (id !== saved) this.setMeta('instance_id', id);
    return id;
  }

  /**
   * Ties the state to one store identity (URL, app, owner); bases and the
   * cursor from another identity are forgotten, since they describe
   * agreement with a different store.
   */
  bindTo(identity: string): void {
    const saved = this.getMeta('store_identity');
    if (saved === identity) return;
    if (saved !== undefined) this.forgetRemote();
    this.setMeta('store_identity', identity);
  }

  /** Forgets every base, remote state and the cursor (used when the store identity changed). */
  forgetRemote(): void {
    this.stagedPaths.clear();
    this.stagedBlobs.clear();
    this.stagedCursor = undefined;
    this.intents.clear();
    this.stagedIntentPaths.clear();
    this.transaction(() => {
      this.db.exec('DELETE FROM paths; DELETE FROM blobs; DELETE FROM push_intents;');
      this.cursor = 0;
    });
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }
}

const openFiles = new Map<string, { state: SyncStateDb; users: number }>();

/** One user's handle on a shared state: the state itself, with a close() of its own. */
function shareState(entry: { state: SyncStateDb; users: number }, forget: () => void): SyncStateDb {
  entry.users += 1;
  let released = false;
  const close = (): void => {
    if (released) return;
    released = true;
    if (--entry.users > 0) return entry.state.commit();
    forget();
    entry.state.close();
  };
  return new Proxy(entry.state, {
    get: (target, key) => (key === 'close' ? close : Reflect.get(target, key, target)),
    set: (target, key, value) => Reflect.set(target, key, value, target),
  });
}

function generateInstanceId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '').slice(0, 16) || 'node';
  return `${host}-${randomBytes(3).toString('hex')}`;
}

/**
 * A new state file is written in one go from an image of an empty, current
 * database (built once per process), instead of being given its schema
 * statement by statement: most of the cost of a scope's first start. Its
 * header marks it as a WAL database, so it opens in WAL mode as a file
 * switched by `journal_mode = WAL` would. It is not fsynced, as a schema
 * written under `synchronous = OFF` is not: a file a power loss left
 * unreadable is moved aside and started empty, as new. False when the file
 * exists (or appeared meanwhile): it is opened as it is.
 */
function createFromTemplate(file: string): boolean {
  if (existsSync(file)) return false;
  // A database's sidecars left without it would be applied to the new one: the ordinary path handles them.
  if (SQLITE_SIDECARS.some((suffix) => existsSync(file + suffix))) return false;
  try {
    writeFileSync(file, emptyImage(), { flag: 'wx', mode: PRIVATE_FILE_MODE });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

let template: Buffer | undefined;

/** The bytes of an empty state database of the current schema, in WAL mode. */
function emptyImage(): Buffer {
  if (template) return template;
  const db = new Database(':memory:');
  try {
    createOrUpgrade(db, 0);
    const image = Buffer.from(db.serialize());
    // File format write and read versions (header bytes 18 and 19): 2 is WAL, what `journal_mode = WAL` writes.
    image[18] = 2;
    image[19] = 2;
    template = image;
    return image;
  } finally {
    db.close();
  }
}

/** Checks the schema version (and upgrades), sets WAL and NORMAL sync. `fromTemplate`: a file emptyImage() just wrote. */
function initialise(db: Database.Database, fromTemplate = false): Database.Database {
  if (fromTemplate) {
    // The first write to a new WAL syncs its header unless synchronous is OFF: one write (the version
    // it already has) starts the WAL without it, as the schema did on a file created statement by statement.
    db.pragma('synchronous = OFF');
    db.pragma('journal_mode = WAL');
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.pragma('synchronous = NORMAL');
    db.prepare('SELECT count(*) FROM paths').get();
    return db;
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new Error(`sync state schema ${version} is newer than this build (${SCHEMA_VERSION})`);
  }
  // A new file is switched to WAL and given its schema without fsyncs (two
  // per scope start, most of its cost): under NORMAL nothing is synced before
  // the first checkpoint anyway, which syncs these pages too, and a file a
  // power loss left unreadable is moved aside and started empty, as new.
  db.pragma(`synchronous = ${version === 0 ? 'OFF' : 'NORMAL'}`);
  db.pragma('journal_mode = WAL');
  // A current schema needs no write transaction: it would only cost a commit on every scope start.
  if (version < SCHEMA_VERSION) createOrUpgrade(db, version);
  db.pragma('synchronous = NORMAL');
  // Reading one row proves the file is a usable database, not just a header.
  db.prepare('SELECT count(*) FROM paths').get();
  return db;
}

function createOrUpgrade(db: Database.Database, version: number): void {
  db.transaction(() => {
    db.exec(SCHEMA);
    for (let next = version + 1; version > 0 && next <= SCHEMA_VERSION; next++) {
      const upgrade = UPGRADES[next];
      if (upgrade) db.exec(upgrade);
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

interface RawPath {
  path: string;
  owner: string;
  base_hash: string | null;
  base_revision: number;
  remote_hash: string | null;
  remote_revision: number;
}

interface RawIntent {
  path: string;
  owner: string;
  hash: string;
  base_revision: number;
}

function fromRaw(raw: RawPath): PathRecord {
  return {
    path: raw.path,
    owner: raw.owner,
    baseHash: raw.base_hash,
    baseRevision: raw.base_revision,
    remoteHash: raw.remote_hash,
    remoteRevision: raw.remote_revision,
  };
}

/** The statements' SQL; each is prepared on first use (preparing all of them cost every scope start 0.2 ms). */
const SQL = {
  getMeta: 'SELECT value FROM meta WHERE key = ?',
  setMeta: 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  allPaths: 'SELECT * FROM paths',
  putPath: `INSERT INTO paths (path, owner, base_hash, base_revision, remote_hash, remote_revision) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(path) DO UPDATE SET owner = excluded.owner, base_hash = excluded.base_hash,
         base_revision = excluded.base_revision, remote_hash = excluded.remote_hash, remote_revision = excluded.remote_revision`,
  putBlob: 'INSERT OR IGNORE INTO blobs (hash, content) VALUES (?, ?)',
  getBlob: 'SELECT content FROM blobs WHERE hash = ?',
  gcBlobs: 'DELETE FROM blobs WHERE hash NOT IN (SELECT base_hash FROM paths WHERE base_hash IS NOT NULL)',
  allConflicts: 'SELECT record FROM open_conflicts ORDER BY copy_path',
  putConflict: 'INSERT INTO open_conflicts (copy_path, record) VALUES (?, ?) ON CONFLICT(copy_path) DO UPDATE SET record = excluded.record',
  deleteConflict: 'DELETE FROM open_conflicts WHERE copy_path = ?',
  allIntents: 'SELECT * FROM push_intents',
  deleteIntents: 'DELETE FROM push_intents WHERE path = ?',
  putIntent: 'INSERT INTO push_intents (path, owner, hash, base_revision) VALUES (?, ?, ?, ?)',
} as const;

type Statements = { readonly [K in keyof typeof SQL]: Database.Statement };

function prepare(db: Database.Database): Statements {
  const prepared: Partial<Record<keyof typeof SQL, Database.Statement>> = {};
  const statements = {} as Statements;
  for (const key of Object.keys(SQL) as Array<keyof typeof SQL>) {
    Object.defineProperty(statements, key, { get: () => (prepared[key] ??= db.prepare(SQL[key])) });
  }
  return statements;
}
