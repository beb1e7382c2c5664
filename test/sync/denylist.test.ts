import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DENYLIST_RULES, deniedReason } from '../../src/sync/denylist.js';
import { createSyncMatcher } from '../../src/sync/patterns.js';

/** Credential files of well-known tools, each with the rule that must refuse it (docs/sync.md names the sources). */
const CREDENTIALS: ReadonlyArray<readonly [string, string]> = [
  ['/home/.ssh/id_ed25519', 'secret: .ssh/'],
  ['/id_ed25519', 'secret: id_ed25519*'],
  ['/keys/id_ed25519_sk', 'secret: id_ed25519*'],
  ['/id_ecdsa', 'secret: id_ecdsa*'],
  ['/id_dsa.pub', 'secret: id_dsa*'],
  ['/deploy/github_rsa', 'secret: *_rsa'],
  ['/deploy/ci_ed25519', 'secret: *_ed25519'],
  ['/deploy/host_ecdsa', 'secret: *_ecdsa'],
  ['/deploy/old_dsa', 'secret: *_dsa'],
  ['/putty/server.ppk', 'secret: *.ppk'],
  ['/certs/client.p12', 'secret: *.p12'],
  ['/certs/client.pfx', 'secret: *.pfx'],
  ['/certs/bundle.pkcs12', 'secret: *.pkcs12'],
  ['/android/release.jks', 'secret: *.jks'],
  ['/android/release.keystore', 'secret: *.keystore'],
  ['/.keystore', 'secret: *.keystore'],
  ['/vpn/office.ovpn', 'secret: *.ovpn'],
  ['/.npmrc', 'secret: .npmrc'],
  ['/web/.npmrc', 'secret: .npmrc'],
  ['/.pypirc', 'secret: .pypirc'],
  ['/.gem/credentials', 'secret: .gem/credentials'],
  ['/home/.cargo/credentials.toml', 'secret: .cargo/credentials*'],
  ['/.cargo/credentials', 'secret: .cargo/credentials*'],
  ['/.m2/settings.xml', 'secret: .m2/settings.xml'],
  ['/.m2/settings-security.xml', 'secret: .m2/settings-security.xml'],
  ['/.netrc', 'secret: .netrc'],
  ['/_netrc', 'secret: _netrc'],
  ['/.git-credentials', 'secret: .git-credentials'],
  ['/.config/gh/hosts.yml', 'secret: .config/gh/hosts.yml'],
  ['/.pgpass', 'secret: .pgpass'],
  ['/appdata/postgresql/pgpass.conf', 'secret: pgpass.conf'],
  ['/.my.cnf', 'secret: .my.cnf'],
  ['/.mylogin.cnf', 'secret: .mylogin.cnf'],
  ['/site/.htpasswd', 'secret: .htpasswd'],
  ['/.docker/config.json', 'secret: .docker/config.json'],
  ['/.dockercfg', 'secret: .dockercfg'],
  ['/kubeconfig', 'secret: kubeconfig'],
  ['/clusters/kubeconfig.yaml', 'secret: kubeconfig.{yaml,yml,json}'],
  ['/clusters/prod.kubeconfig', 'secret: *.kubeconfig'],
  ['/.kube/config', 'secret: .kube/'],
  ['/.vault-token', 'secret: .vault-token'],
  ['/.terraformrc', 'secret: .terraformrc'],
  ['/terraform.rc', 'secret: terraform.rc'],
  ['/.terraform.d/credentials.tfrc.json', 'secret: .terraform.d/credentials.tfrc.json'],
  ['/.boto', 'secret: .boto'],
  ['/.s3cfg', 'secret: .s3cfg'],
  ['/.azure/accessTokens.json', 'secret: .azure/'],
  ['/.config/gcloud/credentials.db', 'secret: .config/gcloud/'],
  ['/.config/gcloud/legacy_credentials/me/adc.json', 'secret: .config/gcloud/'],
  ['/gcp/application_default_credentials.json', 'secret: application_default_credentials.json'],
  ['/keys/my-app-firebase-adminsdk-x1y2z-0123456789.json', 'secret: *-adminsdk*.json'],
  ['/client_secret_1234.apps.googleusercontent.com.json', 'secret: client_secret*.json'],
  ['/gcp-key.json', 'secret: gcp-key.json'],
  ['/oauth/token.json', 'secret: token.json'],
  ['/config/secrets.json', 'secret: secrets.{json,yaml,yml,toml}'],
  ['/config/secrets.yaml', 'secret: secrets.{json,yaml,yml,toml}'],
  ['/config/secrets.yml', 'secret: secrets.{json,yaml,yml,toml}'],
  ['/.streamlit/secrets.toml', 'secret: secrets.{json,yaml,yml,toml}'],
  ['/jenkins/credentials.xml', 'secret: credentials.xml'],
  ['/.gnupg/private-keys-v1.d/abc.key', 'secret: .gnupg/'],
  ['/.gnupg/pubring.kbx', 'secret: .gnupg/'],
  ['/.password-store/email.gpg', 'secret: .password-store/'],
  ['/vault/passwords.kdbx', 'secret: *.kdbx'],
  ['/vault/old.kdb', 'secret: *.kdb'],
  ['/mac/login.keychain-db', 'secret: *.keychain-db'],
  ['/mac/login.keychain', 'secret: *.keychain'],
  ['/1password/vault.agilekeychain/data.json', 'secret: *.agilekeychain'],
  ['/safe/pw.psafe3', 'secret: *.psafe3'],
  ['/bitcoin/wallet.dat', 'secret: wallet.dat'],
  ['/.bash_history', 'secret: .*_history'],
  ['/.zsh_history', 'secret: .*_history'],
  ['/.sh_history', 'secret: .*_history'],
  ['/.python_history', 'secret: .*_history'],
  ['/.psql_history', 'secret: .*_history'],
  ['/.mysql_history', 'secret: .*_history'],
  ['/.node_repl_history', 'secret: .*_history'],
  ['/.sqlite_history', 'secret: .*_history'],
  ['/.irb_history', 'secret: .*_history'],
  ['/.rediscli_history', 'secret: .*_history'],
  ['/.local/share/fish/fish_history', 'secret: fish_history'],
  ['/.history', 'secret: .history'],
  ['/.zhistory', 'secret: .zhistory'],
  ['/.Rhistory', 'secret: .rhistory'],
  ['/.dbshell', 'secret: .dbshell'],
];

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

  it.each(CREDENTIALS)('refuses the credential file %s (%s)', (path, rule) => {
    expect(deniedReason(path)).toBe(rule);
  });

  it.each(CREDENTIALS)('refuses %s at any depth and in any case', (path) => {
    expect(deniedReason(`/some/project${path}`)).not.toBeNull();
    expect(deniedReason(path.toUpperCase())).not.toBeNull();
    expect(deniedReason(`/a${path}.`)).not.toBeNull(); // a trailing dot, as Windows drops it
  });

  it.each(CREDENTIALS)('no sync-config.json brings %s back', (path) => {
    const relative = path.slice(1);
    const everything = { syncFilePatterns: ['**', relative, `/${relative}`, `**/${relative}`], privateSyncFilePatterns: ['**', relative] };
    expect(createSyncMatcher(everything)(path)).toEqual({ sync: false, reason: 'denylist' });
    expect(createSyncMatcher({ syncFilePatterns: [relative], privateSyncFilePatterns: [] })(path)).toEqual({ sync: false, reason: 'denylist' });
    expect(createSyncMatcher(null)(path)).toEqual({ sync: false, reason: 'denylist' });
  });

  it.each([
    '/.docker/compose/nginx.conf', // a project's .docker/ folder: only config.json holds registry logins
    '/.cargo/config.toml',
    '/.config/gh/config.yml',
    '/.m2/repository/x.pom',
    '/notes/history.md',
    '/notes/bash_history-notes.md',
    '/tokens.json',
    '/design/token.json.md',
    '/kubeconfig-guide.md',
    '/wallet.md',
    '/secrets.md',
    '/docs/ssh.md',
  ])('keeps ordinary files beside credentials syncable: %s', (path) => {
    expect(deniedReason(path)).toBeNull();
  });

  it('the hostile corpus covers every credential name', () => {
    const corpus = JSON.parse(readFileSync(new URL('../reliability/corpus/denylist.json', import.meta.url), 'utf8')) as {
      cases: Array<{ path: string }>;
    };
    const corpusPaths = new Set(corpus.cases.map((c) => c.path));
    expect(CREDENTIALS.map(([path]) => path).filter((path) => !corpusPaths.has(path))).toEqual([]);
  });

  it('docs/sync.md lists every rule', () => {
    const docs = readFileSync(new URL('../../docs/sync.md', import.meta.url), 'utf8');
    const missing = DENYLIST_RULES.map((label) => label.slice(label.indexOf(': ') + 2)).filter((pattern) => !docs.includes(`\`${pattern}\``));
    expect(missing).toEqual([]);
  });

  it('lists every rule for docs and status output', () => {
    expect(DENYLIST_RULES).toContain('secret: .env*');
    expect(DENYLIST_RULES).toContain('engine: application-state/sync-conflict.json');
    expect(new Set(DENYLIST_RULES).size).toBe(DENYLIST_RULES.length);
  });
});
