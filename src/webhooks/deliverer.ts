/**
 * Sends what the outbox holds: due deliveries oldest first, at most
 * `perHostConcurrency` in flight per receiving host, each attempt bounded by
 * `timeoutMs`. A 2xx answer marks a delivery delivered; anything else (a
 * status, a timeout, a refused connection) schedules a retry by the backoff,
 * and the last failed attempt moves it to the dead letters. Every attempt of
 * one delivery carries the same idempotency key and a fresh signature.
 */
import { errorMessage } from '../errors.js';
import { afterFailure } from './backoff.js';
import type { Outbox } from './outbox.js';
import { DELIVERY_HEADER, EVENT_HEADER, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signPayload } from './signature.js';
import type { Delivery, RetryOptions, Webhook } from './types.js';
import { assertDeliverableUrl, type UrlRules } from './url-safety.js';

export interface DelivererOptions {
  perHostConcurrency: number;
  timeoutMs: number;
  retry: Required<RetryOptions>;
  rules: UrlRules;
  onError?: (message: string) => void;
  /** Hears each finished attempt (tests and the bench wait on it). */
  onAttempt?: (delivery: Delivery, ok: boolean) => void;
}

const BATCH = 100;
/** How often, at most, an idle deliverer looks again (a retry due later is woken by its own timer). */
const IDLE_LOOK_MS = 60_000;

export class Deliverer {
  private readonly inFlight = new Set<string>();
  private readonly perHost = new Map<string, number>();
  private readonly aborts = new Set<AbortController>();
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly outbox: Outbox,
    private readonly webhookOf: (id: string) => Webhook | undefined,
    private readonly options: DelivererOptions,
  ) {}

  /** Looks for due deliveries soon (after this turn: the enqueuing change finishes first). */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.run();
    });
  }

  /** Resolves once nothing is in flight (stop waits for it). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const abort of this.aborts) abort.abort();
    if (this.inFlight.size > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private run(): void {
    if (this.stopped) return;
    const now = Date.now();
    let due: Delivery[];
    try {
      due = this.outbox.due(now, BATCH + this.inFlight.size);
    } catch (err) {
      this.options.onError?.(`reading the webhook outbox failed: ${errorMessage(err)}`);
      return this.wakeAt(now + 1_000);
    }
    for (const delivery of due) {
      if (this.inFlight.has(delivery.id)) continue;
      const webhook = this.webhookOf(delivery.webhook);
      if (!webhook) {
        this.outbox.failed(delivery.id, delivery.attempts, 'the subscription was removed', now, { dead: true });
        continue;
      }
      const host = new URL(webhook.url).host;
      const busy = this.perHost.get(host) ?? 0;
      if (busy >= this.options.perHostConcurrency) continue; // woken again when one of that host's attempts ends
      this.perHost.set(host, busy + 1);
      this.inFlight.add(delivery.id);
      void this.attempt(delivery, webhook).finally(() => this.finished(delivery.id, host));
    }
    this.wakeAt(this.outbox.nextDue() ?? now + IDLE_LOOK_MS);
  }

  private wakeAt(at: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => this.run(), Math.max(0, Math.min(at - Date.now(), IDLE_LOOK_MS)));
    this.timer.unref();
  }

  private finished(id: string, host: string): void {
    this.inFlight.delete(id);
    const busy = (this.perHost.get(host) ?? 1) - 1;
    if (busy <= 0) this.perHost.delete(host);
    else this.perHost.set(host, busy);
    if (this.inFlight.size === 0) for (const resolve of this.idle.splice(0)) resolve();
    this.kick();
  }

  private async attempt(delivery: Delivery, webhook: Webhook): Promise<void> {
    const attempts = delivery.attempts + 1;
    let failure: string | undefined;
    let permanent = false;
    try {
      assertDeliverableUrl(new URL(webhook.url), this.options.rules);
    } catch (err) {
      failure = errorMessage(err);
      permanent = true;
    }
    if (failure === undefined) failure = await this.send(delivery, webhook);
    if (this.stopped && failure !== undefined) return; // aborted by stop: still pending, tried again at the next start
    const now = Date.now();
    try {
      if (failure === undefined) this.outbox.delivered(delivery.id, attempts, now);
      else this.outbox.failed(delivery.id, attempts, failure, now, permanent ? { dead: true } : afterFailure(attempts, now, this.options.retry));
    } catch (err) {
      this.options.onError?.(`updating the webhook outbox failed: ${errorMessage(err)}`);
    }
    this.options.onAttempt?.({ ...delivery, attempts }, failure === undefined);
  }

  /** One POST; undefined when the receiver answered 2xx, else why not. */
  private async send(delivery: Delivery, webhook: Webhook): Promise<string | undefined> {
    const timestamp = Math.floor(Date.now() / 1000);
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(new Error(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        redirect: 'manual', // a redirect could lead anywhere, past the URL checks
        signal: abort.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'scopefs-webhooks/1',
          [IDEMPOTENCY_HEADER]: delivery.eventId,
          [DELIVERY_HEADER]: delivery.id,
          [EVENT_HEADER]: typeOf(delivery.body),
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signPayload(webhook.secret, timestamp, delivery.body),
        },
        body: delivery.body,
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.ok ? undefined : `the receiver answered HTTP ${response.status}`;
    } catch (err) {
      const reason = abort.signal.aborted ? abort.signal.reason : err;
      const cause = (err as { cause?: unknown }).cause;
      return `the delivery failed: ${errorMessage(reason)}${cause && !abort.signal.aborted ? ` (${errorMessage(cause)})` : ''}`;
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
  }
}

function typeOf(body: string): string {
  return /"type":"(\w+)"/.exec(body)?.[1] ?? 'unknown';
}
