/**
 * A small Server-Sent Events reader for tests: keeps every event received and
 * lets a test await the first one matching a predicate (no sleeping).
 */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

interface Waiter {
  match: (message: SseMessage) => boolean;
  resolve: (message: SseMessage) => void;
}

export class SseClient {
  readonly messages: SseMessage[] = [];
  comments = 0;
  private waiters: Waiter[] = [];
  private commentWaiters: Array<() => void> = [];
  private readonly abort = new AbortController();
  ended = false;

  private constructor() {}

  /** Connects and resolves once the response headers arrived. */
  static async connect(url: string, options: { token?: string; lastEventId?: string } = {}): Promise<SseClient> {
    const client = new SseClient();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
    const response = await fetch(url, { headers, signal: client.abort.signal });
    if (!response.ok || !response.body) throw new Error(`SSE connect failed: HTTP ${response.status}`);
    void client.pump(response.body);
    return client;
  }

  /** The first event (already received or still to come) that matches. */
  waitFor(match: (message: SseMessage) => boolean, timeoutMs = 20_000): Promise<SseMessage> {
    const found = this.messages.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching SSE event within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`)), timeoutMs);
      this.waiters.push({ match, resolve: (message) => (clearTimeout(timer), resolve(message)) });
    });
  }

  /** Resolves when the next comment line (a heartbeat) arrives. */
  nextComment(timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no heartbeat')), timeoutMs);
      this.commentWaiters.push(() => (clearTimeout(timer), resolve()));
    });
  }

  close(): void {
    this.abort.abort();
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.onBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // aborted by close()
    }
    this.ended = true;
  }

  private onBlock(block: string): void {
    const message: SseMessage = { id: undefined, event: 'message', data: '' };
    let fields = 0;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments += 1;
        for (const resolve of this.commentWaiters.splice(0)) resolve();
        continue;
      }
      const colon = line.indexOf(':');
      const field = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') message.id = value;
      if (field === 'event') message.event = value;
      if (field === 'data') message.data += value;
      if (field === 'id' || field === 'event' || field === 'data') fields += 1;
    }
    if (fields === 0) return;
    this.messages.push(message);
    const ready = this.waiters.filter((waiter) => waiter.match(message));
    this.waiters = this.waiters.filter((waiter) => !ready.includes(waiter));
    for (const waiter of ready) waiter.resolve(message);
  }
}

/** Matches a file event for `path` (optionally with a given origin). */
export function fileEvent(type: string, path: string, origin?: string) {
  return (message: SseMessage): boolean => {
    if (message.event !== type) return false;
    const data = JSON.parse(message.data) as { path?: string; to?: string; origin?: string };
    return (data.path ?? data.to) === path && (origin === undefined || data.origin === origin);
  };
}
