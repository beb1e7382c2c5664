/**
 * The FileSystemServer's protocol: every message its mailbox takes, as data.
 * The client API (file-system-server.ts) builds them, and `handleCall` /
 * `handleCast` there switch on `type`, so a mailbox can be read, logged and
 * traced (FileSystemServerOptions.trace).
 *
 * Calls answer their caller; casts come from the server itself: its persist
 * timers, the journal settling after driver I/O, and disk reads that finish
 * outside the mailbox.
 */
import type { BatchItem, ChangeOptions, Content, PersistenceConfig, WriteOptions } from '../types.js';
import type { Entry } from './entries.js';
import type { KnownFile } from './indexer.js';
import type { OwnedContent } from './large-content.js';
import type { LoadedFile } from './loads.js';

export type FsCall =
  | { type: 'write'; path: string; content: Content | OwnedContent; options: WriteOptions | undefined }
  | { type: 'append'; path: string; content: Content; options: ChangeOptions | undefined }
  | { type: 'edit'; path: string; oldStr: string; newStr: string; options: ChangeOptions | undefined }
  | { type: 'delete'; path: string; options: ChangeOptions | undefined }
  | { type: 'move'; from: string; to: string; options: ChangeOptions | undefined }
  /** Several writes and deletes as one change (batch.ts). */
  | { type: 'batch'; items: readonly BatchItem[]; options: ChangeOptions | undefined }
  /** Answers the content, or the entry and its lazy load, which runs outside the mailbox. */
  | { type: 'read'; path: string; bytes: boolean }
  /** The second half of a lazy read: keeps the loaded bytes (unless the entry changed) and answers them (with the metadata for readEntry). */
  | { type: 'install_loaded'; entry: Entry; loaded: LoadedFile | null; bytes: boolean; withMeta?: boolean }
  /** Like `read`, answering the metadata and content of one version (readEntry). */
  | { type: 'read_entry'; path: string; bytes: boolean }
  | { type: 'exists'; path: string }
  | { type: 'stat'; path: string }
  | { type: 'list_files'; prefix: string | undefined }
  | { type: 'list_entries'; prefix: string | undefined }
  /** Every file's metadata and, when in memory, its content, as of one step (a transaction's start). */
  | { type: 'snapshot_versions' }
  | { type: 'stats' }
  | { type: 'flush' }
  | { type: 'reset' }
  | { type: 'register_files'; files: Array<{ path: string } & KnownFile> }
  | { type: 'register_persistence'; config: PersistenceConfig }
  | { type: 'persistence_configs' }
  /** Answers `{ done }` at once; `done` resolves once the disk's state is applied. */
  | { type: 'check_disk'; path: string };

export type FsCast =
  /** A persist timer fired for `key` (a file path, or a pending delete's key). */
  | { type: 'persist_due'; key: string }
  /** Driver I/O finished: truncate or compact the journal. One is queued at a time. */
  | { type: 'persist_settled' }
  /** The disk read of check `ticket` for `path` finished: apply what it found. */
  | { type: 'disk_read'; path: string; ticket: number };

export type FsMessage = FsCall | FsCast;

/** Where the server's own casts go: its mailbox. */
export type CastPort = (message: FsCast) => void;
