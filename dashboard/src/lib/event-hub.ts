/**
 * What the page's one event stream hands its views: every event to every
 * subscriber, and, to a view that asks when it subscribes (`replay`), the
 * latest events the stream brought before. A view opened after the page
 * subscribes only once it has rendered; without the replay, an event that
 * arrived in between would never be shown.
 */

/** How many of the stream's latest events are kept for a replay. */
export const RECENT_EVENTS = 500;

export class EventHub<E> {
  private readonly listeners = new Set<(event: E) => void>();
  private readonly recent: E[] = [];

  constructor(private readonly keep = RECENT_EVENTS) {}

  publish(event: E): void {
    this.recent.push(event);
    if (this.recent.length > this.keep) this.recent.shift();
    for (const listener of [...this.listeners]) listener(event);
  }

  /** `replay`: first hear the kept events, oldest first. Returns the unsubscribe function. */
  subscribe(listener: (event: E) => void, options?: { replay?: boolean }): () => void {
    if (options?.replay) for (const event of this.recent) listener(event);
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
}
