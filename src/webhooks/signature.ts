/**
 * The signature of a delivery: HMAC-SHA256 with the subscription's secret
 * over `<timestamp>.<body>` (timestamp in seconds since the epoch, the same
 * value as the Scopefs-Timestamp header), sent as `v1=<hex>`. Signing the
 * timestamp lets a receiver refuse replays older than its window.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'scopefs-signature';
export const TIMESTAMP_HEADER = 'scopefs-timestamp';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const EVENT_HEADER = 'scopefs-event';
export const DELIVERY_HEADER = 'scopefs-delivery';
/** The replay window docs/webhooks.md recommends (seconds). */
export const DEFAULT_TOLERANCE_S = 300;

export function signPayload(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Why a delivery does not verify, or undefined when it does. */
export function verifyPayload(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  nowS: number = Math.floor(Date.now() / 1000),
  toleranceS: number = DEFAULT_TOLERANCE_S,
): string | undefined {
  const timestamp = Number(headers.timestamp);
  if (!headers.timestamp || !Number.isInteger(timestamp)) return 'no timestamp';
  if (Math.abs(nowS - timestamp) > toleranceS) return 'timestamp outside the replay window';
  const expected = Buffer.from(signPayload(secret, timestamp, body));
  const given = Buffer.from(headers.signature ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'signature mismatch';
  return undefined;
}
