/**
 * A scope's webhooks: its subscriptions (the store's table when syncing,
 * else the root's `.scopefs/webhooks.db`, else memory), the outbox under its
 * root, and the deliverer.
 *
 * Why the outbox entry is written "in the same step" as the change: the
 * FileSystemServer appends a change's journal record and emits its events in
 * one synchronous handler; each event reaches `event` as a microtask queued
 * then, which runs before the caller's continuation (FIFO), so the outbox
 * row is committed before anyone can see the change acknowledged (the audit
 * log relies on the same order, audit-recorder.ts). A row is only written
 * for an event, and an event only for a change already journaled: a crash
 * never invents a delivery. What the outbox holds survives a kill and is
 * delivered after the restart: a crash never loses one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryWebhookTable } from '../../persistence/webhooks/memory-webhooks.js';
import { SqliteWebhookTable } from '../../persistence/webhooks/sqlite-webhooks.js';
import type { WebhookTable } from '../../persistence/webhooks/types.js';
import { ScopeFsError, errorMessage, fsErrors } from '../errors.js';
import type { FsEvent } from '../types.js';
import { joinSweep } from './subscription-sweep.js';
import { DEFAULT_RETRY } from './backoff.js';
import { Deliverer } from './deliverer.js';
import { Outbox } from './outbox.js';
import type { Delivery, WebhookAdded, WebhookInfo, WebhookInput, WebhookOptions, WebhookStatus, Webhook } from './types.js';
import { assertDeliverableUrl } from './url-safety.js';
import { bodyOf, checkWebhookInput, deliverable, subscribed } from './webhook-input.js';

export interface ScopeWebhooks {
  add(input: WebhookInput): Promise<WebhookAdded>;
  list(): Promise<WebhookInfo[]>;
  remove(id: string): Promise<boolean>;
  status(): WebhookStatus;
  /** Sends a dead (or delivered) delivery again, with its idempotency key; ENOENT for an unknown id. */
  redeliver(id: string): void;
}

export interface OpenedWebhooks extends ScopeWebhooks {
  /** The filesystem subscriber: records the deliveries of a change. */
  event(event: FsEvent): void;
  /** The outbox, once any subscription exists (tests look into it). */
  readonly outbox: Outbox | undefined;
  close(): Promise<void>;
}

/** How often a table without a sweep of its own is read again (another instance may have changed it). */
const REFRESH_MS = 10_000;
const PRUNE_MS = 600_000;
const ID = /^[A-Za-z0-9_.-]{1,200}$/;

export async function openScopeWebhooks(
  root: string | undefined,
  scope: string,
  options: WebhookOptions = {},
  store?: { table: WebhookTable; close(): Promise<void> },
): Promise<OpenedWebhooks | undefined> {
  if (options.enabled === false) return undefined;
  const file = root === undefined ? ':memory:' : join(root, '.scopefs', 'webhooks.db');
  const table = store?.table ?? (root === undefined ? new MemoryWebhookTable() : existsSync(file) ? new SqliteWebhookTable(file, 'local', 'NORMAL') : undefined);
  const webhooks = new ScopeWebhookSet(file, scope, options, table, store);
  await webhooks.load();
  return webhooks;
}

class ScopeWebhookSet implements OpenedWebhooks {
  private readonly cache = new Map<string, Webhook>();
  private readonly session = randomBytes(5).toString('hex');
  private seq = 0;
  private opened: { outbox: Outbox; deliverer: Deliverer } | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private leaveSweep: (() => void) | undefined;
  /** When this instance last added or removed a subscription (performance.now()). */
  private changedAt = -Infinity;

  constructor(
    private readonly file: string,
    private readonly scope: string,
    private readonly options: WebhookOptions,
    private table: WebhookTable | undefined,
    private readonly store: { close(): Promise<void> } | undefined,
  ) {}

  get outbox(): Outbox | undefined {
    return this.opened?.outbox;
  }

  async load(): Promise<void> {
    await this.refresh();
    // A root whose outbox exists may hold deliveries from before a crash: deliver them now.
    if (this.cache.size > 0 || (this.file !== ':memory:' && existsSync(this.file))) this.open().outbox.retryPendingNow(Date.now());
    this.opened?.deliverer.kick();
    if (this.store) this.followStore();
    this.every(PRUNE_MS, () => this.opened?.outbox.prune(Date.now() - (this.options.keepDeliveredMs ?? 86_400_000)));
  }

  event(event: FsEvent): void {
    if (this.cache.size === 0) return;
    const change = deliverable(event);
    if (!change) return;
    const hearing = [...this.cache.values()].filter((w) => subscribed(w, change));
    if (hearing.length === 0) return;
    const at = Date.now();
    const eventId = `ev_${this.session}_${++this.seq}`;
    const body = bodyOf(change, eventId, this.scope, at);
    try {
      const { outbox, deliverer } = this.open();
      outbox.enqueue(hearing.map((w) => ({ id: `${eventId}.${w.id}`, eventId, webhook: w.id, body })), at);
      deliverer.kick();
    } catch (err) {
      this.options.onError?.(`the webhook outbox could not record ${eventId}: ${errorMessage(err)}`);
    }
  }

  async add(input: WebhookInput): Promise<WebhookAdded> {
    const checked = checkWebhookInput(input);
    assertDeliverableUrl(checked.url, this.options);
    const webhook: Webhook = {
      id: `wh_${randomBytes(8).toString('hex')}`,
      url: checked.url.href,
      events: checked.events,
      secret: checked.secret ?? randomBytes(24).toString('base64url'),
      createdAt: Date.now(),
      ...(checked.pathGlob === undefined ? {} : { pathGlob: checked.pathGlob }),
    };
    this.open();
    this.changedAt = performance.now();
    await this.tableOf().add(webhook);
    this.cache.set(webhook.id, webhook);
    this.changedAt = performance.now();
    return { ...infoOf(webhook), ...(checked.secret === undefined ? { secret: webhook.secret } : {}) };
  }

  async list(): Promise<WebhookInfo[]> {
    await this.refresh();
    return [...this.cache.values()].map(infoOf);
  }

  async remove(id: string): Promise<boolean> {
    checkId(id, 'webhook');
    this.changedAt = performance.now();
    const removed = this.table ? await this.table.remove(id) : false;
    this.cache.delete(id);
    this.changedAt = performance.now();
    this.opened?.outbox.dropPending(id);
    return removed;
  }

  status(): WebhookStatus {
    const outbox = this.opened?.outbox;
    if (!outbox) return { subscriptions: this.cache.size, pending: 0, delivered: 0, dead: [] };
    const counts = outbox.counts();
    const dead = outbox.dead().map((d) => ({ ...d, ...(this.cache.get(d.webhook) ? { url: this.cache.get(d.webhook)!.url } : {}) }));
    return { subscriptions: this.cache.size, pending: counts.pending, delivered: counts.delivered, dead };
  }

  redeliver(id: string): void {
    checkId(id, 'delivery');
    if (!this.opened?.outbox.redeliver(id, Date.now())) {
      throw new ScopeFsError('ENOENT', `no webhook delivery ${JSON.stringify(id)}; scopefs webhook list shows the dead letters' ids`);
    }
    this.opened.deliverer.kick();
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.leaveSweep?.();
    await this.opened?.deliverer.stop();
    this.opened?.outbox.close();
    if (!this.store) this.table?.close();
    await this.store?.close();
  }

  private open(): { outbox: Outbox; deliverer: Deliverer } {
    if (this.opened) return this.opened;
    const outbox = new Outbox(this.file);
    const deliverer = new Deliverer(outbox, (id) => this.cache.get(id), {
      perHostConcurrency: this.options.perHostConcurrency ?? 4,
      timeoutMs: this.options.timeoutMs ?? 10_000,
      retry: { ...DEFAULT_RETRY, ...this.options.retry },
      rules: this.options,
      ...(this.options.onError ? { onError: this.options.onError } : {}),
      onAttempt: (delivery, ok) => onAttempt?.(delivery, ok),
    });
    return (this.opened = { outbox, deliverer });
  }

  private tableOf(): WebhookTable {
    this.table ??= new SqliteWebhookTable(this.file, 'local', 'NORMAL');
    return this.table;
  }

  private async refresh(): Promise<void> {
    if (!this.table) return;
    const readSince = performance.now();
    try {
      this.replaceCache(await this.table.list(), readSince);
    } catch (err) {
      this.readFailed(err);
    }
  }

  /** Hears what other instances changed: through the process's one sweep of the store when the table has one. */
  private followStore(): void {
    const source = this.table?.sweep;
    if (!source) return this.every(REFRESH_MS, () => void this.refresh());
    this.leaveSweep = joinSweep({ source, heard: (rows, readSince) => this.replaceCache(rows, readSince), failed: (err) => this.readFailed(err) });
  }

  /** A read that began before this instance's last add or remove may miss it: the next read brings it instead. */
  private replaceCache(rows: readonly Webhook[], readSince: number): void {
    if (readSince <= this.changedAt) return;
    this.cache.clear();
    for (const row of rows) this.cache.set(row.id, row);
  }

  /** The store is unreachable: the subscriptions known keep being served. */
  private readFailed(err: unknown): void {
    this.options.onError?.(`reading the webhook subscriptions failed: ${errorMessage(err)}`);
  }

  private every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    timer.unref();
    this.timers.push(timer);
  }
}

/** Test and bench hook: hears every finished attempt of every scope in the process. */
let onAttempt: ((delivery: Delivery, ok: boolean) => void) | undefined;
export function onWebhookAttempt(listener: ((delivery: Delivery, ok: boolean) => void) | undefined): void {
  onAttempt = listener;
}

function infoOf(webhook: Webhook): WebhookInfo {
  const { secret, ...info } = webhook;
  return { ...info, secretHint: `…${secret.slice(-4)}` };
}

function checkId(id: unknown, what: string): void {
  if (typeof id !== 'string' || !ID.test(id)) throw fsErrors.invalid(`not a ${what} id: ${JSON.stringify(String(id).slice(0, 60))}; use an id scopefs webhook list shows`);
}
