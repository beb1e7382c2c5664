import { describe, expect, it } from 'vitest';
import { afterFailure, backoffMs, DEFAULT_RETRY } from '../../src/webhooks/backoff.js';
import { signPayload, verifyPayload } from '../../src/webhooks/signature.js';
import { subscribed } from '../../src/webhooks/webhook-input.js';
import type { EntryMeta } from '../../src/types.js';

describe('backoff', () => {
  const retry = { baseMs: 1_000, maxMs: 30_000, attempts: 5 };

  it('doubles per attempt, between half and all of base·2^(n−1), capped', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, retry, 0))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000]);
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, retry, 0.999999))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000]);
    expect(backoffMs(40, retry, 0.5)).toBe(22_500);
  });

  it('gives up after the last attempt', () => {
    expect(afterFailure(4, 1_000, retry, 0)).toEqual({ dead: false, nextAt: 1_000 + 4_000 });
    expect(afterFailure(5, 1_000, retry, 0)).toEqual({ dead: true });
    expect(DEFAULT_RETRY).toEqual({ baseMs: 1_000, maxMs: 300_000, attempts: 8 });
  });
});

describe('signature', () => {
  const secret = 'whsec-0123456789abcdef';
  const body = '{"id":"ev_1","type":"file_updated","path":"/a.md"}';

  it('is HMAC-SHA256 over timestamp.body, hex, prefixed v1=', () => {
    // The vector from: printf '%s' '1700000000.<body>' | openssl dgst -sha256 -hmac whsec-0123456789abcdef
    expect(signPayload(secret, 1_700_000_000, body)).toBe('v1=48ef052c39935dfdda79221a6eaf42ccf674cd7b3b779a05b7422343dab21e46');
    expect(signPayload(secret, 1_700_000_000, body)).toBe(signPayload(secret, 1_700_000_000, body));
    expect(signPayload(secret, 1_700_000_001, body)).not.toBe(signPayload(secret, 1_700_000_000, body));
  });

  it('verifies within the replay window only, and refuses a changed body or secret', () => {
    const t = 1_700_000_000;
    const headers = { signature: signPayload(secret, t, body), timestamp: String(t) };
    expect(verifyPayload(secret, headers, body, t + 10)).toBeUndefined();
    expect(verifyPayload(secret, headers, body, t + 301)).toBe('timestamp outside the replay window');
    expect(verifyPayload(secret, headers, `${body} `, t)).toBe('signature mismatch');
    expect(verifyPayload('another-secret-0123456', headers, body, t)).toBe('signature mismatch');
    expect(verifyPayload(secret, { signature: headers.signature, timestamp: undefined }, body, t)).toBe('no timestamp');
  });
});

describe('subscribed', () => {
  const meta = { revision: 1 } as EntryMeta;
  it('matches events and globs; a move by either path', () => {
    const updated = { type: 'file_updated', path: '/docs/a.md', meta, created: true, origin: 'local' } as const;
    const moved = { type: 'file_moved', from: '/tmp/a.md', to: '/docs/a.md', meta, origin: 'local' } as const;
    expect(subscribed({ events: ['*'] }, updated)).toBe(true);
    expect(subscribed({ events: ['file_deleted'] }, updated)).toBe(false);
    expect(subscribed({ events: ['*'], pathGlob: '/docs/**' }, updated)).toBe(true);
    expect(subscribed({ events: ['*'], pathGlob: '**/*.txt' }, updated)).toBe(false);
    expect(subscribed({ events: ['*'], pathGlob: '/docs/*.md' }, moved)).toBe(true);
  });
});
