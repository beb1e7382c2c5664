/**
 * What a lease call decides, as pure functions of the lease's current record
 * and the store's clock, so the memory and SQLite stores hold leases exactly
 * as the SQL functions of persistence/sql/migrations/003_leases.sql do.
 * The store reads the record, asks here, and writes back `next` if given,
 * all in one transaction.
 */
import type { LeaseState } from './types.js';

/** A lease as a store keeps it. A lease never taken has no record. */
export interface LeaseRecord {
  name: string;
  holder: string | null;
  token: number;
  /** Milliseconds since the epoch; null when never taken. */
  expiresAt: number | null;
}

/** The answer to give, and the record to store when it changed. */
export interface LeaseDecision<T> {
  answer: T;
  next?: LeaseRecord;
}

export function decideAcquire(
  current: LeaseRecord | undefined,
  request: { name: string; holder: string; ttlMs: number; now: number },
): LeaseDecision<LeaseState> {
  const { name, holder, ttlMs, now } = request;
  const lease = current ?? { name, holder: null, token: 0, expiresAt: null };
  if (isHeld(lease, now) && lease.holder !== holder) return { answer: stateOf(lease, false) };
  // The holder re-acquiring keeps its token; a free or expired lease changes hands.
  const token = isHeld(lease, now) ? lease.token : lease.token + 1;
  const next = { name, holder, token, expiresAt: now + ttlMs };
  return { answer: stateOf(next, true), next };
}

export function decideRenew(
  current: LeaseRecord | undefined,
  request: { name: string; holder: string; token: number; ttlMs: number; now: number },
): LeaseDecision<LeaseState> {
  const { name, holder, token, ttlMs, now } = request;
  if (current && isHeld(current, now) && current.holder === holder && current.token === token) {
    const next = { ...current, expiresAt: now + ttlMs };
    return { answer: stateOf(next, true), next };
  }
  return { answer: stateOf(current ?? { name, holder: null, token: 0, expiresAt: null }, false) };
}

/** Frees the lease when this holder and token have it, expired or not; the token stays, so the next one is higher. */
export function decideRelease(
  current: LeaseRecord | undefined,
  request: { holder: string; token: number; now: number },
): LeaseDecision<boolean> {
  if (!current || current.holder !== request.holder || current.token !== request.token) return { answer: false };
  return { answer: true, next: { ...current, holder: null, expiresAt: request.now } };
}

function isHeld(lease: LeaseRecord, now: number): boolean {
  return lease.holder !== null && lease.expiresAt !== null && lease.expiresAt > now;
}

function stateOf(lease: LeaseRecord, acquired: boolean): LeaseState {
  return { acquired, name: lease.name, holder: lease.holder, token: lease.token, expiresAt: lease.expiresAt };
}
