/**
 * The webhook outbox: one row per event and subscription, in the root's
 * private `.scopefs/webhooks.db` (SQLite, WAL), or in memory without a
 * root. `enqueue` is synchronous: it runs in the same turn as the journal
 * append of the change it reports (scope-webhooks.ts says why that is the
 * same step), and a committed row survives a killed process.
 */
import Database from 'better-sqlite3';
import { openPrivateSqlite } from '../../persistence/sql/private-sqlite.js';
import type { Delivery, DeliveryInfo, DeliveryState } from './types.js';

interface Row {
  id: string;
  event_id: string;
  webhook: string;
  body: string;
  state: DeliveryState;
  attempts: number;
  next_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

const DEAD_SHOWN = 50;

export class Outbox {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;

  constructor(file: string) {
    // NORMAL in WAL mode: a commit survives a killed process (the journal's own promise); only a power cut may lose the last ones.
    this.db = openPrivateSqlite(file, { label: 'webhook outbox', synchronous: 'NORMAL' }, (path, timeout) => new Database(path, { timeout }));
    this.insert = this.db.prepare(
      `INSERT OR IGNORE INTO scopefs_webhook_outbox (id, event_id, webhook, body, state, attempts, next_at, created_at, updated_at)
       VALUES (@id, @eventId, @webhook, @body, 'pending', 0, @at, @at, @at)`,
    );
  }

  /** Adds the deliveries of one event, in one transaction. */
  enqueue(rows: ReadonlyArray<{ id: string; eventId: string; webhook: string; body: string }>, at: number): void {
    if (rows.length === 1) return void this.insert.run({ ...rows[0], at });
    this.db.transaction(() => {
      for (const row of rows) this.insert.run({ ...row, at });
    })();
  }

  /** Pending deliveries due by `now`, oldest first. */
  due(now: number, limit: number): Delivery[] {
    const rows = this.db.prepare("SELECT * FROM scopefs_webhook_outbox WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, created_at LIMIT ?").all(now, limit) as Row[];
    return rows.map(deliveryOf);
  }

  /** When the next pending delivery is due, or undefined when none is pending. */
  nextDue(): number | undefined {
    const row = this.db.prepare("SELECT min(next_at) AS at FROM scopefs_webhook_outbox WHERE state = 'pending'").get() as { at: number | null };
    return row.at ?? undefined;
  }

  delivered(id: string, attempts: number, now: number): void {
    this.db.prepare("UPDATE scopefs_webhook_outbox SET state = 'delivered', attempts = ?, last_error = NULL, updated_at = ? WHERE id = ?").run(attempts, now, id);
  }

  failed(id: string, attempts: number, error: string, now: number, next: { dead: true } | { dead: false; nextAt: number }): void {
    this.db
      .prepare('UPDATE scopefs_webhook_outbox SET state = ?, attempts = ?, last_error = ?, next_at = ?, updated_at = ? WHERE id = ?')
      .run(next.dead ? 'dead' : 'pending', attempts, error.slice(0, 500), next.dead ? now : next.nextAt, now, id);
  }

  /** Makes a delivery (dead, or already delivered) pending again, due now; false when no delivery has that id. */
  redeliver(id: string, now: number): boolean {
    return this.db.prepare("UPDATE scopefs_webhook_outbox SET state = 'pending', attempts = 0, next_at = ?, updated_at = ? WHERE id = ?").run(now, now, id).changes > 0;
  }

  /** After a restart, what was waiting for its retry is tried at once. */
  retryPendingNow(now: number): void {
    this.db.prepare("UPDATE scopefs_webhook_outbox SET next_at = ? WHERE state = 'pending' AND next_at > ?").run(now, now);
  }

  /** Drops the deliveries of a removed subscription that are still pending (dead ones stay visible). */
  dropPending(webhook: string): void {
    this.db.prepare("DELETE FROM scopefs_webhook_outbox WHERE webhook = ? AND state = 'pending'").run(webhook);
  }

  counts(): Record<DeliveryState, number> {
    const rows = this.db.prepare('SELECT state, count(*) AS n FROM scopefs_webhook_outbox GROUP BY state').all() as Array<{ state: DeliveryState; n: number }>;
    const counts = { pending: 0, delivered: 0, dead: 0 };
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  dead(): DeliveryInfo[] {
    const rows = this.db.prepare("SELECT * FROM scopefs_webhook_outbox WHERE state = 'dead' ORDER BY updated_at DESC LIMIT ?").all(DEAD_SHOWN) as Row[];
    return rows.map((row) => infoOf(deliveryOf(row)));
  }

  /** Every delivery of an event id (tests, and a receiver's support question). */
  byEvent(eventId: string): Delivery[] {
    return (this.db.prepare('SELECT * FROM scopefs_webhook_outbox WHERE event_id = ?').all(eventId) as Row[]).map(deliveryOf);
  }

  /** Forgets delivered rows older than `before`; returns how many. */
  prune(before: number): number {
    return this.db.prepare("DELETE FROM scopefs_webhook_outbox WHERE state = 'delivered' AND updated_at < ?").run(before).changes;
  }

  close(): void {
    this.db.close();
  }
}

function deliveryOf(row: Row): Delivery {
  const delivery: Delivery = {
    id: row.id,
    eventId: row.event_id,
    webhook: row.webhook,
    body: row.body,
    state: row.state,
    attempts: row.attempts,
    nextAt: row.next_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.last_error !== null) delivery.lastError = row.last_error;
  return delivery;
}

/** A delivery as status shows it: its event type, not its body. */
export function infoOf(delivery: Delivery): DeliveryInfo {
  const { body, ...info } = delivery;
  let type: string | undefined;
  try {
    type = (JSON.parse(body) as { type?: string }).type;
  } catch {
    // a body is always JSON; status stays readable regardless
  }
  return type === undefined ? info : { ...info, type };
}
