/**
 * createFileSync's SSE handler, shaped like agent-native's createSSEHandler:
 * the file and sync events of the scope, plus any `extraEmitters` the app
 * passes (`{ emitter, event }`: every `event` the emitter emits is sent), as
 * `data: <json>` messages on one stream. A plain node:http handler, so it
 * mounts in node:http, Express, Fastify (raw) or Hono's node adapter.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Anything with on/off (EventEmitter, eventemitter3, a typed emitter). */
export interface EventLike {
  // `any`, as in agent-native: typed emitters declare narrower listeners.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off(event: string, listener: (...args: any[]) => void): unknown;
}

export interface FileSyncSseOptions {
  /** More emitters to stream from, as in agent-native: each `event` they emit is sent as one message. */
  extraEmitters?: Array<{ emitter: EventLike; event: string }>;
  /** Comment lines that keep proxies from closing an idle stream. Default 15000 ms. */
  heartbeatMs?: number;
}

export type SseRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A handler streaming `sources` (the scope's own first) until the client goes away. */
export function sseHandlerFor(sources: Array<{ emitter: EventLike; event: string }>, heartbeatMs = 15_000): SseRequestHandler {
  return (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive' });
    res.write(': connected\n\n');
    const send = (data: unknown) => {
      if (!res.writableEnded) res.write(`data: ${JSON.stringify(data)}\n\n`);
    };
    const offs = sources.map(({ emitter, event }) => {
      const listener = (data: unknown) => send(data);
      emitter.on(event, listener);
      return () => emitter.off(event, listener);
    });
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
    heartbeat.unref();
    const close = () => {
      clearInterval(heartbeat);
      for (const off of offs) off();
    };
    req.once('close', close);
    res.once('close', close);
  };
}
