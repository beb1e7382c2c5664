/**
 * An audit log in memory: for scopes without a root, the memory store, and
 * tests. Bounded: past `maxEntries` the oldest entries go.
 */
import { checkAuditQuery, prunedCount, selectNewest } from '../../src/audit/audit-query.js';
import type { AuditEntry, AuditLog, AuditQuery, AuditRetention } from '../../src/audit/types.js';

const DEFAULT_MAX_ENTRIES = 100_000;

export class MemoryAuditLog implements AuditLog {
  private entries: AuditEntry[] = [];
  private readonly ids = new Set<string>();

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  /** Each entry once (by id). */
  appendSync(entries: readonly AuditEntry[]): void {
    for (const entry of entries) {
      if (this.ids.has(entry.id)) continue;
      this.ids.add(entry.id);
      this.entries.push(entry);
    }
    if (this.entries.length > this.maxEntries) this.drop(this.entries.length - this.maxEntries);
  }

  recoverSync(entries: readonly AuditEntry[]): void {
    this.appendSync(entries);
  }

  async append(entries: readonly AuditEntry[]): Promise<void> {
    this.appendSync(entries);
  }

  async query(query?: AuditQuery): Promise<AuditEntry[]> {
    return selectNewest(this.entries, checkAuditQuery(query));
  }

  async prune(retention: AuditRetention): Promise<number> {
    const count = prunedCount(this.entries, retention);
    this.drop(count);
    return count;
  }

  /** The entries after the one with `position.id` (all when it is gone), for shipping to a store. */
  async readFrom(position: { id: string } | undefined): Promise<Array<{ segment: number; entry: AuditEntry }>> {
    const at = position ? this.entries.findIndex((e) => e.id === position.id) : -1;
    return this.entries.slice(at + 1).map((entry) => ({ segment: 0, entry }));
  }

  private drop(count: number): void {
    for (const entry of this.entries.slice(0, count)) this.ids.delete(entry.id);
    this.entries = this.entries.slice(count);
  }
}
