/** A side-by-side diff of two texts, with line numbers; unchanged runs longer than 6 lines fold. */
import { useState } from 'preact/hooks';
import { diffStats, sideBySide, type DiffRow } from '../lib/diff.js';

const CONTEXT = 3;

export function DiffTable({ left, right, leftTitle, rightTitle }: { left: string; right: string; leftTitle: string; rightTitle: string }) {
  const [unfolded, setUnfolded] = useState(false);
  const rows = sideBySide(left, right);
  if (!rows) return <p class="notice">These files are too long to compare here; open each one in Files.</p>;
  const stats = diffStats(rows);
  const shown = unfolded ? rows : fold(rows);
  return (
    <div class="diff">
      <p class="hint">
        {stats.removed === 0 && stats.added === 0 ? 'No difference.' : `${stats.removed} line(s) only in ${leftTitle}, ${stats.added} only in ${rightTitle}.`}{' '}
        {shown.length < rows.length && <button onClick={() => setUnfolded(true)}>Show every line</button>}
      </p>
      <table class="grid diff-table">
        <thead>
          <tr><th colSpan={2}>{leftTitle}</th><th colSpan={2}>{rightTitle}</th></tr>
        </thead>
        <tbody>
          {shown.map((row, index) =>
            row === 'fold' ? (
              <tr key={index} class="fold"><td colSpan={4}>…</td></tr>
            ) : (
              <tr key={index} class={`diff-${row.kind}`}>
                <td class="ln">{row.left?.number ?? ''}</td>
                <td class="side left">{row.left?.text ?? ''}</td>
                <td class="ln">{row.right?.number ?? ''}</td>
                <td class="side right">{row.right?.text ?? ''}</td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </div>
  );
}

/** Keeps changed rows and CONTEXT rows around them; a longer unchanged run becomes one 'fold' marker. */
export function fold(rows: readonly DiffRow[]): Array<DiffRow | 'fold'> {
  const keep = rows.map((row) => row.kind !== 'same');
  const near = rows.map((_, i) => keep.slice(Math.max(0, i - CONTEXT), i + CONTEXT + 1).some(Boolean));
  const out: Array<DiffRow | 'fold'> = [];
  rows.forEach((row, i) => {
    if (near[i]) out.push(row);
    else if (out.at(-1) !== 'fold') out.push('fold');
  });
  return out;
}
