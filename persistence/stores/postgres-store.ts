/**
 * The PostgreSQL SyncStore: a `pg` pool calling the scopefs SQL functions,
 * plus one dedicated LISTEN connection for hints.
 *
 * scopefs_push sends `NOTIFY scopefs, '{"app":…,"head":…}'` in its
 * transaction, so a hint arrives only after the change is visible. The
 * payload never carries content (NOTIFY payloads stop at 8000 bytes; app names
 * are capped at 1000 bytes). After the LISTEN connection is lost and back,
 * watchers get `{ reconnected: true }` and catch up by cursor. An idle
 * watching store sends no queries at all.
 */
import pg from 'pg';
import { ScopeFsError, errorMessage } from '../../src/errors.js';
import { migrate } from '../sql/migrate.js';
import { CONNECTION_DEFAULTS, pgError, redactConnectionString } from '../sql/pg-connection.js';
import { PgListener } from '../sql/pg-listener.js';
import { SqlFunctionStore } from '../sql/sql-function-store.js';
import { NOTIFY_CHANNEL, SQL_FUNCTIONS, type SqlArgs, type SqlFunctionName } from '../sql/sql-store-mapping.js';
import { HintListeners } from './store-hints.js';
import { checkName } from './store-input.js';
import type { StoreHint } from './types.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/db`; defaults to DATABASE_URL. */
  connectionString?: string;
  /** Pool size (default 10). */
  poolSize?: number;
  /** Apply pending migrations on open (default true); otherwise an old schema is refused with ESCHEMA. */
  autoMigrate?: boolean;
  /** First delay before the LISTEN connection reconnects (default 100 ms; doubles up to 10 s). */
  reconnectDelayMs?: number;
}

const DEFAULT_POOL_SIZE = 10;

/** The table's entry for `postgres://` and `postgresql://` URLs. */
export function storeFromUrl(url: string): PostgresStore {
  return new PostgresStore({ connectionString: url });
}

export class PostgresStore extends SqlFunctionStore {
  readonly url: string;
  private readonly connectionString: string;
  private readonly options: PostgresStoreOptions;
  private readonly hints = new HintListeners();
  private readonly lockHints = new HintListeners();
  private pool: pg.Pool | null = null;
  private opening: Promise<void> | null = null;
  private listener: PgListener | null = null;
  private listening: Promise<void> | null = null;

  constructor(options: PostgresStoreOptions = {}) {
    super();
    const connectionString = options.connectionString ?? process.env.DATABASE_URL;
    if (!connectionString) {
      throw new ScopeFsError('EINVAL', 'postgres store needs a connection string: pass connectionString or set DATABASE_URL');
    }
    this.connectionString = connectionString;
    this.url = redactConnectionString(connectionString);
    this.options = options;
  }

  /** Applies or checks the schema and creates the pool. Idempotent. */
  open(): Promise<void> {
    if (this.pool) return Promise.resolve();
    this.opening ??= this.connect().finally(() => (this.opening = null));
    return this.opening;
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => undefined);
    this.hints.clear();
    this.lockHints.clear();
    const { pool, listener } = this;
    this.pool = null;
    this.listener = null;
    this.listening = null;
    await listener?.close();
    await pool?.end().catch(() => undefined);
  }

  async watch(app: string, listener: (hint: StoreHint) => void): Promise<() => Promise<void>> {
    checkName('app', app);
    this.requirePool('watch');
    await this.startListening();
    // Without its LISTEN connection a watcher would wait for hints that never come.
    if (!this.listener?.connected) {
      throw new ScopeFsError('EIO', `postgres store ${this.url}: the LISTEN connection is down and reconnecting; try again shortly`);
    }
    const remove = this.hints.add(app, listener);
    return async () => remove();
  }

  /**
   * Hints that the app's store locks changed (a lock taken, released or
   * swept), on the same LISTEN connection; `error`/`reconnected` as watch().
   */
  async watchLocks(app: string, listener: (hint: StoreHint) => void): Promise<() => void> {
    checkName('app', app);
    this.requirePool('watchLocks');
    await this.startListening();
    if (!this.listener?.connected) {
      throw new ScopeFsError('EIO', `postgres store ${this.url}: the LISTEN connection is down and reconnecting; try again shortly`);
    }
    return this.lockHints.add(app, listener);
  }

  protected async callFunction(fn: SqlFunctionName, args: SqlArgs): Promise<unknown> {
    const pool = this.requirePool(fn);
    try {
      // Unnamed statements, so transaction-mode poolers (PgBouncer, Supavisor) work for calls.
      const result = await pool.query(CALL_SQL[fn], callValues(fn, args));
      return result.rows[0]?.result ?? null;
    } catch (err) {
      throw pgError(err, this.url);
    }
  }

  /** Runs one statement on the store's pool and returns its rows (persistence/history calls its SQL functions through it). */
  async queryRows(text: string, values: readonly unknown[]): Promise<Record<string, unknown>[]> {
    const pool = this.requirePool('query');
    this.countQuery();
    try {
      return (await pool.query(text, [...values])).rows as Record<string, unknown>[];
    } catch (err) {
      throw pgError(err, this.url);
    }
  }

  private async connect(): Promise<void> {
    if (this.options.autoMigrate ?? true) await migrate(this.connectionString);
    const pool = new pg.Pool({
      connectionString: this.connectionString,
      max: this.options.poolSize ?? DEFAULT_POOL_SIZE,
      ...CONNECTION_DEFAULTS,
    });
    // An idle pooled connection that dies is dropped by the pool; the next
    // query reports the outage. Without a handler the error would crash the process.
    pool.on('error', () => undefined);
    this.pool = pool;
    try {
      await this.checkSchema();
    } catch (err) {
      this.pool = null;
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  /** Starts the LISTEN connection once; a failed start is retried by the next watch(). */
  private startListening(): Promise<void> {
    if (!this.listening) {
      const listener = new PgListener({
        connectionString: this.connectionString,
        channel: NOTIFY_CHANNEL,
        onNotification: (payload) => this.onNotification(payload),
        onReconnected: () => this.emitAll({ reconnected: true }),
        onLost: (err) => this.emitAll({ error: `the LISTEN connection to ${this.url} was lost${err ? `: ${errorMessage(err)}` : ''}` }),
        onQuery: () => this.countQuery(),
        initialDelayMs: this.options.reconnectDelayMs,
      });
      this.listener = listener;
      this.listening = listener.start().catch((err: unknown) => {
        if (this.listener === listener) {
          this.listener = null;
          this.listening = null;
        }
        throw pgError(err, this.url);
      });
    }
    return this.listening;
  }

  private emitAll(hint: StoreHint): void {
    this.hints.emitAll(hint);
    this.lockHints.emitAll(hint);
  }

  private onNotification(payload: string): void {
    let hint: { app?: unknown; head?: unknown };
    try {
      hint = JSON.parse(payload) as typeof hint;
    } catch (err) {
      process.emitWarning(`scopefs: ignoring a malformed ${NOTIFY_CHANNEL} notification: ${errorMessage(err)}`);
      return;
    }
    if (typeof hint.app !== 'string') return;
    // Lock changes (migration 10's trigger) go to lock mirrors only: sync has nothing new to read.
    if ((hint as { locks?: unknown }).locks === true) return this.lockHints.emit(hint.app, {});
    this.hints.emit(hint.app, typeof hint.head === 'number' ? { head: hint.head } : {});
  }

  private requirePool(operation: string): pg.Pool {
    if (this.pool) return this.pool;
    throw new ScopeFsError('EIO', `postgres store ${this.url} is not open (${operation})`);
  }
}

/** `SELECT public.fn(p_a => $1::text, …) AS result` per function, with casts so PostgreSQL picks the right one. */
const CALL_SQL = Object.fromEntries(
  Object.entries(SQL_FUNCTIONS).map(([fn, params]) => {
    const args = params.map(([name, type], i) => `${name} => $${i + 1}::${type}`);
    return [fn, `SELECT public.${fn}(${args.join(', ')}) AS result`];
  }),
) as Record<SqlFunctionName, string>;

function callValues(fn: SqlFunctionName, args: SqlArgs): unknown[] {
  return SQL_FUNCTIONS[fn].map(([name, type]) => (type === 'jsonb' ? JSON.stringify(args[name]) : args[name]));
}
