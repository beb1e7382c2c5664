import { ScopeFsError } from '../../src/errors.js';
import type { ScopeKey } from '../../src/types.js';
import { Registry } from '../runtime/registry.js';

export const MAX_SCOPE_KEY_LENGTH = 256;

/**
 * The canonical string form of a scope key: its segments joined by `/`.
 *
 * - A tuple's elements are its segments: `['user', 123]` -> `user/123`.
 * - A number is one segment in decimal: `789` -> `789`. It must be a safe
 *   integer (ids, not measurements); `-0` is `0`.
 * - A string is split on `/`, so `'user/123'` names the same scope as
 *   `['user', 123]` and `['user', '123']`; `'agent-abc'` -> `agent-abc`.
 * - A segment is NFC-normalised and must be non-empty, not `.` or `..`,
 *   without control characters and without leading or trailing whitespace.
 * - A tuple element must not contain `/` (it would silently become two
 *   segments), and a tuple must not be empty or nested.
 * - The canonical form is at most 256 characters.
 *
 * Anything else is EINVAL. The form is deterministic: equal keys give equal
 * strings, and it is safe as a single-line label or a relative path.
 */
export function canonicalScopeKey(key: ScopeKey): string {
  const segments = segmentsOf(key);
  const canonical = segments.join('/');
  if (canonical.length > MAX_SCOPE_KEY_LENGTH) {
    throw invalidKey(key, `longer than ${MAX_SCOPE_KEY_LENGTH} characters`);
  }
  return canonical;
}

function segmentsOf(key: ScopeKey): string[] {
  if (typeof key === 'string') return key.split('/').map((segment) => checkSegment(segment, key));
  if (typeof key === 'number') return [numberSegment(key, key)];
  if (!Array.isArray(key)) throw invalidKey(key, 'expected a string, a number or a tuple of them');
  if (key.length === 0) throw invalidKey(key, 'empty tuple');
  return key.map((element: unknown) => tupleSegment(element, key));
}

function tupleSegment(element: unknown, key: ScopeKey): string {
  if (typeof element === 'number') return numberSegment(element, key);
  if (typeof element !== 'string') throw invalidKey(key, 'tuple elements must be strings or numbers');
  if (element.includes('/')) throw invalidKey(key, `tuple element ${JSON.stringify(element)} contains "/"`);
  return checkSegment(element, key);
}

function numberSegment(value: number, key: ScopeKey): string {
  if (!Number.isSafeInteger(value)) throw invalidKey(key, `${value} is not a safe integer`);
  return String(value); // String(-0) is '0'
}

// C0 and C1 control characters, DEL, and line/paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function checkSegment(raw: string, key: ScopeKey): string {
  const segment = raw.normalize('NFC');
  if (segment.length === 0) throw invalidKey(key, 'empty segment');
  if (segment === '.' || segment === '..') throw invalidKey(key, `segment ${JSON.stringify(segment)}`);
  if (CONTROL.test(segment)) throw invalidKey(key, 'control character');
  if (segment.trim() !== segment) throw invalidKey(key, `segment ${JSON.stringify(segment)} has surrounding whitespace`);
  return segment;
}

function invalidKey(key: unknown, why: string): ScopeFsError {
  return new ScopeFsError('EINVAL', `invalid scope key ${describeKey(key)}: ${why}`);
}

function describeKey(key: unknown): string {
  let shown: string;
  try {
    // Keeps NaN and Infinity visible (JSON would print null).
    shown = JSON.stringify(key, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? String(key);
  } catch {
    shown = String(key);
  }
  return shown.length > 80 ? `${shown.slice(0, 80)}…` : shown;
}

/**
 * A Registry keyed by scope key: `['user', 123]`, `'user/123'` and
 * `['user', '123']` are one entry; an invalid key is EINVAL, whatever the method.
 */
export class ScopeRegistry<V> extends Registry<ScopeKey, V> {
  constructor() {
    super(canonicalScopeKey, 'scope key');
  }
}
