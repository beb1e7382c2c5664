/**
 * The commit decision of a transaction, as one pure function: for each path
 * the transaction changed, its version at the start (base), the
 * transaction's (ours) and the live one now (theirs), what the commit
 * writes, and what conflicts. Applying the plan (transactions.ts) makes no
 * further choices: it hands `items` to applyBatch, each conditional on the
 * live revision read here, so a change that slips in between is caught.
 */
import { isUtf8 } from '../content.js';
import { conflictCopyPath } from '../sync/conflict-copy.js';
import { mergeContent } from '../sync/merge/index.js';
import type { BatchItem } from '../types.js';
import type { TransactionChange, TransactionConflict } from './types.js';

/** One version of a file; null where the file is absent. */
export interface Version {
  content: Uint8Array;
  hash: string;
}

export interface CommitInput {
  path: string;
  base: Version | null;
  ours: Version | null;
  /** The live version now, with the revision the commit is conditional on (absent: must not exist). */
  theirs: (Version & { revision: number }) | null;
}

export interface CommitPlan {
  /** What applyBatch applies: empty when the commit fails. */
  items: BatchItem[];
  changes: Array<Omit<TransactionChange, 'revision'>>;
  conflicts: TransactionConflict[];
  committed: boolean;
}

export interface CommitSettings {
  onConflict: 'fail' | 'copy';
  /** Names conflict copies: `<name>.sync-conflict-<time>-tx-<id>.<ext>`. */
  transactionId: string;
  at: Date;
}

type Decision =
  | { kind: 'nothing' }
  | { kind: 'apply'; content: Uint8Array | null; merged: boolean }
  | { kind: 'conflict'; why: string };

export function planCommit(inputs: readonly CommitInput[], settings: CommitSettings): CommitPlan {
  const items: BatchItem[] = [];
  const changes: CommitPlan['changes'] = [];
  const conflicts: TransactionConflict[] = [];
  const copies: BatchItem[] = [];
  for (const input of inputs) {
    const decision = decide(input);
    const ifRevision = input.theirs?.revision ?? 0;
    if (decision.kind === 'apply') {
      items.push(decision.content === null ? { path: input.path, delete: true, ifRevision } : { path: input.path, content: decision.content, ifRevision });
      changes.push({ path: input.path, change: decision.content === null ? 'deleted' : 'written', ...(decision.merged ? { merged: true } : {}) });
    } else if (decision.kind === 'conflict') {
      const conflict = describe(input, decision.why);
      if (settings.onConflict === 'copy' && input.ours) {
        // The live version stays where it is; the transaction's is kept beside it, as sync keeps a remote one.
        conflict.copyPath = conflictCopyPath(input.path, settings.at, `tx-${settings.transactionId}`);
        copies.push({ path: conflict.copyPath, content: input.ours.content, ifRevision: 0 });
      }
      conflicts.push(conflict);
    }
  }
  if (conflicts.length > 0 && settings.onConflict === 'fail') return { items: [], changes: [], conflicts, committed: false };
  for (const copy of copies) changes.push({ path: copy.path, change: 'written' });
  return { items: [...items, ...copies], changes, conflicts, committed: true };
}

function decide({ path, base, ours, theirs }: CommitInput): Decision {
  // The live version is the one the transaction started from: ours replaces it.
  if (same(theirs, base)) return same(ours, theirs) ? { kind: 'nothing' } : { kind: 'apply', content: ours?.content ?? null, merged: false };
  // At this point the file changed outside since the start. Both sides ended up the same: nothing to do.
  if (same(ours, theirs)) return { kind: 'nothing' };
  if (ours === null) return { kind: 'conflict', why: 'deleted in the transaction, changed outside it since it began' };
  if (theirs === null) return { kind: 'conflict', why: 'changed in the transaction, deleted outside it since it began' };
  // Both sides changed the content, differently: merge by kind against the start.
  const merged = mergeContent({ path, base: base?.content ?? null, local: ours.content, remote: theirs.content });
  if (merged.status === 'conflict') return { kind: 'conflict', why: `changed in the transaction and outside it since it began: ${merged.reason}` };
  return { kind: 'apply', content: merged.content, merged: true };
}

const same = (a: Version | null, b: Version | null): boolean => (a === null ? b === null : b !== null && a.hash === b.hash);

const SNIPPET_CHARS = 200;

function describe(input: CommitInput, why: string): TransactionConflict {
  return { path: input.path, why, base: snippet(input.base), ours: snippet(input.ours), theirs: snippet(input.theirs) };
}

function snippet(version: Version | null): string | null {
  if (version === null) return null;
  if (!isUtf8(version.content)) return `<${version.content.byteLength} bytes>`;
  const text = Buffer.from(version.content).toString('utf8');
  return text.length > SNIPPET_CHARS ? `${text.slice(0, SNIPPET_CHARS)}…` : text;
}
