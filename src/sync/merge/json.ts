import { isDeepStrictEqual } from 'node:util';
import { errorMessage } from '../../errors.js';
import { merged, unmergeable, unsupported, type TextMergeOutcome } from './outcome.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** A key missing from an object: lets deletion take part in the three-way rules. */
const ABSENT = Symbol('absent');
type Slot = Json | typeof ABSENT;

/** Deeper documents are not merged by structure (the recursion, and V8's own stringify, would overflow). */
export const MAX_STRUCTURAL_DEPTH = 100;
/** Larger sides are not merged by structure (comparisons cost size x depth); the text merge may still. */
export const MAX_STRUCTURAL_CHARS = 8 * 1024 * 1024;

/**
 * Structural JSON merge. Objects merge key by key, recursively; arrays and
 * scalars are opaque values. A key changed on both sides to different values,
 * or deleted on one side and changed on the other, is a conflict. The result
 * is re-serialised in local's layout (indentation, line endings, final newline).
 *
 * Input it cannot merge faithfully is `unsupported` (the engine falls back to
 * a line merge): invalid JSON, numbers a double cannot hold, duplicate keys
 * (re-serialising would keep only the last), more than MAX_STRUCTURAL_DEPTH
 * levels or MAX_STRUCTURAL_CHARS characters.
 */
export function mergeJson(base: string, local: string, remote: string): TextMergeOutcome {
  const sides = parseSides({ base, local, remote });
  if ('reason' in sides) return unsupported(sides.reason);
  const conflicts: string[] = [];
  const value = mergeSlot(sides.base, sides.local, sides.remote, '$', conflicts);
  if (conflicts.length > 0) return unmergeable(describeConflicts(conflicts));
  // Three present values never merge to ABSENT; kept as a guard for the type.
  if (value === ABSENT) return unmergeable('the merge removed the whole document');
  return merged(serialize(value, local));
}

type Sides = { base: Json; local: Json; remote: Json };

function parseSides(texts: Record<keyof Sides, string>): Sides | { reason: string } {
  const sides: Partial<Sides> = {};
  for (const side of ['base', 'local', 'remote'] as const) {
    const text = texts[side];
    if (text.length > MAX_STRUCTURAL_CHARS) return { reason: `${side} is too large to merge by structure (${text.length} characters)` };
    try {
      sides[side] = JSON.parse(text) as Json;
    } catch (err) {
      return { reason: `${side} is not valid JSON: ${errorMessage(err)}` };
    }
    const lossy = lossyNumber(text);
    if (lossy !== null) return { reason: `${side} holds the number ${lossy}, which would lose precision` };
    const shape = jsonShape(text);
    if (shape !== null) return { reason: `${side} ${shape}` };
  }
  return sides as Sides;
}

/**
 * Why valid JSON text cannot be merged by structure (too deep, a duplicate
 * key), or null. One pass over the text, no recursion, so any depth is safe.
 */
function jsonShape(text: string): string | null {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        const keys = open.at(-1)!;
        if (keys.has(key)) return `has the key ${JSON.stringify(key.slice(0, 100))} twice in one object`;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      open.push(c === '{' ? new Set() : null);
      expectKey = c === '{';
      if (open.length > MAX_STRUCTURAL_DEPTH) return `is nested more than ${MAX_STRUCTURAL_DEPTH} levels deep`;
    } else if (c === '}' || c === ']') {
      open.pop();
    } else if (c === ',') {
      expectKey = open.at(-1) instanceof Set;
    }
  }
  return null;
}

/** Index of the quote closing the string that opens at `start` (the text is valid JSON). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i;
}

function mergeSlot(base: Slot, local: Slot, remote: Slot, at: string, conflicts: string[]): Slot {
  if (same(local, remote)) return local;
  if (same(base, local)) return remote;
  if (same(base, remote)) return local;
  if (isObject(local) && isObject(remote) && (base === ABSENT || isObject(base))) {
    // A key both sides added as objects merges against an empty base.
    return mergeObjects(base === ABSENT ? {} : base, local, remote, at, conflicts);
  }
  conflicts.push(at);
  return local;
}

function mergeObjects(base: JsonObject, local: JsonObject, remote: JsonObject, at: string, conflicts: string[]): Json {
  // A null prototype so that a "__proto__" key stays an ordinary key.
  const out = Object.create(null) as JsonObject;
  const keys = [...Object.keys(local), ...Object.keys(remote).filter((key) => !Object.hasOwn(local, key))];
  for (const key of keys) {
    const value = mergeSlot(slot(base, key), slot(local, key), slot(remote, key), at + keyPath(key), conflicts);
    if (value !== ABSENT) out[key] = value;
  }
  return out;
}

function slot(object: JsonObject, key: string): Slot {
  return Object.hasOwn(object, key) ? (object[key] as Json) : ABSENT;
}

function same(a: Slot, b: Slot): boolean {
  return a === ABSENT || b === ABSENT ? a === b : isDeepStrictEqual(a, b);
}

function isObject(value: Slot): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function keyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function describeConflicts(paths: string[]): string {
  const shown = paths.slice(0, 5).join(', ');
  const more = paths.length > 5 ? ` and ${paths.length - 5} more` : '';
  return `conflicting JSON changes at ${shown}${more}`;
}

function serialize(value: Json, local: string): string {
  const eol = local.includes('\r\n') ? '\r\n' : '\n';
  // JSON.stringify escapes newlines inside strings, so every raw "\n" is layout.
  const text = JSON.stringify(value, null, detectIndent(local)).replaceAll('\n', eol);
  return /\n$/.test(local) ? text + eol : text;
}

/** Local's indentation: its first indented line, compact for a one-line document, else 2 spaces. */
function detectIndent(text: string): string | number {
  const body = text.trim();
  if (!body.includes('\n')) return body.length > 2 ? 0 : 2;
  return /^([ \t]+)\S/m.exec(body)?.[1] ?? 2;
}

/** Strings are matched whole so that digits inside them are skipped. */
const JSON_TOKENS = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * A number literal of valid JSON text that a double cannot hold exactly
 * (a 64-bit id, say), or null. Re-serialising it would silently change the data.
 */
function lossyNumber(text: string): string | null {
  for (const [token] of text.matchAll(JSON_TOKENS)) {
    if (token.startsWith('"')) continue;
    const parsed = Number(token);
    if (!Number.isFinite(parsed) || canonicalDecimal(token) !== canonicalDecimal(String(parsed))) return token;
  }
  return null;
}

/** A decimal literal as sign, significant digits and exponent: "1.50e2" and "150" agree. */
function canonicalDecimal(literal: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (match === null) return literal;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  const digits = (whole + fraction).replace(/^0+/, '');
  if (digits === '') return '0';
  const significant = digits.replace(/0+$/, '');
  const scale = Number(exponent) - fraction.length + (digits.length - significant.length);
  return `${sign}${significant}e${scale}`;
}
