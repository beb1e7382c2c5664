import { describe, expect, it } from 'vitest';
import { eventForGrant } from '../../src/http/tokens-events.js';
import { checkGrant, describeGrant, grantAllowsAnywhere, normalizeGrantPrefixes, type Grant, type GrantOperation } from '../../src/http/tokens-grant.js';
import type { EntryMeta } from '../../src/types.js';

const ciBot: Grant = { holder: 'token "ci-bot"', read: ['/docs'], write: ['/notes'], delete: false, move: true };
const writer: Grant = { holder: 'token "writer"', read: [], write: ['/'], delete: true, move: false };
const reader: Grant = { holder: 'token "reader"', read: ['/'], write: [], delete: true, move: true };

describe('checkGrant', () => {
  const table: Array<[Grant, GrantOperation, string, boolean]> = [
    [ciBot, 'read', '/docs/a.md', true],
    [ciBot, 'read', '/docs', true],
    [ciBot, 'read', '/docs/deep/er/b.md', true],
    [ciBot, 'read', '/docs2/a.md', false],
    [ciBot, 'read', '/notes/n.md', true], // writing includes reading
    [ciBot, 'read', '/secret.md', false],
    [ciBot, 'write', '/notes/n.md', true],
    [ciBot, 'write', '/docs/a.md', false],
    [ciBot, 'write', '/notesx', false],
    [ciBot, 'delete', '/notes/n.md', false],
    [ciBot, 'delete', '/docs/a.md', false],
    [ciBot, 'move', '/notes/n.md', true],
    [ciBot, 'move', '/docs/a.md', false],
    [ciBot, 'move', '/', false],
    [ciBot, 'read', '/', false],
    [ciBot, 'read', '/docs/', true],
    [writer, 'write', '/anything/at/all', true],
    [writer, 'delete', '/x', true],
    [writer, 'move', '/x', false],
    [reader, 'read', '/x/y', true],
    [reader, 'write', '/x/y', false],
    [reader, 'delete', '/x/y', false],
    [reader, 'move', '/x/y', false],
    // A grant written by hand with trailing slashes means the same.
    [{ ...ciBot, read: ['/docs/'], write: ['/notes/'] }, 'read', '/docs/a.md', true],
    [{ ...ciBot, read: ['/docs/'], write: ['/notes/'] }, 'write', '/notes', true],
    [{ ...ciBot, read: ['/docs/'], write: ['/notes/'] }, 'read', '/docsx/a.md', false],
  ];
  it.each(table)('%#: %s may %s %s: %s', (grant, operation, path, allowed) => {
    const decision = checkGrant(grant, operation, path);
    expect(decision.allowed).toBe(allowed);
    if (!decision.allowed) {
      expect(decision.reason).toContain(grant.holder);
      expect(decision.reason).toContain(describeGrant(grant));
      expect(decision.reason).toContain(JSON.stringify(path));
    }
  });

  it('names the grant in a refusal and says what to do', () => {
    const decision = checkGrant(ciBot, 'delete', '/notes/n.md');
    expect(decision).toEqual({
      allowed: false,
      reason:
        'token "ci-bot" may not do this: deleting "/notes/n.md" is outside its grant (read /docs; write /notes; no deletes). ' +
        'Stay inside the grant, or ask the owner for a token that covers it.',
    });
  });

  it('says whether an operation is possible anywhere (for listing MCP tools)', () => {
    expect(['read', 'write', 'delete', 'move'].map((op) => grantAllowsAnywhere(ciBot, op as GrantOperation))).toEqual([true, true, false, true]);
    expect(['read', 'write', 'delete', 'move'].map((op) => grantAllowsAnywhere(reader, op as GrantOperation))).toEqual([true, false, false, false]);
  });
});

describe('normalizeGrantPrefixes', () => {
  it('normalises, dedupes and drops prefixes covered by another', () => {
    expect(normalizeGrantPrefixes(['/docs/', '/docs', '/docs/sub', '/a'])).toEqual(['/a', '/docs']);
    expect(normalizeGrantPrefixes(['/x', '/'])).toEqual(['/']);
  });

  it('refuses what is not an absolute path', () => {
    expect(() => normalizeGrantPrefixes(['docs'])).toThrow(/EINVAL|absolute/);
    expect(() => normalizeGrantPrefixes(['/a/../b'])).toThrow(/EINVAL|\.\./);
  });
});

describe('eventForGrant', () => {
  const meta = (path: string) => ({ path, revision: 3 }) as EntryMeta;
  it('drops events about paths outside the grant and keeps the others unchanged', () => {
    const inside = { type: 'file_updated', path: '/docs/a.md', meta: meta('/docs/a.md'), created: false, origin: 'local' } as const;
    expect(eventForGrant(ciBot, inside)).toBe(inside);
    expect(eventForGrant(ciBot, { ...inside, path: '/secret.md' })).toBeUndefined();
    expect(eventForGrant(ciBot, { type: 'file_deleted', path: '/secret.md', revision: 1, origin: 'local' })).toBeUndefined();
    expect(eventForGrant(ciBot, { type: 'sync_state', state: 'live', previous: 'connecting' })).toEqual({ type: 'sync_state', state: 'live', previous: 'connecting' });
  });

  it('sees a move across the edge of the grant as a delete or a create', () => {
    const moved = (from: string, to: string) => ({ type: 'file_moved', from, to, meta: meta(to), origin: 'local', actor: 'owner' }) as const;
    expect(eventForGrant(ciBot, moved('/docs/a.md', '/secret/a.md'))).toEqual({ type: 'file_deleted', path: '/docs/a.md', revision: 3, origin: 'local', actor: 'owner', source: undefined });
    expect(eventForGrant(ciBot, moved('/secret/a.md', '/notes/a.md'))).toMatchObject({ type: 'file_updated', path: '/notes/a.md', created: true, actor: 'owner' });
    expect(eventForGrant(ciBot, moved('/docs/a.md', '/notes/a.md'))).toMatchObject({ type: 'file_moved' });
    expect(eventForGrant(ciBot, moved('/x/a.md', '/y/a.md'))).toBeUndefined();
  });

  it('keeps only the granted paths of a sync batch, and nested paths of conflicts and holds', () => {
    expect(eventForGrant(ciBot, { type: 'synced', direction: 'pull', paths: ['/docs/a', '/x', '/notes/b'], cursor: 9 })).toEqual({
      type: 'synced', direction: 'pull', paths: ['/docs/a', '/notes/b'], cursor: 9,
    });
    expect(eventForGrant(ciBot, { type: 'synced', direction: 'pull', paths: ['/x'], cursor: 9 })).toBeUndefined();
    expect(eventForGrant(ciBot, { type: 'conflict', conflict: { path: '/x/c.md' } })).toBeUndefined();
    expect(eventForGrant(ciBot, { type: 'path_held', held: { path: '/docs/h.md' } })).toBeDefined();
    expect(eventForGrant(ciBot, { type: 'disk_conflict', path: '/docs/d.md', copyPath: '/docs/d.sync-conflict.md' })).toBeDefined();
  });
});
