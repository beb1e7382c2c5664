/**
 * The hardcoded sync denylist: files that must never reach a store, whatever
 * `sync-config.json` says. A rule is a name (`.npmrc`, `*.p12`) or a short
 * chain of names (`.docker/config.json`); it is tried at every position of
 * the path, so a denied name is denied as a file at any depth
 * (`/x/y/.env.local`) and as a directory (`/a/.git/config`). Names are folded
 * before matching so that case, Unicode look-alikes and Windows-style
 * trailing dots cannot sneak a secret through.
 *
 * The credential names come from the tools that write them and from the
 * sensitive-file lists of secret scanners; docs/sync.md gives the source of
 * each.
 */
import picomatch from 'picomatch';

const DENYLIST: Record<string, readonly string[]> = {
  secret: [
    // Environment files, private keys, certificate bundles and keystores.
    '.env*', '*.key', '*.pem', '*.p12', '*.pfx', '*.pkcs12', '*.ppk', '*.jks', '*.keystore', '*.ovpn',
    // SSH: ssh-keygen's default names, keys named after what they open, and the whole ~/.ssh.
    'id_rsa*', 'id_dsa*', 'id_ecdsa*', 'id_ed25519*', '*_rsa', '*_dsa', '*_ecdsa', '*_ed25519', '.ssh/',
    // Cloud CLIs and Google service-account / OAuth files.
    '.aws/', '.azure/', '.config/gcloud/', '.boto', '.s3cfg',
    'credentials.json', 'service-account*.json', '*-adminsdk*.json', 'client_secret*.json', 'gcp-key.json',
    'application_default_credentials.json', 'token.json',
    // Containers, Kubernetes, HashiCorp tools.
    '.docker/config.json', '.dockercfg', '.kube/', 'kubeconfig', 'kubeconfig.{yaml,yml,json}', '*.kubeconfig',
    '.vault-token', '.terraformrc', 'terraform.rc', '.terraform.d/credentials.tfrc.json',
    // Package registries.
    '.npmrc', '.pypirc', '.gem/credentials', '.cargo/credentials*', '.m2/settings.xml', '.m2/settings-security.xml',
    // Git, network and database logins.
    '.git-credentials', '.config/gh/hosts.yml', '.netrc', '_netrc', '.pgpass', 'pgpass.conf', '.my.cnf', '.mylogin.cnf',
    '.htpasswd', 'credentials.xml',
    // Keyrings, password managers, wallets, secrets files.
    '.gnupg/', '.password-store/', '*.kdbx', '*.kdb', '*.keychain', '*.keychain-db', '*.agilekeychain', '*.psafe3',
    'wallet.dat', 'secrets.{json,yaml,yml,toml}',
    // Shell and REPL histories (typed passwords, tokens in curl lines).
    '.*_history', 'fish_history', '.history', '.zhistory', '.rhistory', '.dbshell',
  ],
  // SQLite sidecars (-wal, -shm, -journal) too: a store database may live under the root.
  infrastructure: ['.git/', 'node_modules/', '*.sqlite', '*.sqlite3', '*.db', '*.{db,sqlite,sqlite3}-{wal,shm,journal}', '*.tfstate*'],
  // The conflict report's name alone is not the engine's, so it is matched with its parent directory.
  engine: ['sync-config.json', '.sync-status.json', '.sync-failures.json', '.scopefs/', '*.sync-conflict-*', '*.sync-resolved-*', 'application-state/sync-conflict.json'],
  scratch: ['_tmp-*'],
  junk: ['*.swp', '*~', '.DS_Store', 'Thumbs.db'],
};

const GLOB = { dot: true } as const;

interface DenyRule {
  /** e.g. `secret: .env*`, `infrastructure: .git/`. */
  label: string;
  /** One matcher per name in the chain (`.docker/config.json` has two). */
  names: ReadonlyArray<(name: string) => boolean>;
}

/** The names of a pattern as they are matched: lower case, without the trailing `/` of a directory. */
function namesOf(pattern: string): string[] {
  return pattern.replace(/\/$/, '').toLowerCase().split('/');
}

const RULES: readonly DenyRule[] = Object.entries(DENYLIST).flatMap(([category, patterns]) =>
  patterns.map((pattern) => ({
    label: `${category}: ${pattern}`,
    names: namesOf(pattern).map((name) => picomatch(name, GLOB)),
  })),
);

/** One regular expression matching any of `globs` (one test per name keeps the denylist cheap on large trees). */
function anyOf(globs: readonly string[]): RegExp {
  return new RegExp(globs.map((glob) => `(?:${picomatch.makeRe(glob, GLOB).source})`).join('|'));
}

/** A name that may start a denial: it matches a one-name rule, or the first name of a chain. */
const MAY_DENY = anyOf(Object.values(DENYLIST).flat().map((pattern) => namesOf(pattern)[0]!));

/** Every rule label, for docs and status output. */
export const DENYLIST_RULES: readonly string[] = RULES.map((rule) => rule.label);

/**
 * Why a path must never sync (`'secret: .env*'`), or null when it may.
 * Accepts virtual paths with or without the leading `/`.
 */
export function deniedReason(path: string): string | null {
  const names = path
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => spellings(foldSegment(segment)));
  for (let at = 0; at < names.length; at++) {
    if (!names[at]!.some((name) => MAY_DENY.test(name))) continue; // most names: one test
    const rule = RULES.find((r) => r.names.every((matches, i) => names[at + i]?.some(matches) ?? false));
    if (rule !== undefined) return rule.label;
  }
  return null;
}

// Zero-width and other invisible characters someone could slip into a name.
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * Folds a name the way a careless filesystem or a hostile writer might:
 * compatibility forms (full-width `．ｅｎｖ`) to plain ones, invisibles
 * removed, lower case, and trailing dots and spaces dropped as Windows does.
 */
function foldSegment(segment: string): string {
  return segment
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .toLowerCase()
    .trim()
    .replace(/[.\s]+$/u, '');
}

/** The name itself and, for `name:stream` (an NTFS alternate data stream), the name before the colon. */
function spellings(segment: string): string[] {
  const colon = segment.indexOf(':');
  return colon > 0 ? [segment, segment.slice(0, colon).replace(/[.\s]+$/u, '')] : [segment];
}
