/**
 * Per-app hint listeners for SyncStore.watch(). Delivery is asynchronous (a
 * microtask, never inside the caller's stack) and one listener throwing never
 * stops the others: hints are advisory, the cursor is the source of truth.
 */
import { errorMessage } from '../../src/errors.js';
import type { StoreHint } from './types.js';

export type HintListener = (hint: StoreHint) => void;

export class HintListeners {
  private readonly byApp = new Map<string, Set<HintListener>>();

  /** Adds a listener; the returned function removes it (idempotent). */
  add(app: string, listener: HintListener): () => void {
    let listeners = this.byApp.get(app);
    if (!listeners) this.byApp.set(app, (listeners = new Set()));
    // Wrap so the same function can be subscribed twice and removed independently.
    const entry: HintListener = (hint) => listener(hint);
    listeners.add(entry);
    return () => {
      listeners.delete(entry);
      if (listeners.size === 0 && this.byApp.get(app) === listeners) this.byApp.delete(app);
    };
  }

  /** Apps with at least one listener. */
  apps(): string[] {
    return [...this.byApp.keys()];
  }

  get isEmpty(): boolean {
    return this.byApp.size === 0;
  }

  emit(app: string, hint: StoreHint): void {
    const listeners = this.byApp.get(app);
    if (!listeners) return;
    const snapshot = [...listeners];
    queueMicrotask(() => {
      // Skip listeners removed after the hint was queued.
      for (const listener of snapshot) if (listeners.has(listener)) deliver(listener, hint);
    });
  }

  emitAll(hint: StoreHint): void {
    for (const app of this.apps()) this.emit(app, hint);
  }

  clear(): void {
    this.byApp.clear();
  }
}

function deliver(listener: HintListener, hint: StoreHint): void {
  try {
    listener(hint);
  } catch (err) {
    process.emitWarning(`scopefs: a store hint listener threw: ${errorMessage(err)}`);
  }
}
