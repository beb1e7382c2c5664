import { randomBytes } from 'node:crypto';

/** One event as sent on the SSE stream. */
export interface LoggedEvent {
  /** `<run>-<seq>`: the run part tells ids of an earlier server run apart. */
  id: string;
  seq: number;
  type: string;
  data: unknown;
  /** The event as an SSE frame, encoded once and shared by every stream that sends it. */
  frame: Buffer;
}

export type EventLogListener = (event: LoggedEvent) => void;

/**
 * The numbered event history behind the SSE stream: a bounded window of the
 * most recent events, so a client that reconnects with `Last-Event-ID` gets
 * what it missed, or learns that the window has moved past it. Streams that
 * cannot keep up read from here at their own pace instead of each buffering
 * its own copy.
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

  /** The sequence number of the newest event (0: none yet). */
  get lastSeq(): number {
    return this.seq;
  }

  append(type: string, data: unknown): LoggedEvent {
    this.seq += 1;
    const id = this.idOf(this.seq);
    const event: LoggedEvent = { id, seq: this.seq, type, data, frame: Buffer.from(sseFrame(id, type, data)) };
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
    const seq = this.seqOf(lastEventId);
    return seq === undefined ? undefined : this.afterSeq(seq);
  }

  /** The sequence number an id of this run names, if it names one that happened. */
  seqOf(lastEventId: string): number | undefined {
    const match = /^([0-9a-f]+)-(\d+)$/.exec(lastEventId.trim());
    if (!match || match[1] !== this.run) return undefined;
    const seq = Number(match[2]);
    return seq > this.seq ? undefined : seq;
  }

  /** Up to `limit` events after `seq`, or undefined when some of them have left the window. */
  afterSeq(seq: number, limit = Infinity): LoggedEvent[] | undefined {
    const oldest = this.window[0]?.seq ?? this.seq + 1;
    if (seq < oldest - 1) return undefined;
    const start = seq - oldest + 1;
    return this.window.slice(start, Math.min(this.window.length, start + limit));
  }

  subscribe(listener: EventLogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private idOf(seq: number): string {
    return `${this.run}-${seq}`;
  }
}

export function sseFrame(id: string, type: string, data: unknown): string {
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}
