import { describe, expect, it } from 'vitest';
import { createSyncMatcher, parseSyncConfig, type SyncConfig } from '../../src/sync/patterns.js';

const config = (syncFilePatterns: string[], privateSyncFilePatterns: string[] = []): SyncConfig => ({
  syncFilePatterns,
  privateSyncFilePatterns,
  conflictStrategies: [],
});

describe('parseSyncConfig', () => {
  it('treats a missing file as no config', () => {
    expect(parseSyncConfig(null)).toEqual({ ok: true, config: null });
  });

  it('parses both lists, defaulting a missing one to empty', () => {
    expect(parseSyncConfig('{"syncFilePatterns":["notes/**","!notes/drafts/**"]}')).toEqual({
      ok: true,
      config: { syncFilePatterns: ['notes/**', '!notes/drafts/**'], privateSyncFilePatterns: [], conflictStrategies: [] },
    });
    expect(parseSyncConfig('{"privateSyncFilePatterns":["me/**"]}')).toEqual({
      ok: true,
      config: { syncFilePatterns: [], privateSyncFilePatterns: ['me/**'], conflictStrategies: [] },
    });
  });

  it.each([
    ['malformed JSON', '{"syncFilePatterns": [', /^sync-config\.json is not valid JSON: /],
    ['a list that is not an array', '{"syncFilePatterns": "notes/**"}', /syncFilePatterns/],
    ['a pattern that is not a string', '{"syncFilePatterns": ["a", 3]}', /syncFilePatterns/],
    ['an empty pattern', '{"syncFilePatterns": ["!"]}', /must not be empty/],
    ['a misspelt key', '{"syncFilesPatterns": ["a"]}', /syncFilesPatterns/],
    ['not an object', '["a"]', /^sync-config\.json is invalid: /],
  ])('rejects %s with a clear message', (_name, text, message) => {
    const parsed = parseSyncConfig(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(message);
  });
});

describe('createSyncMatcher', () => {
  it('without a config, shares every file the denylist allows', () => {
    const match = createSyncMatcher(null);
    expect(match('/notes/a.md')).toEqual({ sync: true, scope: 'shared' });
    expect(match('/.hidden/b.md')).toEqual({ sync: true, scope: 'shared' });
    expect(match('/.env')).toEqual({ sync: false, reason: 'denylist' });
  });

  it('matches globs against the path without its leading slash, dotfiles included', () => {
    const match = createSyncMatcher(config(['notes/**', 'docs/*.md']));
    expect(match('/notes/deep/.hidden.md')).toEqual({ sync: true, scope: 'shared' });
    expect(match('/docs/a.md')).toEqual({ sync: true, scope: 'shared' });
    expect(match('/docs/sub/a.md')).toEqual({ sync: false, reason: 'not_matched' });
    expect(match('/other.md')).toEqual({ sync: false, reason: 'not_matched' });
  });

  it('lets later patterns override earlier ones, gitignore-like', () => {
    const match = createSyncMatcher(config(['notes/**', '!notes/drafts/**', 'notes/drafts/keep.md']));
    expect(match('/notes/a.md').sync).toBe(true);
    expect(match('/notes/drafts/b.md')).toEqual({ sync: false, reason: 'not_matched' });
    expect(match('/notes/drafts/keep.md').sync).toBe(true);
  });

  it('accepts a leading slash and a trailing slash as conveniences', () => {
    const match = createSyncMatcher(config(['/notes/', '!/notes/old/']));
    expect(match('/notes/a/b.md').sync).toBe(true);
    expect(match('/notes/old/b.md').sync).toBe(false);
  });

  it('gives private patterns precedence over shared ones', () => {
    const match = createSyncMatcher(config(['**'], ['me/**', '!me/public/**']));
    expect(match('/me/diary.md')).toEqual({ sync: true, scope: 'private' });
    expect(match('/me/public/post.md')).toEqual({ sync: true, scope: 'shared' });
    expect(match('/team.md')).toEqual({ sync: true, scope: 'shared' });
  });

  it('never lets a pattern override the denylist', () => {
    const match = createSyncMatcher(config(['**', '.env', '**/*.pem'], ['**/.ssh/**']));
    expect(match('/.env')).toEqual({ sync: false, reason: 'denylist' });
    expect(match('/certs/a.pem')).toEqual({ sync: false, reason: 'denylist' });
    expect(match('/home/.ssh/id_ed25519')).toEqual({ sync: false, reason: 'denylist' });
    expect(match('/sync-config.json')).toEqual({ sync: false, reason: 'denylist' });
  });

  it('syncs nothing with empty lists', () => {
    expect(createSyncMatcher(config([]))('/a.md')).toEqual({ sync: false, reason: 'not_matched' });
  });
});
