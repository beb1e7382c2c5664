/** Helpers for the SyncStore contract suite (store-contract.ts). */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { sha256 } from '../../src/content.js';
import { isScopeFsError } from '../../src/errors.js';
import { SHARED_OWNER, type PushChange, type PushOutcome, type StoreRow, type SyncStore } from '../../persistence/stores/types.js';

export const INSTANCE = 'instance-a';
const HINT_DEADLINE_MS = 10_000;

export const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
export const text = (content: Uint8Array | null) => (content === null ? null : Buffer.from(content).toString('utf8'));
export const freshApp = () => `contract-${randomUUID()}`;

export function change(path: string, content: string | Uint8Array | null, baseRevision = 0, owner = SHARED_OWNER): PushChange {
  const data = typeof content === 'string' ? bytes(content) : content;
  return { owner, path, baseRevision, content: data, hash: data === null ? null : sha256(data) };
}

export function revisionOf(outcome: PushOutcome | undefined): number {
  if (outcome?.status !== 'ok') throw new Error(`expected an ok outcome, got ${JSON.stringify(outcome)}`);
  return outcome.revision;
}

/** Every row after `cursor`, following pages until `more` is false. */
export async function readAll(store: SyncStore, app: string, owners: readonly string[], cursor = 0, limit?: number) {
  const rows: StoreRow[] = [];
  for (;;) {
    const page = await store.since(app, owners, cursor, limit);
    rows.push(...page.rows);
    expect(page.cursor).toBeGreaterThanOrEqual(cursor);
    cursor = page.cursor;
    if (!page.more) return { rows, cursor };
  }
}

export function withDeadline<T>(promise: Promise<T>, what: string, ms = HINT_DEADLINE_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export async function expectEinval(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(() => null, (err: unknown) => err);
  expect(isScopeFsError(error, 'EINVAL'), `expected EINVAL, got ${String(error)}`).toBe(true);
}
