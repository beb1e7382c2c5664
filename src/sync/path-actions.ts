import type { PushChange, PushOutcome, StoreRow } from '../../persistence/store-types.js';
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

  /** Applies push outcomes to the records; returns which paths were accepted and which lost the race. */
  recordPushOutcomes(batch: PushItem[], outcomes: PushOutcome[]): { accepted: string[]; lost: string[] } {
    const accepted: string[] = [];
    const lost: string[] = [];
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome?.status === 'ok') {
        this.setBase(item.record, item.change.hash, outcome.revision, item.change.content);
        accepted.push(item.path);
      } else {
        const current = outcome?.current ?? null;
        item.record.remoteHash = current && !current.deleted ? current.hash : null;
        item.record.remoteRevision = current?.revision ?? 0;
        this.deps.state.putPath(item.record);
        lost.push(item.path);
      }
    });
    return { accepted, lost };
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
