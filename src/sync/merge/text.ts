import { diff3Merge } from 'node-diff3';
import { merged, unmergeable, type TextMergeOutcome } from './outcome.js';

/**
 * Line-based three-way merge with node-diff3. Changes to different regions
 * combine; overlapping or adjacent changes are a conflict, and no conflict
 * markers are ever produced. Lines keep their own terminators, so CRLF files
 * and a missing final newline survive as each side wrote them.
 *
 * node-diff3's LCS (Hunt-McIlroy with a linear candidate scan) is quadratic,
 * and far worse with repeated lines: a 10,000-line file with many blank lines
 * took minutes. So the input is narrowed first: the head and tail no side
 * changed are set aside, edits in separate places are spliced directly, and
 * what remains is cut at anchors (lines unique in all three versions, in the
 * same order, as in patience diff) into small chunks for diff3. A chunk still
 * too costly is a conflict: the engine keeps both versions, nothing is lost.
 */
export function mergeText(base: string, local: string, remote: string): TextMergeOutcome {
  const lines = mergeLines(splitLines(base), splitLines(local), splitLines(remote));
  return 'reason' in lines ? unmergeable(lines.reason) : merged(lines.join(''));
}

/** Estimated LCS work (matching pairs x shorter length) one diff3 call may take: ~0.3 s here. */
export const MAX_DIFF3_WORK = 200_000_000;

/** Splits into lines that keep their terminator, so joining them restores the text exactly. */
export function splitLines(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\n)/);
}

type Lines = readonly string[];
type Merged = string[] | { reason: string };

/** Base lines [start, baseEnd) became side lines [start, sideEnd); the rest is shared. */
interface ChangedWindow {
  start: number;
  baseEnd: number;
  sideEnd: number;
}

function mergeLines(base: Lines, local: Lines, remote: Lines): Merged {
  const l = changedWindow(base, local);
  const r = changedWindow(base, remote);
  if (l === null) return [...remote];
  if (r === null) return [...local];
  // Strictly apart, as in diff3 (touching changes conflict): splice without any LCS.
  if (l.baseEnd < r.start) return [...local.slice(0, l.sideEnd), ...remote.slice(l.baseEnd)];
  if (r.baseEnd < l.start) return [...remote.slice(0, r.sideEnd), ...local.slice(r.baseEnd)];
  const head = Math.min(l.start, r.start);
  const tail = base.length - Math.max(l.baseEnd, r.baseEnd);
  const span = (lines: Lines) => lines.slice(head, lines.length - tail);
  const middle = mergeAnchored(span(base), span(local), span(remote), head);
  if ('reason' in middle) return middle;
  return [...base.slice(0, head), ...middle, ...base.slice(base.length - tail)];
}

/** The side's changed window, or null when it equals the base. */
function changedWindow(base: Lines, side: Lines): ChangedWindow | null {
  const shortest = Math.min(base.length, side.length);
  let prefix = 0;
  while (prefix < shortest && base[prefix] === side[prefix]) prefix += 1;
  if (prefix === base.length && prefix === side.length) return null;
  let suffix = 0;
  while (suffix < shortest - prefix && base[base.length - 1 - suffix] === side[side.length - 1 - suffix]) suffix += 1;
  return { start: prefix, baseEnd: base.length - suffix, sideEnd: side.length - suffix };
}

/** Merges chunk by chunk between anchors; `offset` is where `base` starts in the file, for messages. */
function mergeAnchored(base: Lines, local: Lines, remote: Lines, offset: number): Merged {
  const pieces: Lines[] = [];
  const end: Anchor = [base.length, local.length, remote.length];
  let [o, a, b] = [0, 0, 0];
  for (const [anchorO, anchorA, anchorB] of [...anchors(base, local, remote), end]) {
    const chunk = mergeChunk(base.slice(o, anchorO), local.slice(a, anchorA), remote.slice(b, anchorB), offset + o);
    if ('reason' in chunk) return chunk;
    // Collected and flattened once: push(...chunk) would overflow the call stack on huge chunks.
    pieces.push(chunk, base.slice(anchorO, anchorO + 1));
    [o, a, b] = [anchorO + 1, anchorA + 1, anchorB + 1];
  }
  return pieces.flat();
}

function mergeChunk(base: Lines, local: Lines, remote: Lines, offset: number): Merged {
  if (sameLines(base, local)) return [...remote];
  if (sameLines(base, remote) || sameLines(local, remote)) return [...local];
  if (diffWork(base, local) + diffWork(base, remote) > MAX_DIFF3_WORK) {
    return { reason: `a ${base.length}-line region changed on both sides is too large to merge line by line` };
  }
  const regions = diff3Merge([...local], [...base], [...remote]);
  const conflict = regions.find((region) => region.conflict !== undefined)?.conflict;
  if (conflict !== undefined) return { reason: `conflicting text changes at base line ${offset + conflict.oIndex + 1}` };
  return regions.flatMap((region) => region.ok ?? []);
}

type Anchor = [number, number, number];

/** Lines that occur exactly once in each version, kept in an order all three agree on. */
function anchors(base: Lines, local: Lines, remote: Lines): Anchor[] {
  const [inLocal, inRemote] = [uniqueLineIndex(local), uniqueLineIndex(remote)];
  const candidates: Anchor[] = [];
  for (const [line, o] of uniqueLineIndex(base)) {
    const a = inLocal.get(line) ?? -1;
    const b = inRemote.get(line) ?? -1;
    if (o >= 0 && a >= 0 && b >= 0) candidates.push([o, a, b]);
  }
  // Candidates are in base order; keep a chain increasing in local, then in remote.
  return longestIncreasing(longestIncreasing(candidates, 1), 2);
}

/** Line -> its index when it occurs once, -1 when repeated. */
function uniqueLineIndex(lines: Lines): Map<string, number> {
  const index = new Map<string, number>();
  lines.forEach((line, i) => index.set(line, index.has(line) ? -1 : i));
  return index;
}

/** Longest subsequence strictly increasing in `anchor[key]` (patience sorting, O(n log n)). */
function longestIncreasing(items: Anchor[], key: 1 | 2): Anchor[] {
  const tails: number[] = [];
  const previous: number[] = [];
  items.forEach((item, i) => {
    let [lo, hi] = [0, tails.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((items[tails[mid] as number] as Anchor)[key] < item[key]) lo = mid + 1;
      else hi = mid;
    }
    previous[i] = lo > 0 ? (tails[lo - 1] as number) : -1;
    tails[lo] = i;
  });
  const chain: Anchor[] = [];
  for (let i = tails.at(-1) ?? -1; i >= 0; i = previous[i] as number) chain.push(items[i] as Anchor);
  return chain.reverse();
}

function sameLines(x: Lines, y: Lines): boolean {
  return x.length === y.length && x.every((line, i) => line === y[i]);
}

/** Estimated cost of node-diff3's LCS of two line lists: matching pairs x the shorter length. */
function diffWork(x: Lines, y: Lines): number {
  const counts = new Map<string, number>();
  for (const line of x) counts.set(line, (counts.get(line) ?? 0) + 1);
  let pairs = 0;
  for (const line of y) pairs += counts.get(line) ?? 0;
  return pairs * Math.min(x.length, y.length);
}
