/**
 * How a pass's pushes are cut into store pushes, as a pure function. Paths a
 * local batch changed (ChangeAuthor.batch: a transaction's commit, a
 * checkpoint restore, a directory move) travel as one store batch, all or
 * none (PushChange.batch), so no other instance sees part of one; a chunk
 * never splits a batch (one larger than the chunk size is a push of its own).
 */
import type { PushItem } from './path-actions.js';

export function pushChunks(items: readonly PushItem[], batchOf: (path: string) => string | undefined, chunkSize: number): PushItem[][] {
  // Groups in the order their first item appears; items outside a batch are groups of one.
  const groups = new Map<string, PushItem[]>();
  items.forEach((item, i) => {
    const key = batchOf(item.path) ?? `\u0000${i}`;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  });
  const chunks: PushItem[][] = [];
  let chunk: PushItem[] = [];
  for (const [key, group] of groups) {
    const members = group.length > 1 ? group.map((item) => ({ ...item, change: { ...item.change, batch: key } })) : group;
    if (chunk.length > 0 && chunk.length + members.length > chunkSize) {
      chunks.push(chunk);
      chunk = [];
    }
    chunk.push(...members);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
