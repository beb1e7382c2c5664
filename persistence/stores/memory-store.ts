/**
 * An in-process SyncStore for tests: the same semantics as the database
 * stores (per-app revisions, CAS pushes, tombstones, a gap-free feed), with
 * hooks to simulate an unreachable store, injected failures and latency.
 *
 * There is nothing to connect to, so open() and close() do not change what the
 * store holds or whether it answers: several scopes in one process can share
 * one instance (`memory:NAME`) and one closing it never breaks the others.
 */
import { ScopeFsError } from '../../src/errors.js';
import { decideAcquire, decideRelease, decideRenew, type LeaseDecision, type LeaseRecord } from './lease-rules.js';
import { HintListeners } from './store-hints.js';
import { checkIdentity, checkLeaseArgs, checkName, checkPushArgs, checkRevision, checkSinceArgs, refusedBatches, urlRest, type CheckedChange } from './store-input.js';
import type { LeaseState, PushChange, PushOutcome, SincePage, StoreHint, StoreRow, SyncStore } from './types.js';

export type MemoryStoreOp = 'push' | 'since' | 'get' | 'head' | 'lease';

export interface MemoryStoreOptions {
  name?: string;
  /** Delay added to every call, to make races and timeouts observable. */
  latencyMs?: number;
}

/** One app's rows, plus its feed: revisions in commit order, pruned lazily. */
class AppData {
  head = 0;
  readonly rows = new Map<string, Map<string, StoreRow>>();
  readonly byRevision = new Map<number, StoreRow>();
  private feed: number[] = [];

  current(owner: string, path: string): StoreRow | undefined {
    return this.rows.get(owner)?.get(path);
  }

  commit(row: StoreRow): void {
    const previous = this.current(row.owner, row.path);
    if (previous) this.byRevision.delete(previous.revision);
    let owned = this.rows.get(row.owner);
    if (!owned) this.rows.set(row.owner, (owned = new Map()));
    owned.set(row.path, row);
    this.byRevision.set(row.revision, row);
    this.feed.push(row.revision);
    this.head = row.revision;
    // Superseded revisions stay in the feed until they outnumber live ones.
    if (this.feed.length > 2 * this.byRevision.size + 64) this.feed = this.feed.filter((r) => this.byRevision.has(r));
  }

  /** Live rows of `owners` after `cursor`, ascending; up to `limit` plus whether more exist. */
  after(cursor: number, owners: ReadonlySet<string>, limit: number): { rows: StoreRow[]; more: boolean } {
    const rows: StoreRow[] = [];
    for (let i = firstAbove(this.feed, cursor); i < this.feed.length; i++) {
      const row = this.byRevision.get(this.feed[i]!);
      if (!row || !owners.has(row.owner)) continue;
      if (rows.length === limit) return { rows, more: true };
      rows.push(row);
    }
    return { rows, more: false };
  }
}

/** Index of the first element greater than `value` in an ascending array. */
function firstAbove(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}

let anonymousStores = 0;

export class MemoryStore implements SyncStore {
  readonly url: string;
  private readonly latencyMs: number;
  private readonly apps = new Map<string, AppData>();
  private readonly hints = new HintListeners();
  private readonly leases = new Map<string, LeaseRecord>();
  private readonly injectedFailures = new Map<MemoryStoreOp, number>();
  private offline = false;
  private queries = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.url = `memory:${options.name ?? `anonymous-${++anonymousStores}`}`;
    this.latencyMs = options.latencyMs ?? 0;
  }

  get queryCount(): number {
    return this.queries;
  }

  /** While offline every method rejects with EIO; coming back sends watchers a `reconnected` hint. */
  setOffline(offline: boolean): void {
    const reconnecting = this.offline && !offline;
    this.offline = offline;
    if (reconnecting) this.hints.emitAll({ reconnected: true });
  }

  /** Makes the next `count` calls of `op` reject with EIO. */
  failNext(op: MemoryStoreOp, count = 1): void {
    this.injectedFailures.set(op, (this.injectedFailures.get(op) ?? 0) + count);
  }

  async open(): Promise<void> {
    await this.enter();
  }

  async close(): Promise<void> {
    // Nothing to release: the data lives as long as this object (see the module comment).
  }

  async head(app: string): Promise<number> {
    checkName('app', app);
    await this.enter('head');
    return this.apps.get(app)?.head ?? 0;
  }

  async since(app: string, owners: readonly string[], cursor: number, limit?: number): Promise<SincePage> {
    const pageLimit = checkSinceArgs(app, owners, cursor, limit);
    await this.enter('since');
    const data = this.apps.get(app);
    if (!data) return { rows: [], cursor: 0, more: false };
    const { rows, more } = data.after(cursor, new Set(owners), pageLimit);
    const last = rows.at(-1);
    return { rows: rows.map(copyRow), cursor: more && last ? last.revision : data.head, more };
  }

  async get(app: string, owner: string, path: string): Promise<StoreRow | null> {
    checkIdentity(app, owner, path);
    await this.enter('get');
    const row = this.apps.get(app)?.current(owner, path);
    return row ? copyRow(row) : null;
  }

  async push(app: string, instanceId: string, changes: readonly PushChange[]): Promise<PushOutcome[]> {
    const checked = checkPushArgs(app, instanceId, changes);
    await this.enter('push');
    const data = this.appData(app);
    const headBefore = data.head;
    const refused = refusedBatches(checked, (change) => data.current(change.owner, change.path)?.revision ?? 0);
    const outcomes = checked.map((change) => this.apply(data, app, instanceId, change, refused));
    if (data.head !== headBefore) this.hints.emit(app, { head: data.head });
    return outcomes;
  }

  async watch(app: string, listener: (hint: StoreHint) => void): Promise<() => Promise<void>> {
    checkName('app', app);
    await this.enter();
    const remove = this.hints.add(app, listener);
    return async () => remove();
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseState> {
    checkLeaseArgs(name, holder, ttlMs);
    await this.enter('lease');
    return this.decideLease(name, (current) => decideAcquire(current, { name, holder, ttlMs, now: Date.now() }));
  }

  async renewLease(name: string, holder: string, token: number, ttlMs: number): Promise<LeaseState> {
    checkLeaseArgs(name, holder, ttlMs);
    checkRevision('lease token', token);
    await this.enter('lease');
    return this.decideLease(name, (current) => decideRenew(current, { name, holder, token, ttlMs, now: Date.now() }));
  }

  async releaseLease(name: string, holder: string, token: number): Promise<boolean> {
    checkLeaseArgs(name, holder, 1);
    checkRevision('lease token', token);
    await this.enter('lease');
    return this.decideLease(name, (current) => decideRelease(current, { holder, token, now: Date.now() }));
  }

  /**
   * Removes the app's tombstones with revision <= maxRevision updated before
   * `updatedBefore` and returns their revisions (tombstone purging, see
   * persistence/history/tombstones.ts; feed entries are skipped lazily).
   */
  dropTombstones(app: string, maxRevision: number, updatedBefore: number): number[] {
    const data = this.apps.get(app);
    if (!data) return [];
    const dropped: number[] = [];
    for (const [revision, row] of data.byRevision) {
      if (!row.deleted || revision > maxRevision || row.updatedAt >= updatedBefore) continue;
      data.byRevision.delete(revision);
      data.rows.get(row.owner)?.delete(row.path);
      dropped.push(revision);
    }
    return dropped;
  }

  private decideLease<T>(name: string, decide: (current: LeaseRecord | undefined) => LeaseDecision<T>): T {
    const { answer, next } = decide(this.leases.get(name));
    if (next) this.leases.set(name, next);
    return answer;
  }

  private apply(data: AppData, app: string, instanceId: string, change: CheckedChange, refused: ReadonlySet<string>): PushOutcome {
    const { owner, path } = change;
    const current = data.current(owner, path);
    if ((current?.revision ?? 0) !== change.baseRevision || (change.batch !== undefined && refused.has(change.batch))) {
      return { owner, path, status: 'conflict', current: current ? copyRow(current) : null };
    }
    const revision = data.head + 1;
    data.commit({
      app,
      owner,
      path,
      revision,
      hash: change.hash,
      size: change.size,
      deleted: change.content === null,
      content: change.content && copyBytes(change.content),
      updatedAt: Date.now(),
      updatedBy: instanceId,
      ...(change.batch === undefined ? {} : { batch: change.batch }),
    });
    return { owner, path, status: 'ok', revision };
  }

  private appData(app: string): AppData {
    let data = this.apps.get(app);
    if (!data) this.apps.set(app, (data = new AppData()));
    return data;
  }

  /** The common prologue of every call: latency, then offline and injected failures. */
  private async enter(op?: MemoryStoreOp): Promise<void> {
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (this.offline) throw new ScopeFsError('EIO', `store ${this.url} is offline`);
    const pending = op ? (this.injectedFailures.get(op) ?? 0) : 0;
    if (op && pending > 0) {
      this.injectedFailures.set(op, pending - 1);
      throw new ScopeFsError('EIO', `store ${this.url}: injected ${op} failure`);
    }
    if (op) this.queries++;
  }
}

function copyBytes(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}

function copyRow(row: StoreRow): StoreRow {
  return { ...row, content: row.content && copyBytes(row.content) };
}

const sharedStores = new Map<string, MemoryStore>();

/** The process-wide store for `memory:NAME`: every caller with the same name gets the same instance. */
export function sharedMemoryStore(name: string): MemoryStore {
  let store = sharedStores.get(name);
  if (!store) sharedStores.set(name, (store = new MemoryStore({ name })));
  return store;
}

/** The table's entry for `memory:NAME` URLs. */
export function storeFromUrl(url: string): MemoryStore {
  return sharedMemoryStore(urlRest(url, 'memory', 'a store name'));
}
