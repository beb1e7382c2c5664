/**
 * The postgres store's dedicated LISTEN connection (a pool cannot hold one:
 * LISTEN belongs to a session). When the connection is lost it reconnects
 * with exponential backoff and jitter, and reports `onReconnected` so
 * that consumers catch up by cursor: notifications sent while it was away
 * are gone for good.
 */
import pg from 'pg';
import { CONNECTION_DEFAULTS } from './pg-connection.js';

export interface PgListenerOptions {
  connectionString: string;
  channel: string;
  onNotification: (payload: string) => void;
  /** After a lost connection is back and listening again. */
  onReconnected: () => void;
  /** When the connection is lost (notifications are missed until onReconnected). */
  onLost?: (err: unknown) => void;
  /** Counts statements sent (LISTEN). */
  onQuery?: () => void;
  /** First reconnect delay; doubles per failed attempt up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export class PgListener {
  private client: pg.Client | null = null;
  private closed = false;
  private reconnecting = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private attempt = 0;

  constructor(private readonly options: PgListenerOptions) {}

  get connected(): boolean {
    return this.client !== null;
  }

  /** Connects and listens; rejects when the server cannot be reached. */
  async start(): Promise<void> {
    await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString, ...CONNECTION_DEFAULTS });
    const lost = (err?: unknown) => this.lost(client, err);
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      if (message.channel === this.options.channel) this.options.onNotification(message.payload ?? '');
    });
    try {
      await client.connect();
      this.options.onQuery?.();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.options.channel)}`);
    } catch (err) {
      client.removeListener('end', lost);
      await client.end().catch(() => {});
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.client !== client) return;
    this.client = null;
    client.end().catch(() => {});
    this.scheduleReconnect();
    this.options.onLost?.(err);
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnecting) return;
    this.reconnecting = true;
    const initial = this.options.initialDelayMs ?? 100;
    const ceiling = Math.min(this.options.maxDelayMs ?? 10_000, initial * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt++;
    this.retryTimer = setTimeout(() => void this.reconnect(), delay);
    this.retryTimer.unref();
  }

  private async reconnect(): Promise<void> {
    this.retryTimer = null;
    try {
      await this.connect();
    } catch {
      this.reconnecting = false;
      this.scheduleReconnect();
      return;
    }
    this.reconnecting = false;
    if (this.closed) return;
    this.attempt = 0;
    this.options.onReconnected();
  }
}
