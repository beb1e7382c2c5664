/**
 * The three-way merge offered when a save finds a newer revision: base is
 * what the editor started from, mine the edited text, theirs the newer one
 * on the server. Line-based (node-diff3); conflicts become git-style markers
 * the user resolves before saving again.
 */
import { merge } from 'node-diff3';

export interface MergeResult {
  text: string;
  conflict: boolean;
}

export function threeWayMerge(base: string, mine: string, theirs: string): MergeResult {
  const result = merge(mine, base, theirs, { stringSeparator: /\n/, label: { a: 'yours', b: 'theirs (newer on the server)' } });
  return { text: result.result.join('\n'), conflict: result.conflict };
}
