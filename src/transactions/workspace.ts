/**
 * A transaction's private state: the scope's file list as of the start
 * (metadata only), the transaction's own writes and deletes (in memory, never
 * journaled: a transaction that dies leaves nothing to discard), and the
 * start versions of the paths it touched, fetched when first needed.
 *
 * A file in memory at the start keeps its start version from then (a
 * reference to that content). For one only on disk, the start version is the
 * live one while the file has not changed since the start; after a change
 * outside, it comes from the history (by checksum). When the history no
 * longer has it (a burst coalesced it away, retention pruned it), the
 * transaction cannot keep its snapshot: ESTALE, and the caller retries.
 */
import { sha256 } from '../content.js';
import { ScopeFsError, fsErrors, isScopeFsError } from '../errors.js';
import { dirname, isUnder } from '../paths.js';
import type { EntryMeta, FileSystem, FsEvent, HistoryVersion, SnapshotVersion } from '../types.js';
import type { Version } from './commit-plan.js';

type Written = { kind: 'put'; content: Uint8Array; hash: string; meta: EntryMeta } | { kind: 'delete' };

/** How many history versions of a path are searched for its start version. */
const HISTORY_DEPTH = 200;

export class TxWorkspace {
  private readonly snapshot: Map<string, EntryMeta>;
  private readonly written = new Map<string, Written>();
  private readonly starts = new Map<string, Promise<Version | null>>();
  /** The start versions already read, for reads without a promise step. */
  private readonly startsKnown = new Map<string, Version | null>();
  /** For files whose start content is not held: the hash of their first change outside after the snapshot (null: a deletion). */
  private readonly firstChangeOutside = new Map<string, string | null>();
  private unsubscribe: () => void = () => undefined;
  private revision: number;
  private heldBytes = 0;

  constructor(
    readonly live: FileSystem,
    versions: readonly SnapshotVersion[],
    private readonly maxBytes: number,
  ) {
    this.snapshot = new Map(versions.map(({ meta }) => [meta.path, meta]));
    this.revision = versions.reduce((max, { meta }) => Math.max(max, meta.revision), 0);
    // Contents in memory at the start are the start versions already: no history needed for them later.
    for (const { meta, content } of versions) {
      if (content) this.startsKnown.set(meta.path, { content, hash: meta.checksum ?? sha256(content) });
    }
  }

  /**
   * From `snapshot` (metadata and contents in memory, one step) when given,
   * else from the metadata. It hears the scope's changes from before the
   * snapshot on, so it knows the first change outside of each file whose
   * content it does not hold (see firstChangeOutside).
   */
  static async begin(live: FileSystem, maxBytes: number, snapshot?: () => Promise<SnapshotVersion[]>): Promise<TxWorkspace> {
    const early: FsEvent[] = [];
    let workspace: TxWorkspace | undefined;
    const unsubscribe = live.subscribe((event) => (workspace ? workspace.hear(event) : void early.push(event)));
    try {
      const versions = snapshot ? await snapshot() : (await live.listEntries('/')).map((meta) => ({ meta }));
      workspace = new TxWorkspace(live, versions, maxBytes);
    } catch (err) {
      unsubscribe();
      throw err;
    }
    workspace.unsubscribe = unsubscribe;
    for (const event of early) workspace.hear(event);
    return workspace;
  }

  /** Stops hearing the scope's changes (the transaction is over). */
  close(): void {
    this.unsubscribe();
  }

  /**
   * Notes the first change made outside after the snapshot to a file whose
   * start content the transaction does not hold: its history version is the
   * one right after the start version. A change counts when its revision is
   * past the file's at the snapshot (events from before it come in too).
   */
  private hear(event: FsEvent): void {
    const note = (path: string, revision: number, hash: string | null) => {
      const meta = this.snapshot.get(path);
      if (!meta || this.startsKnown.has(path) || this.firstChangeOutside.has(path) || revision <= meta.revision) return;
      this.firstChangeOutside.set(path, hash);
    };
    if (event.type === 'file_updated') note(event.path, event.meta.revision, event.meta.checksum ?? null);
    else if (event.type === 'file_deleted') note(event.path, event.revision, null);
    else if (event.type === 'file_moved') note(event.from, event.meta.revision, null);
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** Paths written or deleted, in the order first changed. */
  changedPaths(): string[] {
    return [...this.written.keys()];
  }

  /** The transaction's version of a changed path (null: deleted). */
  ours(path: string): Version | null {
    const written = this.written.get(path);
    if (!written || written.kind === 'delete') return null;
    return { content: written.content, hash: written.hash };
  }

  /** What the transaction sees at `path`; undefined when absent. */
  meta(path: string): EntryMeta | undefined {
    const written = this.written.get(path);
    if (written) return written.kind === 'put' ? written.meta : undefined;
    return this.snapshot.get(path);
  }

  /** The files the transaction sees under a normalised prefix, sorted by path. */
  list(prefix: string): EntryMeta[] {
    const found = new Map<string, EntryMeta>();
    for (const [path, meta] of this.snapshot) if (isUnder(path, prefix)) found.set(path, meta);
    for (const [path, written] of this.written) {
      if (!isUnder(path, prefix)) continue;
      if (written.kind === 'put') found.set(path, written.meta);
      else found.delete(path);
    }
    return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** The content the transaction sees at an existing path. */
  /** The content at `path` in the transaction: what it wrote, else the start version. A value once known (no promise step). */
  content(path: string): Uint8Array | Promise<Uint8Array> {
    const written = this.written.get(path);
    if (written?.kind === 'put') return written.content;
    const known = this.startsKnown.get(path);
    if (known !== undefined) return contentOrNotFound(known, path);
    return this.start(path).then((start) => contentOrNotFound(start, path));
  }

  put(path: string, content: Uint8Array, mimeType: string): EntryMeta {
    const previous = this.written.get(path);
    const bytes = this.heldBytes - (previous?.kind === 'put' ? previous.content.byteLength : 0) + content.byteLength;
    if (bytes > this.maxBytes) {
      throw new ScopeFsError('EFBIG', `the transaction would hold ${bytes} bytes of written files, over its limit of ${this.maxBytes}; commit smaller transactions`, { path });
    }
    this.assertPlaceable(path);
    const existing = this.meta(path);
    const now = Date.now();
    const hash = sha256(content);
    const meta: EntryMeta = {
      path,
      size: content.byteLength,
      createdAt: existing?.createdAt ?? now,
      modifiedAt: now,
      mimeType,
      checksum: hash,
      revision: ++this.revision,
      loaded: true,
      dirty: true,
      memoryOnly: existing?.memoryOnly ?? false,
    };
    void this.start(path).catch(() => undefined); // the merge base, fetched while the live file is likely still the start one
    this.written.set(path, { kind: 'put', content, hash, meta });
    this.heldBytes = bytes;
    return meta;
  }

  remove(path: string): void {
    const previous = this.written.get(path);
    if (previous?.kind === 'put') this.heldBytes -= previous.content.byteLength;
    if (this.snapshot.has(path)) {
      void this.start(path).catch(() => undefined);
      this.written.set(path, { kind: 'delete' });
    } else {
      this.written.delete(path); // created and deleted inside the transaction: nothing to commit
    }
  }

  /** The version at `path` when the transaction began (null: absent then). */
  start(path: string): Promise<Version | null> {
    const known = this.startsKnown.get(path);
    if (known !== undefined) return Promise.resolve(known);
    let start = this.starts.get(path);
    if (!start) {
      start = this.fetchStart(path);
      this.starts.set(path, start);
    }
    return start;
  }

  private async fetchStart(path: string): Promise<Version | null> {
    const version = await this.readStart(path);
    this.startsKnown.set(path, version);
    return version;
  }

  private async readStart(path: string): Promise<Version | null> {
    const meta = this.snapshot.get(path);
    if (!meta) return null;
    try {
      const entry = await this.live.readEntry(path, { encoding: 'bytes' });
      if (entry.meta.revision === meta.revision) return { content: entry.content, hash: entry.meta.checksum ?? sha256(entry.content) };
    } catch (err) {
      if (!isScopeFsError(err, 'ENOENT')) throw err;
    }
    // At this point the file changed outside since the start: its start version can only come from the history.
    const version = startInHistory(await this.live.history(path, { limit: HISTORY_DEPTH }), meta, this.firstChangeOutside.get(path));
    if (!version) {
      throw new ScopeFsError('ESTALE', `${JSON.stringify(path)} changed outside the transaction since it began, and its version from then is not in the history; abort and run the transaction again`, { path });
    }
    const content = (await this.live.readFile(path, { encoding: 'bytes', revision: version.revision })) as Uint8Array;
    return { content, hash: version.hash! };
  }

  /** EINVAL/EEXIST unless a file may be at `path` in the transaction's tree. */
  private assertPlaceable(path: string): void {
    if (this.meta(path)) return;
    for (let dir = dirname(path); dir !== '/'; dir = dirname(dir)) {
      if (this.meta(dir)) throw fsErrors.invalid(`cannot create ${JSON.stringify(path)}: ${JSON.stringify(dir)} is a file`, path);
    }
    if (this.list(`${path}/`).length > 0) throw new ScopeFsError('EEXIST', `${JSON.stringify(path)} is a directory`, { path });
  }
}

function contentOrNotFound(start: Version | null, path: string): Uint8Array {
  if (!start) throw fsErrors.notFound(path);
  return start.content;
}

/**
 * The start version of a file among its history versions (newest first):
 * the one with the checksum the snapshot knew; for a file whose content was
 * not loaded then (no checksum), the version right before its first change
 * outside, when that change appears exactly once in the list and the
 * version before it has the snapshot's size. Undefined when it cannot be
 * told for certain: the caller refuses (ESTALE) rather than guess a base.
 */
function startInHistory(versions: readonly HistoryVersion[], meta: EntryMeta, firstChange: string | null | undefined): HistoryVersion | undefined {
  if (meta.checksum !== undefined) return versions.find((v) => v.hash === meta.checksum);
  if (firstChange === undefined) return undefined;
  const matches = versions.flatMap((v, i) => (v.hash === firstChange ? [i] : []));
  if (matches.length !== 1) return undefined;
  const before = versions[matches[0]! + 1];
  return before && before.hash !== null && before.size === meta.size ? before : undefined;
}
