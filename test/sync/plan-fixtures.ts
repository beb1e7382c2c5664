/** Sides and facts for planSyncPath tests (sync-plan.test.ts, strategies-plan.test.ts). */
import type { StoreRow } from '../../persistence/stores/types.js';
import { sha256 } from '../../src/content.js';
import { reconcile } from '../../src/sync/reconcile.js';
import type { ConflictStrategy } from '../../src/sync/strategies.js';
import { inputsFor, type PathFacts, type RecordSides } from '../../src/sync/sync-plan.js';

export const PATH = '/notes.md';
export const LIMIT = 1024;
export const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
export const text = (content: Uint8Array | null | undefined) => (content ? Buffer.from(content).toString('utf8') : undefined);

export const BASE = 'line 1\nline 2\nline 3\n';
export const LOCAL_EDIT = 'line 1 (local)\nline 2\nline 3\n';
export const REMOTE_EDIT = 'line 1\nline 2\nline 3 (remote)\n';
export const BOTH_MERGED = 'line 1 (local)\nline 2\nline 3 (remote)\n';

export interface Sides {
  /** Local text; null = absent. */
  local: string | null;
  /** Base text and revision; null = no base. */
  base: [string, number] | null;
  /** Remote text and revision; null = no row; `deleted` = a tombstone at that revision. */
  remote: [string, number] | ['deleted', number] | null;
}

export function row(content: string | null, revision: number, updatedBy = 'other'): StoreRow {
  const body = content === null ? null : bytes(content);
  return {
    app: 'app',
    owner: '_shared',
    path: PATH,
    revision,
    hash: body && sha256(body),
    size: body?.byteLength ?? 0,
    deleted: body === null,
    content: body,
    updatedAt: 0,
    updatedBy,
  };
}

/** The facts the engine would gather for these sides, with the store's row current (as the record knows it). */
export function factsFor(sides: Sides, overrides: Partial<PathFacts> = {}, strategy: ConflictStrategy = 'merge'): PathFacts {
  const remoteRow = sides.remote === null ? null : row(sides.remote[0] === 'deleted' ? null : sides.remote[0], sides.remote[1]);
  const record: RecordSides = {
    baseHash: sides.base && sha256(bytes(sides.base[0])),
    baseRevision: sides.base?.[1] ?? 0,
    remoteHash: remoteRow?.hash ?? null,
    remoteRevision: remoteRow?.revision ?? 0,
  };
  const localBytes = sides.local === null ? null : bytes(sides.local);
  const local = localBytes && { hash: sha256(localBytes), revision: 5 };
  const decision = reconcile(local, record.baseHash === null ? null : { hash: record.baseHash, revision: record.baseRevision }, record.remoteHash === null ? null : { hash: record.remoteHash, revision: record.remoteRevision }, strategy);
  const { action } = decision;
  const needs = inputsFor(action);
  return {
    path: PATH,
    owner: '_shared',
    action,
    case: decision.case,
    rule: { strategy, source: strategy === 'merge' ? 'default' : 'config', pattern: strategy === 'merge' ? null : '**', index: strategy === 'merge' ? null : 0 },
    instanceId: 'self',
    record,
    local: local && (needs.localContent ? { ...local, content: localBytes } : local),
    ...(needs.remote ? { remote: remoteRow } : {}),
    ...(needs.baseContent ? { baseContent: sides.base && bytes(sides.base[0]) } : {}),
    maxFileBytes: LIMIT,
    ...overrides,
  };
}
