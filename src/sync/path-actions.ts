import type { PushChange, PushOutcome, StoreRow } from '../../persistence/stores/types.js';
import { isUtf8, sha256 } from '../content.js';
import { fsErrors } from '../errors.js';
import type { FileSystem } from '../types.js';
import type { ConflictBook } from './conflict-book.js';
import type { PlannedPath } from './engine.js';
import { readLocalContent } from './local-side.js';
import { mergeContent } from './merge/index.js';
import type { PathRecord, SyncStateDb } from './state-db.js';
import type { SyncEvent } from './types.js';

export interface PushItem {
  path: string;
  record: PathRecord;
  change: PushChange;
}

export interface ActionOutcome {
  /** A change to push (pushes are batched by the engine). */
  push?: PushItem;
  /** The remote version was applied locally. */
  pulled?: boolean;
  /** State moved under us; decide this path again in the next pass. */
  retry?: boolean;
}

export interface PathActionsDeps {
  fs: FileSystem;
  /** This instance's id: rows it wrote carry it in `updatedBy`. */
  instanceId: string;
  state: SyncStateDb;
  conflicts: ConflictBook;
  storeGet: (owner: string, path: string) => Promise<StoreRow | null>;
  maxFileBytes: number;
  now: () => Date;
  emit: (event: SyncEvent) => void;
}

/**
 * Carries out one path's reconcile decision. Local writes go through the
 * FileSystemServer with origin `sync` and a compare-and-swap on the revision
 * the decision was based on, so a concurrent local edit is never overwritten
 * (the write fails with ESTALE and the path is decided again).
 */
export class PathActions {
  constructor(private readonly deps: PathActionsDeps) {}

  async run(item: PlannedPath, row: StoreRow | undefined): Promise<ActionOutcome> {
    switch (item.action) {
      case 'nothing':
        return {};
      case 'update_base':
        return this.updateBase(item);
      case 'drop_base':
        this.setBase(item.record, null, 0, null);
        return {};
      case 'push':
        return this.preparePush(item, item.record.remoteRevision);
      case 'pull':
        return this.pull(item, row);
      case 'merge':
      case 'conflict':
        return this.merge(item, row);
    }
  }

  /**
   * Stages the intents of pushes about to be sent; the caller commits the
   * state before the store sees them, so their outcome stays recoverable.
   */
  notePushIntents(batch: readonly PushItem[]): void {
    const intents = batch.map(({ path, record, change }) => ({ path, owner: record.owner, hash: change.hash, baseRevision: change.baseRevision }));
    this.deps.state.putPushIntents(intents);
  }

  /**
   * Applies push outcomes to the records; returns which paths were accepted
   * and which lost the race. Idempotent: recording an outcome again, or one
   * already adopted through observeRow, leaves the same state.
   */
  recordPushOutcomes(batch: PushItem[], outcomes: PushOutcome[]): { accepted: string[]; lost: string[] } {
    const accepted: string[] = [];
    const lost: string[] = [];
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome?.status === 'ok') {
        this.setBase(item.record, item.change.hash, outcome.revision, item.change.content);
        this.deps.state.settlePushIntents(item.path, () => false);
        accepted.push(item.path);
      } else {
        const current = outcome?.current ?? null;
        item.record.remoteHash = current && !current.deleted ? current.hash : null;
        item.record.remoteRevision = current?.revision ?? 0;
        this.deps.state.putPath(item.record);
        // The current row may be this instance's own earlier push whose outcome was lost.
        this.observeRow(item.record, current);
        // This push was refused: it can never commit.
        this.deps.state.settlePushIntents(item.path, (intent) => intent.hash !== item.change.hash);
        lost.push(item.path);
      }
    });
    return { accepted, lost };
  }

  /**
   * Called for every row seen (feed, refused push, direct read) after the
   * record's remote side was updated from it. A row this instance wrote,
   * with the hash of a push it recorded the intent of, is its own content
   * whose outcome was lost (a kill or a dropped connection after the store
   * committed): it becomes the base, so the local file (unchanged or edited
   * since) is compared with what this instance itself pushed, never merged
   * against it as if another instance had written it. Intents the row has
   * moved past are settled: those pushes committed or never will.
   */
  observeRow(record: PathRecord, row: StoreRow | null): boolean {
    const { state, instanceId } = this.deps;
    const intents = state.pushIntents(record.path);
    if (row === null || intents.length === 0) return false;
    const rowHash = row.deleted ? null : row.hash;
    const own =
      row.updatedBy === instanceId &&
      row.owner === record.owner &&
      intents.some((i) => i.hash === rowHash && i.owner === row.owner && i.baseRevision < row.revision);
    if (own) this.setBase(record, rowHash, row.revision, rowHash === null ? null : contentMatching(row));
    state.settlePushIntents(record.path, (intent) => intent.baseRevision >= row.revision);
    return own;
  }

  private async updateBase(item: PlannedPath): Promise<ActionOutcome> {
    const content = item.local?.content ?? (await readLocalContent(this.deps.fs, item.path));
    if (!item.local || !content) return { retry: true };
    this.setBase(item.record, item.local.hash, item.record.remoteRevision, content);
    return {};
  }

  private async preparePush(item: PlannedPath, baseRevision: number, merged?: Uint8Array): Promise<ActionOutcome> {
    const { record, path } = item;
    if (item.local === null) {
      return { push: { path, record, change: { owner: record.owner, path, baseRevision, content: null, hash: null } } };
    }
    const content = merged ?? item.local.content ?? (await readLocalContent(this.deps.fs, path));
    if (content === null) return { retry: true };
    if (content.byteLength > this.deps.maxFileBytes) throw fsErrors.tooBig(path, content.byteLength, this.deps.maxFileBytes);
    const change = { owner: record.owner, path, baseRevision, content, hash: sha256(content) };
    return { push: { path, record, change } };
  }

  private async pull(item: PlannedPath, row: StoreRow | undefined): Promise<ActionOutcome> {
    const remote = await this.currentRemote(item, row);
    if (remote === 'moved') return { retry: true };
    const { fs } = this.deps;
    if (remote === null || remote.deleted) {
      if (item.local) await fs.deleteFile(item.path, { origin: 'sync', ifRevision: item.local.revision, source: remote?.updatedBy });
      item.record.remoteRevision = remote?.revision ?? item.record.remoteRevision;
      this.setBase(item.record, null, 0, null);
      return { pulled: true };
    }
    const content = this.verifiedContent(remote);
    await fs.writeFile(item.path, content, { origin: 'sync', source: remote.updatedBy, ifRevision: item.local?.revision ?? 0 });
    this.setBase(item.record, remote.hash, remote.revision, content);
    return { pulled: true };
  }

  /** Both sides changed: merge by kind, or record a conflict. */
  private async merge(item: PlannedPath, row: StoreRow | undefined): Promise<ActionOutcome> {
    const remote = await this.currentRemote(item, row);
    if (remote === 'moved' || remote === null || remote.deleted || item.local === null) return { retry: true };
    const remoteContent = this.verifiedContent(remote);
    const localContent = item.local.content ?? (await readLocalContent(this.deps.fs, item.path));
    if (localContent === null) return { retry: true };
    const base = item.record.baseHash === null ? null : this.deps.state.getBlob(item.record.baseHash);
    const result =
      item.action === 'merge' && base !== null
        ? mergeContent({ path: item.path, base, local: localContent, remote: remoteContent })
        : null;
    if (result?.status !== 'merged') {
      await this.recordConflict(item, remote, localContent, remoteContent);
      return {};
    }
    const mergedHash = sha256(result.content);
    if (mergedHash !== item.local.hash) {
      await this.deps.fs.writeFile(item.path, result.content, { origin: 'sync', ifRevision: item.local.revision });
    }
    if (mergedHash === remote.hash) {
      this.setBase(item.record, remote.hash, remote.revision, remoteContent);
      return { pulled: true };
    }
    return this.preparePush(item, remote.revision, result.content);
  }

  private async recordConflict(
    item: PlannedPath,
    remote: StoreRow,
    localContent: Uint8Array,
    remoteContent: Uint8Array,
  ): Promise<void> {
    const conflict = await this.deps.conflicts.record({
      path: item.path,
      local: localContent,
      remote: remoteContent,
      remoteRevision: remote.revision,
      remoteInstance: remote.updatedBy,
      at: this.deps.now(),
    });
    // The remote version becomes the base: resolving the conflict is then an
    // ordinary local change, pushed with compare-and-swap on this revision.
    this.setBase(item.record, remote.hash, remote.revision, remoteContent);
    this.deps.emit({ type: 'conflict', conflict });
  }

  /**
   * The remote row the decision was about. When the row in hand is not the
   * one the record knows, asks the store; if the store has moved on since the
   * decision, records that and returns 'moved' so the path is decided again.
   */
  private async currentRemote(item: PlannedPath, row: StoreRow | undefined): Promise<StoreRow | null | 'moved'> {
    const { record } = item;
    if (row && row.revision === record.remoteRevision) return row;
    const current = await this.deps.storeGet(record.owner, item.path);
    const currentRevision = current?.revision ?? 0;
    if (currentRevision === record.remoteRevision || (current === null && record.remoteHash === null)) return current;
    record.remoteHash = current && !current.deleted ? current.hash : null;
    record.remoteRevision = currentRevision;
    this.deps.state.putPath(record);
    this.observeRow(record, current);
    return 'moved';
  }

  /** Content of a remote row, checked against its hash and the size limit. */
  private verifiedContent(row: StoreRow): Uint8Array {
    const content = row.content;
    if (!(content instanceof Uint8Array) || sha256(content) !== row.hash) {
      throw fsErrors.invalid(`remote row for ${JSON.stringify(row.path)} has content that does not match its hash`, row.path);
    }
    if (content.byteLength > this.deps.maxFileBytes) throw fsErrors.tooBig(row.path, content.byteLength, this.deps.maxFileBytes);
    return content;
  }

  /** Records agreement on (hash, revision); keeps text bases for future merges. */
  private setBase(record: PathRecord, hash: string | null, revision: number, content: Uint8Array | null): void {
    record.baseHash = hash;
    record.baseRevision = hash === null ? 0 : revision;
    record.remoteHash = hash;
    if (hash !== null || revision > 0) record.remoteRevision = revision;
    if (hash !== null && content !== null && isUtf8(content)) this.deps.state.putBlob(hash, content);
    this.deps.state.putPath(record);
  }
}

/** The row's content when it is there and matches its hash (kept as a merge base), else null. */
function contentMatching(row: StoreRow): Uint8Array | null {
  return row.content instanceof Uint8Array && sha256(row.content) === row.hash ? row.content : null;
}
