import { merged, unmergeable, type TextMergeOutcome } from './outcome.js';
import { mergeText } from './text.js';

interface Records {
  lines: string[];
  /** True when the text ends with a newline. */
  terminated: boolean;
}

function records(text: string): Records {
  const lines = text.split('\n');
  const terminated = lines.at(-1) === '';
  if (terminated) lines.pop();
  return { lines, terminated };
}

/**
 * JSON Lines merge. When both sides only appended to the base (the usual
 * case for logs and event streams) the result is the base, then local's new
 * lines, then remote's new lines that local does not already have. Any other
 * edit falls back to a line-based diff3 merge. Every non-blank line of the
 * result must parse as JSON, or the merge is a conflict.
 */
export function mergeJsonl(base: string, local: string, remote: string): TextMergeOutcome {
  const outcome = mergeAppends(base, local, remote) ?? mergeText(base, local, remote);
  if (!outcome.ok) return outcome;
  const bad = firstInvalidLine(outcome.text);
  return bad === null ? outcome : unmergeable(`merged JSONL line ${bad} is not valid JSON`);
}

/** The append-only merge, or null when a side rewrote or removed base lines. */
function mergeAppends(base: string, local: string, remote: string): TextMergeOutcome | null {
  const [b, l, r] = [records(base), records(local), records(remote)];
  if (!startsWith(l.lines, b.lines) || !startsWith(r.lines, b.lines)) return null;
  const localAppends = l.lines.slice(b.lines.length);
  const remoteAppends = notIn(r.lines.slice(b.lines.length), localAppends);
  const lines = [...b.lines, ...localAppends, ...remoteAppends];
  const terminated = lines.length > 0 && (l.terminated || r.terminated);
  return merged(lines.join('\n') + (terminated ? '\n' : ''));
}

function startsWith(lines: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= lines.length && prefix.every((line, i) => lines[i] === line);
}

/**
 * The lines of `candidates` that `seen` does not already hold, counted as a
 * multiset: a line both sides appended once appears once, but a line remote
 * appended twice and local once still appears twice.
 */
function notIn(candidates: readonly string[], seen: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of seen) counts.set(line, (counts.get(line) ?? 0) + 1);
  return candidates.filter((line) => {
    const left = counts.get(line) ?? 0;
    if (left > 0) counts.set(line, left - 1);
    return left === 0;
  });
}

/** 1-based number of the first non-blank line that is not JSON, or null. */
function firstInvalidLine(text: string): number | null {
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() !== '' && !parses(line)) return index + 1;
  }
  return null;
}

function parses(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
