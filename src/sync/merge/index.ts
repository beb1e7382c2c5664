/**
 * Three-way content merge for the sync engine, dispatched by kind. Pure:
 * bytes in, merged bytes or a conflict out. A merge never writes conflict
 * markers and never produces invalid JSON; what it cannot merge cleanly is a
 * conflict, which the engine turns into a conflict copy.
 */
import { isUtf8 } from '../../content.js';
import { mergeJson } from './json.js';
import { mergeJsonl } from './jsonl.js';
import type { TextMergeOutcome } from './outcome.js';
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

const TEXT_MERGERS: Record<Exclude<MergeKind, 'bytes'>, (base: string, local: string, remote: string) => TextMergeOutcome> = {
  json: mergeJson,
  jsonl: mergeJsonl,
  text: mergeText,
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
  const [baseText, localText, remoteText] = [base, local, remote].map(decodeUtf8);
  if (baseText === undefined || localText === undefined || remoteText === undefined) {
    return conflict(kind, `a side of this ${kind} file is not valid UTF-8`);
  }
  const outcome = TEXT_MERGERS[kind](baseText, localText, remoteText);
  return outcome.ok
    ? { status: 'merged', content: Buffer.from(outcome.text, 'utf8'), kind }
    : conflict(kind, outcome.reason);
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
