/**
 * Subscriptions another instance adds or removes reach this one by a sweep:
 * one read of the subscriptions of every app on a store per period, however
 * many scopes of the process use that store. Each scope joins with its app
 * and hears its own list. (A timer per scope would be per-scope polling: a
 * thousand idle scopes on one database made a hundred queries a second.)
 */
import type { Webhook } from './types.js';

/** A store's subscription table as the sweep reads it. */
export interface SweepSource {
  /** The same for every table over one store (its object, or its file). */
  readonly key: object | string;
  readonly app: string;
  /** The subscriptions of each of these apps (an app with none may be missing). */
  listApps(apps: readonly string[]): Promise<Map<string, Webhook[]>>;
}

export interface SweepMember {
  source: SweepSource;
  /** `readSince`: when the read began (performance.now()), so a member can skip a read older than its own last change. */
  heard(webhooks: Webhook[], readSince: number): void;
  failed(err: unknown): void;
}

export const SWEEP_MS = 10_000;

const sweeps = new Map<object | string, Sweep>();

/** Joins the sweep of the member's store; the function returned leaves it (the last to leave stops it). */
export function joinSweep(member: SweepMember, periodMs = SWEEP_MS): () => void {
  const key = member.source.key;
  let sweep = sweeps.get(key);
  if (!sweep) sweeps.set(key, (sweep = new Sweep(periodMs)));
  sweep.members.add(member);
  return () => {
    if (!sweep.members.delete(member) || sweep.members.size > 0) return;
    sweep.stop();
    if (sweeps.get(key) === sweep) sweeps.delete(key);
  };
}

class Sweep {
  readonly members = new Set<SweepMember>();
  private readonly timer: NodeJS.Timeout;
  private running = false;

  constructor(periodMs: number) {
    this.timer = setInterval(() => void this.run(), periodMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One read for every member; a read still running when the next is due is not doubled. */
  async run(): Promise<void> {
    if (this.running || this.members.size === 0) return;
    this.running = true;
    const members = [...this.members];
    const readSince = performance.now();
    try {
      // Any member's table reads the store: the first one may have closed since the sweep began.
      const lists = await members[0]!.source.listApps([...new Set(members.map((m) => m.source.app))]);
      for (const member of members) if (this.members.has(member)) member.heard(lists.get(member.source.app) ?? [], readSince);
    } catch (err) {
      for (const member of members) member.failed(err);
    } finally {
      this.running = false;
    }
  }
}

/** Groups rows that carry their app into lists per app. */
export function byApp<T>(rows: ReadonlyArray<{ app: string; value: T }>): Map<string, T[]> {
  const lists = new Map<string, T[]>();
  for (const { app, value } of rows) {
    const list = lists.get(app);
    if (list) list.push(value);
    else lists.set(app, [value]);
  }
  return lists;
}
