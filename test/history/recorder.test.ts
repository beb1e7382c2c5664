/**
 * The history recorder (src/fs/history-recorder.ts) against a real in-memory
 * SQLite history: every version is kept while few wait; a burst beyond
 * COALESCE_ABOVE keeps each path's newest per writer (never merging two
 * writers, never touching a batch being recorded); a failing store loses
 * nothing; retention is applied from the start, without a write.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import { COALESCE_ABOVE, HistoryRecorder } from '../../src/fs/history-recorder.js';
import { openMemoryHistory } from '../../persistence/history/open-history.js';
import type { HistoryStore, NewVersion } from '../../persistence/history/types.js';

const SCOPE = 'recorder';

function version(path: string, text: string, actor?: string): NewVersion {
  const content = Buffer.from(text);
  return { path, content, hash: sha256(content), at: Date.now(), origin: 'local', ...(actor === undefined ? {} : { actor }) };
}

const sizesOf = async (store: HistoryStore, path: string) => (await store.versions(SCOPE, path, { limit: 10_000 })).length;

describe('history recorder', () => {
  it('keeps every version while no more than COALESCE_ABOVE wait', async () => {
    const store = openMemoryHistory();
    const recorder = new HistoryRecorder({ store, scope: SCOPE });
    for (let i = 0; i < COALESCE_ABOVE; i++) recorder.note(version('/a.md', `v${i}`));
    await recorder.drain();
    expect(await sizesOf(store, '/a.md')).toBe(COALESCE_ABOVE);
    await recorder.close();
  });

  it('beyond it, a path keeps its newest queued version per writer, and every path its latest content', async () => {
    const store = openMemoryHistory();
    const recorder = new HistoryRecorder({ store, scope: SCOPE });
    for (let i = 0; i < COALESCE_ABOVE; i++) recorder.note(version(`/filler-${i}.md`, 'x'));
    for (let i = 0; i < 50; i++) recorder.note(version('/burst.md', `agent ${i}`, 'agent'));
    recorder.note(version('/burst.md', 'user edit', 'user'));
    recorder.note(version('/burst.md', 'agent again', 'agent'));
    await recorder.drain();
    const versions = await store.versions(SCOPE, '/burst.md');
    expect(versions.map((v) => v.actor)).toEqual(['agent', 'user', 'agent']);
    expect(Buffer.from((await store.content(SCOPE, versions[2]!.hash!))!).toString()).toBe('agent 49');
    expect(Buffer.from((await store.content(SCOPE, versions[0]!.hash!))!).toString()).toBe('agent again');
    await recorder.close();
  });

  it('a failing store keeps the queue in order: nothing is lost and a version being recorded is never coalesced into', async () => {
    const store = openMemoryHistory();
    const record = store.record.bind(store);
    let failures = 3;
    store.record = async (scope, versions) => {
      if (failures-- > 0) throw new Error('database is locked');
      return record(scope, versions);
    };
    const errors: string[] = [];
    const recorder = new HistoryRecorder({ store, scope: SCOPE, onError: (message) => errors.push(message) });
    for (let i = 0; i < COALESCE_ABOVE + 40; i++) recorder.note(version('/a.md', `v${i}`));
    await recorder.drain();
    const versions = (await store.versions(SCOPE, '/a.md', { limit: 10_000 })).reverse();
    const texts = await Promise.all(versions.map(async (v) => Buffer.from((await store.content(SCOPE, v.hash!))!).toString()));
    // Oldest first: the versions queued before coalescing began, in order, then the newest, which took the last queued one's place.
    expect(texts).toEqual([...Array.from({ length: COALESCE_ABOVE }, (_, i) => `v${i}`), `v${COALESCE_ABOVE + 39}`]);
    expect(errors).toHaveLength(3);
    await recorder.close();
  });

  it('prunes from the start, before anything is written, until the limits hold', async () => {
    const store = openMemoryHistory();
    const old = Array.from({ length: 30 }, (_, i) => ({ ...version('/a.md', `old ${i}`), at: 1_000 + i }));
    await store.record(SCOPE, old);
    const before = await store.storedBytes(SCOPE);
    const recorder = new HistoryRecorder({ store, scope: SCOPE, retention: { maxVersionsPerPath: 3 } });
    await recorder.drain();
    expect(await sizesOf(store, '/a.md')).toBe(3);
    expect(await store.storedBytes(SCOPE)).toBeLessThan(before); // unreferenced content went with its versions
    await recorder.close();
  });
});
