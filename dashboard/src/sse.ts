/**
 * Server-sent events over `fetch`, so the bearer token travels in the
 * Authorization header and never in a URL (EventSource cannot set headers).
 * `SseParser` is the pure part: text in, complete events out.
 */

export interface SseEvent {
  id?: string;
  type: string;
  data: string;
}

/** Splits an SSE byte stream (as decoded text, in any chunking) into events. */
export class SseParser {
  private buffer = '';
  private id: string | undefined;
  private type = 'message';
  private data: string[] = [];

  /** Feeds a chunk; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const events: SseEvent[] = [];
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      // A lone '\r' at the end may be the first half of '\r\n': wait for the next chunk.
      if (width === 1 && this.buffer[newline] === '\r' && newline === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(newline + width);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined; // a comment (heartbeat)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const event = this.data.length > 0 ? { ...(this.id !== undefined ? { id: this.id } : {}), type: this.type, data: this.data.join('\n') } : undefined;
    this.type = 'message';
    this.data = [];
    return event;
  }
}

export interface StreamOptions {
  url: string;
  token: string;
  onEvent: (event: SseEvent) => void;
  /** Called with true when the stream is open and false when it dropped (it reconnects by itself). */
  onOpen?: (open: boolean) => void;
  /** Called when the server refuses the stream (401/403): it does not retry then. */
  onRefused?: (status: number, message: string) => void;
  signal: AbortSignal;
  retryMs?: number;
}

/** Keeps an event stream open until `signal` aborts, resuming with Last-Event-ID after a drop. */
export async function streamEvents(options: StreamOptions): Promise<void> {
  let lastId: string | undefined;
  while (!options.signal.aborted) {
    try {
      const headers: Record<string, string> = { authorization: `Bearer ${options.token}`, accept: 'text/event-stream' };
      if (lastId !== undefined) headers['last-event-id'] = lastId;
      const response = await fetch(options.url, { headers, signal: options.signal, cache: 'no-store' });
      if (response.status === 401 || response.status === 403) {
        options.onRefused?.(response.status, await response.text());
        return;
      }
      if (!response.ok || !response.body) throw new Error(`event stream answered ${response.status}`);
      options.onOpen?.(true);
      const parser = new SseParser();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          if (event.id !== undefined) lastId = event.id;
          options.onEvent(event);
        }
      }
    } catch (err) {
      if (options.signal.aborted) return;
    }
    options.onOpen?.(false);
    await delay(options.retryMs ?? 1_000, options.signal);
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
