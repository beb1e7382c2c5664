import { randomBytes } from 'node:crypto';

/** One event as sent on the SSE stream. */
export interface LoggedEvent {
  /** `<run>-<seq>`: the run part tells ids of an earlier server run apart. */
  id: string;
  seq: number;
  type: string;
  data: unknown;
}

export type EventLogListener = (event: LoggedEvent) => void;

/**
 * The numbered event history behind the SSE stream: a bounded window of the
 * most recent events, so a client that reconnects with `Last-Event-ID` gets
 * what it missed, or learns that the window has moved past it.
 */
export class EventLog {
  private readonly run = randomBytes(4).toString('hex');
  private readonly window: LoggedEvent[] = [];
  private readonly listeners = new Set<EventLogListener>();
  private seq = 0;

  constructor(private readonly capacity = 1_000) {}

  /** The id of the newest event (or of "nothing yet"), to hand a new client as its starting point. */
  get lastId(): string {
    return this.idOf(this.seq);
  }

  append(type: string, data: unknown): LoggedEvent {
    this.seq += 1;
    const event: LoggedEvent = { id: this.idOf(this.seq), seq: this.seq, type, data };
    this.window.push(event);
    if (this.window.length > this.capacity) this.window.shift();
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /**
   * The events after `lastEventId`, or undefined when that id is not from
   * this run or some events after it have already left the window.
   */
  after(lastEventId: string): LoggedEvent[] | undefined {
    const match = /^([0-9a-f]+)-(\d+)$/.exec(lastEventId.trim());
    if (!match || match[1] !== this.run) return undefined;
    const seq = Number(match[2]);
    if (seq > this.seq) return undefined;
    const oldest = this.window[0]?.seq ?? this.seq + 1;
    if (seq < oldest - 1) return undefined;
    return this.window.filter((event) => event.seq > seq);
  }

  subscribe(listener: EventLogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private idOf(seq: number): string {
    return `${this.run}-${seq}`;
  }
}
