/**
 * Three-way content merge for the sync engine, dispatched by kind. Pure:
 * bytes in, merged bytes or a conflict out. A merge never writes conflict
 * markers and never produces invalid JSON; what it cannot merge cleanly is a
 * conflict, which the engine turns into a conflict copy.
 *
 * Bounded and total: each kind has a chain of mergers (JSON: by structure,
 * then by lines with the result checked to parse), each bounded in depth and
 * work; a merger that cannot judge the input, or throws, hands over to the
 * next, and the end of the chain is a conflict with the reasons. So a hostile
 * file (30,000 levels of nesting, a huge string) costs one bounded attempt
 * and becomes a conflict copy, never an error retried forever.
 */
import { errorMessage } from '../../errors.js';
import { isUtf8 } from '../../content.js';
import { mergeJson } from './json.js';
import { mergeJsonl } from './jsonl.js';
import { unmergeable, type TextMergeOutcome } from './outcome.js';
import { mergeText } from './text.js';

export type MergeKind = 'json' | 'jsonl' | 'text' | 'bytes';

export type MergeResult =
  | { status: 'merged'; content: Uint8Array; kind: MergeKind }
  | { status: 'conflict'; reason: string; kind: MergeKind };

export interface MergeInput {
  path: string;
  /** The last agreed content; null when the sides never agreed. */
  base: Uint8Array | null;
  local: Uint8Array;
  remote: Uint8Array;
}

type TextMerger = (base: string, local: string, remote: string) => TextMergeOutcome;

/** Sides larger than this (in bytes, any kind) are never merged: a conflict keeps both. */
export const MAX_MERGE_BYTES = 64 * 1024 * 1024;

/** A line merge of JSON, accepted only when the result is still JSON. */
function mergeJsonAsText(base: string, local: string, remote: string): TextMergeOutcome {
  const outcome = mergeText(base, local, remote);
  if (!outcome.ok) return outcome;
  try {
    JSON.parse(outcome.text);
    return outcome;
  } catch (err) {
    return unmergeable(`the line merge is not valid JSON (${errorMessage(err)})`);
  }
}

const TEXT_MERGERS: Record<Exclude<MergeKind, 'bytes'>, readonly TextMerger[]> = {
  json: [mergeJson, mergeJsonAsText],
  jsonl: [mergeJsonl],
  text: [mergeText],
};

/**
 * The kind of a file: by extension for JSON and JSON Lines, otherwise text
 * when every given content is valid UTF-8 without NUL bytes, else bytes.
 */
export function mergeKindFor(path: string, ...contents: Uint8Array[]): MergeKind {
  const name = path.toLowerCase();
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  return contents.every(isText) ? 'text' : 'bytes';
}

export function mergeContent(input: MergeInput): MergeResult {
  const { path, base, local, remote } = input;
  const kind = mergeKindFor(path, ...(base === null ? [] : [base]), local, remote);
  // Trivial merges take one side verbatim, whatever the kind.
  if (bytesEqual(local, remote)) return { status: 'merged', content: local, kind };
  if (base === null) return conflict(kind, 'both sides differ and there is no common ancestor to merge from');
  if (bytesEqual(base, local)) return { status: 'merged', content: remote, kind };
  if (bytesEqual(base, remote)) return { status: 'merged', content: local, kind };
  if (kind === 'bytes') return conflict(kind, 'binary content is never merged');
  const largest = Math.max(base.byteLength, local.byteLength, remote.byteLength);
  if (largest > MAX_MERGE_BYTES) return conflict(kind, `a side is too large to merge (${largest} bytes)`);
  const [baseText, localText, remoteText] = [base, local, remote].map(decodeUtf8);
  if (baseText === undefined || localText === undefined || remoteText === undefined) {
    return conflict(kind, `a side of this ${kind} file is not valid UTF-8`);
  }
  const outcome = runChain(TEXT_MERGERS[kind], baseText, localText, remoteText);
  return outcome.ok
    ? { status: 'merged', content: Buffer.from(outcome.text, 'utf8'), kind }
    : conflict(kind, outcome.reason);
}

/** The first merger's result that is not `unsupported`; a merger that throws counts as unsupported. */
function runChain(mergers: readonly TextMerger[], base: string, local: string, remote: string): TextMergeOutcome {
  const reasons: string[] = [];
  for (const merge of mergers) {
    let outcome: TextMergeOutcome;
    try {
      outcome = merge(base, local, remote);
    } catch (err) {
      reasons.push(`the ${merge.name} merge failed: ${errorMessage(err)}`);
      continue;
    }
    if (outcome.ok) return outcome;
    reasons.push(outcome.reason);
    if (!outcome.unsupported) break;
  }
  return unmergeable(reasons.join('; then '));
}

function conflict(kind: MergeKind, reason: string): MergeResult {
  return { status: 'conflict', reason, kind };
}

function isText(bytes: Uint8Array): boolean {
  return !bytes.includes(0) && isUtf8(bytes);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text, or undefined when the bytes are not valid UTF-8. A BOM is kept. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}
