import { describe, expect, it } from 'vitest';
import { DENYLIST_RULES, deniedReason } from '../../src/sync/denylist.js';

describe('deniedReason', () => {
  it.each([
    ['/.env', 'secret: .env*'],
    ['/x/y/.env.local', 'secret: .env*'],
    ['/keys/server.key', 'secret: *.key'],
    ['/certs/ca.pem', 'secret: *.pem'],
    ['/credentials.json', 'secret: credentials.json'],
    ['/gcp/service-account-prod.json', 'secret: service-account*.json'],
    ['/home/id_rsa.pub', 'secret: id_rsa*'],
    ['/home/.ssh/config', 'secret: .ssh/'],
    ['/.aws/credentials', 'secret: .aws/'],
    ['/a/.git/HEAD', 'infrastructure: .git/'],
    ['/web/node_modules/x/index.js', 'infrastructure: node_modules/'],
    ['/data/app.sqlite', 'infrastructure: *.sqlite'],
    ['/data/app.db', 'infrastructure: *.db'],
    ['/data/app.db-wal', 'infrastructure: *.{db,sqlite,sqlite3}-{wal,shm,journal}'],
    ['/infra/terraform.tfstate.backup', 'infrastructure: *.tfstate*'],
    ['/sync-config.json', 'engine: sync-config.json'],
    ['/.sync-status.json', 'engine: .sync-status.json'],
    ['/.sync-failures.json', 'engine: .sync-failures.json'],
    ['/.scopefs/bases.db', 'engine: .scopefs/'],
    ['/notes/a.sync-conflict-20240131-235959-laptop.md', 'engine: *.sync-conflict-*'],
    ['/application-state/sync-conflict.json', 'engine: application-state/sync-conflict.json'],
    ['/_tmp-scratch.md', 'scratch: _tmp-*'],
    ['/a/.notes.md.swp', 'junk: *.swp'],
    ['/a/notes.md~', 'junk: *~'],
    ['/a/.DS_Store', 'junk: .DS_Store'],
    ['/a/Thumbs.db', 'infrastructure: *.db'],
  ])('%s is denied (%s)', (path, rule) => {
    expect(deniedReason(path)).toBe(rule);
  });

  it.each([
    ['upper case', '/CONFIG/.ENV'],
    ['mixed case', '/Secrets/Server.KEY'],
    ['a copy made by a file manager', '/Service-Account (1).json'],
    ['trailing dots (Windows drops them)', '/.env.'],
    ['trailing dots on an extension', '/secret.key.'],
    ['trailing dot and space', '/secret.key. '],
    ['full-width look-alikes', '/\uff0eｅｎｖ'],
    ['a zero-width space', '/.e\u200bnv'],
    ['an alternate data stream', '/secret.key:Zone.Identifier'],
    ['a directory named like a secret', '/.env/lib/python3/site.py'],
    ['no leading slash', '.git/config'],
  ])('folds evasions: %s', (_name, path) => {
    expect(deniedReason(path)).not.toBeNull();
  });

  it.each([
    '/notes/a.md',
    '/env/readme.md',
    '/keys.md',
    '/src/keyboard.ts',
    '/docs/database.md',
    '/application-state/state.json',
    '/other/sync-conflict.json',
    '/report.db.md',
    '/tmp-notes.md',
    '/a/credentials.json.md',
  ])('%s is allowed', (path) => {
    expect(deniedReason(path)).toBeNull();
  });

  it('lists every rule for docs and status output', () => {
    expect(DENYLIST_RULES).toContain('secret: .env*');
    expect(DENYLIST_RULES).toContain('engine: application-state/sync-conflict.json');
    expect(new Set(DENYLIST_RULES).size).toBe(DENYLIST_RULES.length);
  });
});
