import { describe, expect, it } from 'vitest';
import { conflictRepairs, type ConflictRepair } from '../../src/sync/conflict-repair.js';
import type { ConflictRecord } from '../../src/sync/types.js';

const COPY = '/docs/a.sync-conflict-20260101-000000-x.md';

function record(path: string, copyPath: string): ConflictRecord {
  return {
    type: 'conflict-needs-llm',
    path,
    copyPath,
    localSnippet: '',
    remoteSnippet: '',
    remoteRevision: 1,
    remoteInstance: 'y',
    detectedAt: '2026-01-01T00:00:00.000Z',
  };
}

type Row = [string, ConflictRecord[], string[], ConflictRepair[]];

// Records as the state database kept them, files as they are at start, and what follows.
const ROWS: Row[] = [
  ['copy in place: nothing to do', [record('/docs/a.md', COPY)], ['/docs/a.md', COPY], []],
  ['copy in place, file deleted: still open', [record('/docs/a.md', COPY)], [COPY], []],
  ['copy deleted: resolved', [record('/docs/a.md', COPY)], ['/docs/a.md'], [{ kind: 'gone', copyPath: COPY }]],
  [
    'directory moved with file and copy: both follow',
    [record('/docs/a.md', COPY)],
    ['/archive/a.md', '/archive/a.sync-conflict-20260101-000000-x.md'],
    [
      { kind: 'moved', from: COPY, to: '/archive/a.sync-conflict-20260101-000000-x.md' },
      { kind: 'moved', from: '/docs/a.md', to: '/archive/a.md' },
    ],
  ],
  [
    'only the copy moved: the file stays',
    [record('/docs/a.md', COPY)],
    ['/docs/a.md', '/a.sync-conflict-20260101-000000-x.md'],
    [{ kind: 'moved', from: COPY, to: '/a.sync-conflict-20260101-000000-x.md' }],
  ],
  [
    'a copy of the same name in two places: undecided, left alone',
    [record('/docs/a.md', COPY)],
    ['/x/a.sync-conflict-20260101-000000-x.md', '/y/a.sync-conflict-20260101-000000-x.md'],
    [],
  ],
  [
    "another record's copy is not taken for a missing one",
    [record('/docs/a.md', COPY), record('/x/a.md', '/x/a.sync-conflict-20260101-000000-x.md')],
    ['/x/a.md', '/x/a.sync-conflict-20260101-000000-x.md'],
    [{ kind: 'gone', copyPath: COPY }],
  ],
  [
    'a copy no record names, beside its file (killed between writing and recording it), is adopted',
    [record('/docs/a.md', COPY)],
    ['/docs/a.md', '/docs/a.sync-conflict-20260101-000000-disk.md'],
    [
      { kind: 'gone', copyPath: COPY },
      { kind: 'adopt', path: '/docs/a.md', copyPath: '/docs/a.sync-conflict-20260101-000000-disk.md' },
    ],
  ],
  [
    'a copy whose file is gone is only a file',
    [],
    ['/docs/b.sync-conflict-20260101-000000-x.md'],
    [],
  ],
];

describe('conflict records repaired against the files at start', () => {
  it.each(ROWS)('%s', (_name, records, files, expected) => {
    expect(conflictRepairs(records, new Set(files))).toEqual(expected);
  });
});
