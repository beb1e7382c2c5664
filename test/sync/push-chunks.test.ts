import { describe, expect, it } from 'vitest';
import { SHARED_OWNER } from '../../persistence/stores/types.js';
import type { PushItem } from '../../src/sync/path-actions.js';
import { pushChunks } from '../../src/sync/push-chunks.js';

const item = (path: string): PushItem => ({
  path,
  record: { path, owner: SHARED_OWNER, baseHash: null, baseRevision: 0, remoteHash: null, remoteRevision: 0 },
  change: { owner: SHARED_OWNER, path, baseRevision: 0, content: new Uint8Array(), hash: null },
});
const shape = (chunks: PushItem[][]) => chunks.map((chunk) => chunk.map((i) => `${i.path}${i.change.batch ? `@${i.change.batch}` : ''}`));

describe('pushChunks', () => {
  it('keeps each batch together, marks its changes, and leaves single paths unmarked', () => {
    const batches: Record<string, string> = { '/b1': 'x', '/b2': 'x', '/lonely': 'y' };
    const chunks = pushChunks(['/a', '/b1', '/c', '/b2', '/lonely'].map(item), (path) => batches[path], 10);
    // A batch with one path left in this pass is an ordinary change.
    expect(shape(chunks)).toEqual([['/a', '/b1@x', '/b2@x', '/c', '/lonely']]);
  });

  it('never splits a batch across chunks; a batch larger than a chunk is a push of its own', () => {
    const batchOf = (path: string) => (path.startsWith('/big') ? 'big' : path.startsWith('/pair') ? 'pair' : undefined);
    const items = ['/a', '/pair-1', '/pair-2', '/big-1', '/big-2', '/big-3', '/b', '/c'].map(item);
    expect(shape(pushChunks(items, batchOf, 2))).toEqual([['/a'], ['/pair-1@pair', '/pair-2@pair'], ['/big-1@big', '/big-2@big', '/big-3@big'], ['/b', '/c']]);
  });
});
