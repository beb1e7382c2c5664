/**
 * Change hints for one app of the supabase store. Supabase Realtime
 * (postgres_changes on scopefs.heads: one tiny row per app, never content) is
 * used when it is connected; while it is not, the app's head is polled with
 * scopefs_head, starting from the head read when watching began. Realtime
 * delivers nothing from before its subscription, so every time the channel
 * (re)subscribes, and when polling recovers from an outage, the watcher emits
 * `{ reconnected: true }`: the consumer catches up by cursor.
 */
import type { RealtimeChannel, RealtimePostgresChangesPayload, SupabaseClient } from '@supabase/supabase-js';
import type { StoreHint } from './types.js';

export interface HeadWatchOptions {
  app: string;
  emit: (hint: StoreHint) => void;
  /** scopefs_head through RPC. */
  readHead: () => Promise<number>;
  /** The client to open a Realtime channel on; null when Realtime is off. */
  realtime: SupabaseClient | null;
  /** Head polling interval while Realtime is not connected. */
  pollIntervalMs: number;
  /** The head as the caller last read it (no hint until it moves). */
  initialHead: number;
}

export class SupabaseHeadWatch {
  private lastHead: number;
  private realtimeLive = false;
  private pollFailing = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private channel: RealtimeChannel | null = null;

  constructor(private readonly options: HeadWatchOptions) {
    this.lastHead = options.initialHead;
  }

  /** True while Realtime delivers the hints (polling is paused). */
  get usingRealtime(): boolean {
    return this.realtimeLive;
  }

  start(): void {
    if (this.options.realtime) this.subscribe(this.options.realtime);
    this.schedulePoll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const channel = this.channel;
    this.channel = null;
    if (channel) await this.options.realtime?.removeChannel(channel);
  }

  private subscribe(client: SupabaseClient): void {
    const filter = { event: '*', schema: 'scopefs', table: 'heads', filter: `app=eq.${this.options.app}` } as const;
    this.channel = client
      .channel(`scopefs-heads:${this.options.app}`)
      .on('postgres_changes', filter, (payload) => this.onChange(payload))
      .subscribe((status) => this.onStatus(status));
  }

  private onStatus(status: string): void {
    if (this.stopped) return;
    const wasLive = this.realtimeLive;
    // Anything but SUBSCRIBED (CHANNEL_ERROR, TIMED_OUT, CLOSED): polling takes
    // over until supabase-js rejoins the channel.
    this.realtimeLive = status === 'SUBSCRIBED';
    if (this.realtimeLive && !wasLive) this.options.emit({ reconnected: true });
  }

  private onChange(payload: RealtimePostgresChangesPayload<{ [key: string]: unknown }>): void {
    const revision = Number((payload.new as { revision?: unknown } | undefined)?.revision);
    if (Number.isSafeInteger(revision)) this.noteHead(revision);
  }

  private noteHead(head: number): void {
    if (this.stopped || head === this.lastHead) return;
    this.lastHead = head;
    this.options.emit({ head });
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), this.options.pollIntervalMs);
    // Hints alone must not keep a process alive.
    this.timer.unref();
  }

  /** One scopefs_head call per interval while Realtime is down; none while it is live. */
  private async poll(): Promise<void> {
    if (!this.realtimeLive) {
      try {
        const head = await this.options.readHead();
        if (this.pollFailing) this.options.emit({ reconnected: true });
        this.pollFailing = false;
        this.noteHead(head);
      } catch {
        this.pollFailing = true;
      }
    }
    this.schedulePoll();
  }
}
