/**
 * A stand-in for Supabase Realtime, given to supabase-js as its WebSocket
 * `transport`. It speaks the Phoenix v2 wire format realtime-js uses
 * (`[join_ref, ref, topic, event, payload]` JSON arrays): it answers
 * heartbeats, acknowledges `phx_join` with ids for the postgres_changes
 * bindings, and turns the real database's `scopefs` NOTIFYs (one per commit
 * that moved an app's head) into postgres_changes UPDATE events on
 * scopefs.heads, filtered by `app=eq.<app>` as Realtime would.
 *
 * `setAvailable(false)` drops every socket and refuses new ones, like an
 * outage of the Realtime service; supabase-js then retries on its own.
 */
import pg from 'pg';

const OPEN = 1;
const CLOSED = 3;

interface Binding {
  id: number;
  event: string;
  schema: string;
  table: string;
  filter?: string;
}

type Frame = [string | null, string | null, string, string, Record<string, unknown>];

export interface FakeRealtime {
  /** The WebSocket class to pass as the supabase store's `webSocket` option. */
  WebSocket: new (url: string, protocols?: string | string[]) => unknown;
  /** Channels joined so far (topics), across reconnects. */
  readonly joins: string[];
  setAvailable(available: boolean): void;
  close(): Promise<void>;
}

export async function startFakeRealtime(databaseUrl: string): Promise<FakeRealtime> {
  const sockets = new Set<FakeSocket>();
  const joins: string[] = [];
  let available = true;
  let nextBindingId = 1;

  const listener = new pg.Client({ connectionString: databaseUrl });
  listener.on('error', () => undefined);
  await listener.connect();
  await listener.query('LISTEN scopefs');
  listener.on('notification', (message) => {
    const { app, head } = JSON.parse(message.payload ?? '{}') as { app: string; head: number };
    for (const socket of sockets) socket.headChanged(app, head);
  });

  class FakeSocket {
    readyState = 0;
    binaryType = 'arraybuffer';
    onopen: (() => void) | null = null;
    onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: string }) => void) | null = null;
    private readonly channels = new Map<string, { joinRef: string | null; bindings: Binding[] }>();

    constructor(readonly url: string) {
      setTimeout(() => {
        if (!available) return this.fail();
        sockets.add(this);
        this.readyState = OPEN;
        this.onopen?.();
      }, 1);
    }

    send(data: string): void {
      const [joinRef, ref, topic, event, payload] = JSON.parse(data) as Frame;
      if (event === 'phx_join') {
        const requested = ((payload.config as { postgres_changes?: Array<Omit<Binding, 'id'>> })?.postgres_changes ?? []);
        const bindings = requested.map((binding) => ({ ...binding, id: nextBindingId++ }));
        this.channels.set(topic, { joinRef, bindings });
        joins.push(topic);
        this.reply(joinRef, ref, topic, { postgres_changes: bindings });
      } else if (event === 'phx_leave') {
        this.channels.delete(topic);
        this.reply(joinRef, ref, topic, {});
      } else {
        // heartbeat, access_token, ...
        this.reply(joinRef, ref, topic, {});
      }
    }

    close(code = 1000, reason = ''): void {
      if (this.readyState === CLOSED) return;
      this.readyState = CLOSED;
      sockets.delete(this);
      setTimeout(() => this.onclose?.({ code, reason, wasClean: code === 1000 }), 1);
    }

    /** Sends an UPDATE of scopefs.heads to every channel bound to this app. */
    headChanged(app: string, head: number): void {
      for (const [topic, channel] of this.channels) {
        const ids = channel.bindings.filter((b) => b.schema === 'scopefs' && b.table === 'heads' && b.filter === `app=eq.${app}`);
        if (ids.length === 0) continue;
        this.deliver([null, null, topic, 'postgres_changes', {
          ids: ids.map((b) => b.id),
          data: {
            schema: 'scopefs',
            table: 'heads',
            commit_timestamp: new Date().toISOString(),
            type: 'UPDATE',
            columns: [{ name: 'app', type: 'text' }, { name: 'revision', type: 'int8' }],
            record: { app, revision: head },
            old_record: { app },
            errors: null,
          },
        }]);
      }
    }

    /** Drops the connection abnormally (code 1006), as a network failure would. */
    fail(): void {
      this.onerror?.(new Error('realtime unavailable'));
      this.close(1006, 'realtime unavailable');
    }

    private reply(joinRef: string | null, ref: string | null, topic: string, response: Record<string, unknown>): void {
      this.deliver([joinRef, ref, topic, 'phx_reply', { status: 'ok', response }]);
    }

    private deliver(frame: Frame): void {
      if (this.readyState !== OPEN) return;
      setTimeout(() => this.onmessage?.({ data: JSON.stringify(frame) }), 0);
    }
  }

  return {
    WebSocket: FakeSocket,
    joins,
    setAvailable(value) {
      available = value;
      if (!value) for (const socket of [...sockets]) socket.fail();
    },
    async close() {
      for (const socket of [...sockets]) socket.close();
      await listener.end();
    },
  };
}
