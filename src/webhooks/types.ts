/**
 * Webhooks' vocabulary (docs/webhooks.md): a subscription, what a caller
 * sees of it (never the secret), a delivery in the outbox, and the options
 * an operator sets.
 */

/** The changes a subscription can ask for; `*` is every one. */
export const WEBHOOK_EVENTS = ['file_updated', 'file_deleted', 'file_moved'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** What `add` takes. Without a secret one is made (and answered once). */
export interface WebhookInput {
  url: string;
  /** Event types, or `['*']` (the default). */
  events?: string[];
  /** Only changes of paths this glob matches (`/docs/**`, `**\/*.md`); a move matches by either path. */
  pathGlob?: string;
  /** The HMAC-SHA256 key, at least 16 characters. */
  secret?: string;
}

/** A stored subscription. */
export interface Webhook {
  id: string;
  url: string;
  events: string[];
  pathGlob?: string;
  secret: string;
  createdAt: number;
}

/** What list answers: the secret shown as a hint only (its last four characters). */
export type WebhookInfo = Omit<Webhook, 'secret'> & { secretHint: string };

/** What add answers: the info, and the secret this once when scopefs made it. */
export type WebhookAdded = WebhookInfo & { secret?: string };

export type DeliveryState = 'pending' | 'delivered' | 'dead';

/** One event for one subscription, in the outbox. */
export interface Delivery {
  /** `<event id>.<webhook id>`. */
  id: string;
  /** The idempotency key: the same in every attempt and redelivery. */
  eventId: string;
  webhook: string;
  body: string;
  state: DeliveryState;
  attempts: number;
  nextAt: number;
  lastError?: string;
  createdAt: number;
  updatedAt: number;
}

/** What status shows of a delivery (the body stays in the outbox). */
export type DeliveryInfo = Omit<Delivery, 'body'> & { url?: string; type?: string };

export interface WebhookStatus {
  subscriptions: number;
  pending: number;
  delivered: number;
  /** Given up after every retry: redeliver them by id. Newest first, at most 50. */
  dead: DeliveryInfo[];
}

export interface RetryOptions {
  /** The first retry waits about this long (ms). Default 1,000. */
  baseMs?: number;
  /** No wait is longer (ms). Default 300,000. */
  maxMs?: number;
  /** Attempts before a delivery goes to the dead letters. Default 8. */
  attempts?: number;
}

export interface WebhookOptions {
  /** Off: no subscriptions are heard and nothing is delivered (default: on). */
  enabled?: boolean;
  /** When given, a URL must start with one of these (`https://hooks.example.com/`) or name one of these hosts. */
  allow?: string[];
  /** Refuse loopback URLs (127.0.0.0/8, ::1, localhost). Default false: loopback is allowed, but never this server's own address. */
  denyLoopback?: boolean;
  /** Deliveries in flight at once per receiving host. Default 4. */
  perHostConcurrency?: number;
  /** One attempt's timeout (ms). Default 10,000. */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** How long delivered rows are kept (ms). Default one day. */
  keepDeliveredMs?: number;
  onError?: (message: string) => void;
}
