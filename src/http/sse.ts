import type { IncomingMessage, ServerResponse } from 'node:http';
import { sseFrame, type EventLog, type LoggedEvent } from './event-log.js';
import { sendJson } from './responses.js';

export interface SseLimits {
  /** Interval of the comment lines that keep proxies and clients from timing out. */
  heartbeatMs: number;
  /** Streams open at once; one more is refused with 503 until one closes. */
  maxStreams: number;
  /** Bytes waiting to be sent, summed over every stream; over it, the streams holding the most are closed. */
  maxBufferedBytes: number;
}

export interface SseStats {
  streams: number;
  /** Bytes written to the streams and not yet taken by the kernel. */
  bufferedBytes: number;
  /** Streams closed so far because they could not keep up. */
  dropped: number;
}

const EVENTS_PER_PUMP = 256;
const HEARTBEAT = Buffer.from(': heartbeat\n\n');
const RETRY = Buffer.from('retry: 2000\n\n');

/** What one stream may see: the frame to send for an event, or undefined to skip it (a limited token's view). */
export interface StreamView {
  frame(event: LoggedEvent): Buffer | undefined;
}

interface Stream {
  res: ServerResponse;
  view: StreamView | undefined;
  /** The newest event handed to the socket. */
  sentSeq: number;
  /** The socket refused more (write returned false); nothing is sent until it drains. */
  blocked: boolean;
}

/**
 * Every Server-Sent Events stream of a server, fed from one EventLog.
 *
 * Memory stays bounded whatever the clients do: a stream is written only
 * while its socket accepts data; once the socket pushes back, the stream only
 * remembers how far it got, and catches up from the log when the socket
 * drains. So a client that stops reading costs about one socket buffer, not
 * a copy of every event since. Beyond that, three limits: a stream that falls
 * out of the log's window, or that holds the most bytes while the total is
 * over `maxBufferedBytes`, is closed; its client reconnects with
 * `Last-Event-ID` and gets what it missed (or a `reset` when that is gone).
 * More than `maxStreams` at once are refused with 503.
 */
export class SseHub {
  private readonly streams = new Set<Stream>();
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private dropped = 0;
  private capCheck: NodeJS.Immediate | undefined;

  constructor(
    private readonly log: EventLog,
    private readonly limits: SseLimits,
  ) {
    this.unsubscribe = log.subscribe(() => this.onAppend());
    this.heartbeat = setInterval(() => this.beat(), limits.heartbeatMs);
    this.heartbeat.unref();
  }

  stats(): SseStats {
    return { streams: this.streams.size, bufferedBytes: this.bufferedBytes(), dropped: this.dropped };
  }

  /**
   * Serves one client. A new client first gets a `ready` event carrying the
   * newest id; a reconnecting client (with `Last-Event-ID`) first gets the
   * events it missed, or a `reset` event when they have left the window,
   * telling it to re-list instead.
   */
  accept(req: IncomingMessage, res: ServerResponse, view?: StreamView): void {
    if (this.streams.size >= this.limits.maxStreams) return refuse(res, this.limits.maxStreams);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const stream: Stream = { res, view, sentSeq: this.log.lastSeq, blocked: false };
    this.streams.add(stream);
    res.on('close', () => this.streams.delete(stream));
    res.on('drain', () => {
      stream.blocked = false;
      this.pump(stream);
      this.checkByteCap();
    });
    this.write(stream, RETRY);
    this.start(stream, req.headers['last-event-id']);
    this.checkByteCap();
  }

  /** Ends the streams whose view fails `test` at once (a revoked token's); returns how many. */
  closeWhere(test: (view: StreamView | undefined) => boolean): number {
    let closed = 0;
    for (const stream of this.streams) {
      if (!test(stream.view)) continue;
      this.streams.delete(stream);
      stream.res.end();
      closed += 1;
    }
    return closed;
  }

  /** Ends every stream and stops listening to the log. */
  close(): void {
    clearInterval(this.heartbeat);
    if (this.capCheck) clearImmediate(this.capCheck);
    this.unsubscribe();
    for (const { res } of this.streams) res.end();
  }

  private start(stream: Stream, lastEventId: string | string[] | undefined): void {
    if (typeof lastEventId !== 'string' || lastEventId === '') {
      this.write(stream, Buffer.from(sseFrame(this.log.lastId, 'ready', { type: 'ready' })));
      return;
    }
    const seq = this.log.seqOf(lastEventId);
    if (seq === undefined || this.log.afterSeq(seq, 0) === undefined) {
      const reason = 'events after the given Last-Event-ID are no longer available; list the files again';
      this.write(stream, Buffer.from(sseFrame(this.log.lastId, 'reset', { type: 'reset', reason })));
      return;
    }
    stream.sentSeq = seq;
    this.pump(stream);
  }

  private onAppend(): void {
    for (const stream of this.streams) this.pump(stream);
    this.checkByteCap();
  }

  /**
   * Sends what the stream has not had yet, until its socket pushes back. A
   * stream whose next event has left the window is closed, even while
   * blocked: it can never continue, and its client resumes by reconnecting
   * (learning that it must re-list).
   */
  private pump(stream: Stream): void {
    if (this.log.afterSeq(stream.sentSeq, 0) === undefined) return this.drop(stream);
    while (!stream.blocked && !stream.res.destroyed && stream.sentSeq < this.log.lastSeq) {
      const events = this.log.afterSeq(stream.sentSeq, EVENTS_PER_PUMP)!;
      for (const event of events) {
        stream.sentSeq = event.seq;
        const frame = stream.view ? stream.view.frame(event) : event.frame;
        if (frame !== undefined && !this.write(stream, frame)) break;
      }
    }
  }

  private write(stream: Stream, chunk: Buffer): boolean {
    if (stream.res.destroyed) return false;
    if (!stream.res.write(chunk)) stream.blocked = true;
    return !stream.blocked;
  }

  private beat(): void {
    for (const stream of this.streams) if (!stream.blocked) this.write(stream, HEARTBEAT);
    this.checkByteCap();
  }

  /**
   * Enforces the byte cap once the sockets have taken what they can. Right
   * after a write every stream still holds it (Node corks a chunked response
   * until the next tick), so measuring then would count data that is about
   * to leave, and a reader keeping up could be dropped for it.
   */
  private checkByteCap(): void {
    this.capCheck ??= setImmediate(() => {
      this.capCheck = undefined;
      this.enforceByteCap();
    });
  }

  /** Over the cap, closes the streams holding the most bytes (the slowest readers) until under it. */
  private enforceByteCap(): void {
    let total = this.bufferedBytes();
    if (total <= this.limits.maxBufferedBytes) return;
    const heaviest = [...this.streams].sort((a, b) => b.res.writableLength - a.res.writableLength);
    for (const stream of heaviest) {
      if (total <= this.limits.maxBufferedBytes) break;
      total -= stream.res.writableLength;
      this.drop(stream);
    }
  }

  private bufferedBytes(): number {
    let total = 0;
    for (const { res } of this.streams) total += res.writableLength;
    return total;
  }

  /** Closes the connection at once (ending it would wait for the buffer to be read), which frees what it held. */
  private drop(stream: Stream): void {
    this.streams.delete(stream);
    this.dropped += 1;
    stream.res.destroy();
  }
}

function refuse(res: ServerResponse, limit: number): void {
  const message = `too many event streams are open (the limit is ${limit}); retry later, with Last-Event-ID to resume`;
  sendJson(res, 503, { error: { code: 'EBUSY', message } }, { 'retry-after': '5' });
}
