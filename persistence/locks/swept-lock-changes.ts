/**
 * The PostgreSQL half of the shared safety refresh (lock-signatures.ts): one
 * watch per store object per process reads every app's lock signature in ONE
 * query every LOCK_SAFETY_SWEEP.periodMs and wakes only the mirrors of apps
 * whose signature moved, in case a NOTIFY was lost. A failed sweep is not
 * passed on: the LISTEN connection's own `error`/`reconnected` decide whether
 * mirrors poll; the next sweep tries again.
 */
import { LockSignatures, safetySweep, type LockChangeListener, type SignatureRows } from './lock-signatures.js';

const SIGNATURES = 'SELECT app, count(*) AS n, max(fence) AS f FROM scopefs.locks GROUP BY app';

/** A store that runs one statement and returns its rows (PostgresStore.queryRows). */
export interface SignatureSource {
  queryRows(text: string, values: readonly unknown[]): Promise<Record<string, unknown>[]>;
}

export function isSignatureSource(store: unknown): store is SignatureSource {
  return typeof (store as Partial<SignatureSource> | null)?.queryRows === 'function';
}

const watches = new WeakMap<SignatureSource, SweptLockChanges>();

/** Calls `listener` when a safety sweep finds the app's locks moved; returns the function that stops it. */
export function watchSweptLockChanges(source: SignatureSource, app: string, listener: LockChangeListener): () => void {
  let watch = watches.get(source);
  if (!watch) watches.set(source, (watch = new SweptLockChanges(source, () => watches.delete(source))));
  return watch.signatures.add(app, listener);
}

class SweptLockChanges {
  readonly signatures = new LockSignatures(() => this.stop());
  private readonly stopSweep: () => void;
  private stopped = false;

  constructor(
    private readonly source: SignatureSource,
    private readonly forget: () => void,
  ) {
    // The baseline; until it is read, the first sweep wakes the apps holding locks (one harmless refresh each).
    this.read().then((rows) => this.stopped || this.signatures.start(rows), () => undefined);
    this.stopSweep = safetySweep(async () => this.signatures.update(await this.read()));
  }

  private stop(): void {
    this.stopped = true;
    this.forget();
    this.stopSweep();
  }

  private async read(): Promise<SignatureRows> {
    return (await this.source.queryRows(SIGNATURES, [])) as unknown as SignatureRows;
  }
}
