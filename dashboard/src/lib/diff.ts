/**
 * Line diffs for display: two texts become rows of a side-by-side table
 * (left line, right line, and whether they differ). The LCS is node-diff3's;
 * over MAX_LINES lines a side the diff is not computed (the browser would
 * stall) and the caller shows both texts instead.
 */
import { diffComm } from 'node-diff3';

export const MAX_DIFF_LINES = 5_000;

export interface DiffRow {
  kind: 'same' | 'changed' | 'removed' | 'added';
  left?: { number: number; text: string };
  right?: { number: number; text: string };
}

export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  return lines;
}

/** Rows pairing `left` and `right` line by line; undefined when either is too long to diff here. */
export function sideBySide(left: string, right: string): DiffRow[] | undefined {
  const a = splitLines(left);
  const b = splitLines(right);
  if (a.length > MAX_DIFF_LINES || b.length > MAX_DIFF_LINES) return undefined;
  const rows: DiffRow[] = [];
  let l = 1;
  let r = 1;
  for (const block of diffComm(a, b)) {
    if (block.common) {
      for (const text of block.common) rows.push({ kind: 'same', left: { number: l++, text }, right: { number: r++, text } });
      continue;
    }
    // At this point the two sides differ: pair their lines as long as both have one, then the rest is one-sided.
    const removed = block.buffer1 ?? [];
    const added = block.buffer2 ?? [];
    for (let i = 0; i < Math.max(removed.length, added.length); i++) {
      const before = removed[i];
      const after = added[i];
      if (before !== undefined && after !== undefined) rows.push({ kind: 'changed', left: { number: l++, text: before }, right: { number: r++, text: after } });
      else if (before !== undefined) rows.push({ kind: 'removed', left: { number: l++, text: before } });
      else rows.push({ kind: 'added', right: { number: r++, text: after! } });
    }
  }
  return rows;
}

/** How many lines each side has that the other lacks. */
export function diffStats(rows: readonly DiffRow[]): { removed: number; added: number } {
  let removed = 0;
  let added = 0;
  for (const row of rows) {
    if (row.kind === 'changed' || row.kind === 'removed') removed++;
    if (row.kind === 'changed' || row.kind === 'added') added++;
  }
  return { removed, added };
}
