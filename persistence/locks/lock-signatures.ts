/**
 * Which apps' locks changed, told to per-app listeners: the part the SQLite
 * watch (sqlite-lock-changes.ts, on commits and on the safety timer) and the
 * PostgreSQL safety sweep (swept-lock-changes.ts) share.
 * A signature per app (live rows, highest fence) moves on every new lock (its
 * fence is above every earlier one of the app) and every release or sweep (the
 * count drops); a renewal does not, which is fine: a mirror holding a lock
 * refreshes on its own timer while the lock lives. Failures are passed on as
 * `error` (mirrors then poll), the first read that works again as `reconnected`.
 *
 * Hints can be lost (a NOTIFY dropped with its connection, a commit the
 * poller folded away), so each watch also reads the signatures on a slow
 * safety timer (safetySweep): ONE query per store per process every
 * LOCK_SAFETY_SWEEP.periodMs, however many mirrors listen, waking only the
 * apps whose signature moved. No mirror keeps an idle timer of its own.
 */
import { errorMessage } from '../../src/errors.js';

export interface LockChange {
  error?: string;
  reconnected?: boolean;
}
export type LockChangeListener = (change: LockChange) => void;

/** Rows of `SELECT app, count(*) AS n, max(fence) AS f FROM <locks> GROUP BY app`. */
export type SignatureRows = ReadonlyArray<{ app: unknown; n: unknown; f: unknown }>;

/** How often each shared watch re-reads every app's signature (tests shorten it before opening watches). */
export const LOCK_SAFETY_SWEEP = { periodMs: 30_000 };

export class LockSignatures {
  private readonly byApp = new Map<string, Set<LockChangeListener>>();
  private signatures = new Map<string, string>();
  private failing = false;

  constructor(private readonly onEmpty: () => void) {}

  get isEmpty(): boolean {
    return this.byApp.size === 0;
  }

  add(app: string, listener: LockChangeListener): () => void {
    let listeners = this.byApp.get(app);
    if (!listeners) this.byApp.set(app, (listeners = new Set()));
    const entry: LockChangeListener = (change) => listener(change);
    listeners.add(entry);
    return () => {
      if (!listeners.delete(entry)) return;
      if (listeners.size === 0 && this.byApp.get(app) === listeners) this.byApp.delete(app);
      if (this.byApp.size === 0) this.onEmpty();
    };
  }

  /** The first read: the baseline later reads are compared with. */
  start(rows: SignatureRows): void {
    this.signatures = signaturesOf(rows);
  }

  /** A fresh read: tells the apps whose signature moved (or everyone, `reconnected`, after failures). */
  update(rows: SignatureRows, reconnected = false): void {
    const previous = this.signatures;
    this.signatures = signaturesOf(rows);
    if (this.failing || reconnected) {
      this.failing = false;
      return this.tellAll({ reconnected: true });
    }
    for (const [app, listeners] of this.byApp) if (this.signatures.get(app) !== previous.get(app)) tell(listeners, {});
  }

  failed(error: string): void {
    if (this.failing) return;
    this.failing = true;
    this.tellAll({ error });
  }

  private tellAll(change: LockChange): void {
    for (const listeners of this.byApp.values()) tell(listeners, change);
  }
}

/**
 * Runs `sweep` every LOCK_SAFETY_SWEEP.periodMs until the returned function is
 * called; a sweep still running when the next is due is not doubled.
 */
export function safetySweep(sweep: () => void | Promise<void>): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const next = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void Promise.resolve()
        .then(sweep)
        .catch(() => undefined) // the sweep reports its own failures; the next one tries again
        .finally(next);
    }, LOCK_SAFETY_SWEEP.periodMs);
    timer.unref?.();
  };
  next();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

function signaturesOf(rows: SignatureRows): Map<string, string> {
  return new Map(rows.map((row) => [String(row.app), `${String(row.n)}:${String(row.f)}`]));
}

function tell(listeners: Set<LockChangeListener>, change: LockChange): void {
  for (const listener of [...listeners]) {
    try {
      listener(change);
    } catch (err) {
      process.emitWarning(`scopefs: a lock change listener threw: ${errorMessage(err)}`);
    }
  }
}
