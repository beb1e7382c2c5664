import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventLog, LoggedEvent } from './event-log.js';

export interface SseOptions {
  /** Interval of the comment lines that keep proxies and clients from timing out. */
  heartbeatMs: number;
  /** A client that falls this far behind is disconnected; it reconnects with Last-Event-ID. */
  maxBufferedBytes: number;
}

/**
 * Serves one Server-Sent Events client from the log. A new client first gets
 * a `ready` event carrying the newest id; a reconnecting client (with
 * `Last-Event-ID`) first gets the events it missed, or a `reset` event when
 * they have left the replay window, telling it to re-list instead.
 */
export function streamEvents(req: IncomingMessage, res: ServerResponse, log: EventLog, options: SseOptions): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const send = (chunk: string): void => {
    res.write(chunk);
    if (res.writableLength > options.maxBufferedBytes) res.destroy();
  };
  res.flushHeaders();
  send('retry: 2000\n\n');
  sendBacklog(req.headers['last-event-id'], log, send);
  // Nothing awaits between the backlog and this subscription, so no event falls in between.
  const unsubscribe = log.subscribe((event) => send(format(event)));
  const heartbeat = setInterval(() => send(': heartbeat\n\n'), options.heartbeatMs);
  res.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
  });
}

function sendBacklog(lastEventId: string | string[] | undefined, log: EventLog, send: (chunk: string) => void): void {
  if (typeof lastEventId !== 'string' || lastEventId === '') {
    send(format({ id: log.lastId, type: 'ready', data: { type: 'ready' } }));
    return;
  }
  const missed = log.after(lastEventId);
  if (missed === undefined) {
    const reason = 'events after the given Last-Event-ID are no longer available; list the files again';
    send(format({ id: log.lastId, type: 'reset', data: { type: 'reset', reason } }));
    return;
  }
  for (const event of missed) send(format(event));
}

function format(event: Pick<LoggedEvent, 'id' | 'type' | 'data'>): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}
