/**
 * Subscriber fan-out. Every delivery is its own microtask: a listener never
 * runs inside an actor handler, its result is never awaited, and whatever it
 * throws or rejects is swallowed. Microtasks run in FIFO order, so each
 * listener sees its snapshot first and then events in the order they happened.
 */
import { fsErrors } from '../errors.js';
import type { EntryMeta, FsEvent, FsListener } from '../types.js';

interface Subscription {
  listener: FsListener;
  active: boolean;
}

export class Subscribers {
  private readonly subscriptions = new Set<Subscription>();

  get count(): number {
    return this.subscriptions.size;
  }

  /** Adds a listener; with a snapshot, it first receives the entries given. Returns the unsubscribe function. */
  add(listener: FsListener, snapshot?: EntryMeta[]): () => void {
    if (typeof listener !== 'function') throw fsErrors.invalid('subscribe needs a listener function');
    const subscription: Subscription = { listener, active: true };
    this.subscriptions.add(subscription);
    if (snapshot) deliver(subscription, { type: 'snapshot', entries: snapshot });
    return () => {
      subscription.active = false;
      this.subscriptions.delete(subscription);
    };
  }

  emit(event: FsEvent): void {
    for (const subscription of this.subscriptions) deliver(subscription, event);
  }

  clear(): void {
    for (const subscription of this.subscriptions) subscription.active = false;
    this.subscriptions.clear();
  }
}

function deliver(subscription: Subscription, event: FsEvent): void {
  queueMicrotask(() => {
    if (!subscription.active) return;
    try {
      const result = subscription.listener(event);
      if (result && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, () => undefined);
      }
    } catch {
      // A broken listener is its owner's problem; the filesystem carries on.
    }
  });
}
