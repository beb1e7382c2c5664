/**
 * The hardcoded sync denylist: files that must never reach a store, whatever
 * `sync-config.json` says. Every rule is tested against every path segment,
 * so a denied name is denied as a file at any depth (`/x/y/.env.local`) and as
 * a directory (`/a/.git/config`). Names are folded before matching so that
 * case, Unicode look-alikes and Windows-style trailing dots cannot sneak a
 * secret through.
 */
import picomatch from 'picomatch';

const DENYLIST: Record<string, readonly string[]> = {
  secret: ['.env*', '*.key', '*.pem', 'credentials.json', 'service-account*.json', 'id_rsa*', '.ssh/', '.aws/'],
  // SQLite sidecars (-wal, -shm, -journal) too: a store database may live under the root.
  infrastructure: ['.git/', 'node_modules/', '*.sqlite', '*.sqlite3', '*.db', '*.{db,sqlite,sqlite3}-{wal,shm,journal}', '*.tfstate*'],
  engine: ['sync-config.json', '.sync-status.json', '.sync-failures.json', '.scopefs/', '*.sync-conflict-*'],
  scratch: ['_tmp-*'],
  junk: ['*.swp', '*~', '.DS_Store', 'Thumbs.db'],
};

/**
 * The conflict status file the engine writes (`application-state/sync-conflict.json`).
 * Its name alone is not the engine's, so it is matched with its parent directory.
 */
const CONFLICT_STATUS_FILE = ['application-state', 'sync-conflict.json'] as const;
const CONFLICT_STATUS_RULE = `engine: ${CONFLICT_STATUS_FILE.join('/')}`;

interface DenyRule {
  /** e.g. `secret: .env*`, `infrastructure: .git/`. */
  label: string;
  matches: (segment: string) => boolean;
}

const RULES: readonly DenyRule[] = Object.entries(DENYLIST).flatMap(([category, patterns]) =>
  patterns.map((pattern) => ({
    label: `${category}: ${pattern}`,
    matches: picomatch(pattern.replace(/\/$/, '').toLowerCase(), { dot: true }),
  })),
);

/** Every rule label, for docs and status output. */
export const DENYLIST_RULES: readonly string[] = [...RULES.map((rule) => rule.label), CONFLICT_STATUS_RULE];

/**
 * Why a path must never sync (`'secret: .env*'`), or null when it may.
 * Accepts virtual paths with or without the leading `/`.
 */
export function deniedReason(path: string): string | null {
  const segments = path.split('/').filter((segment) => segment !== '').map(foldSegment);
  for (const segment of segments) {
    for (const candidate of spellings(segment)) {
      const rule = RULES.find((r) => r.matches(candidate));
      if (rule !== undefined) return rule.label;
    }
  }
  return isConflictStatusFile(segments) ? CONFLICT_STATUS_RULE : null;
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

function isConflictStatusFile(segments: readonly string[]): boolean {
  const [parent, name] = CONFLICT_STATUS_FILE;
  return segments.some((segment, i) => segment === parent && segments[i + 1] === name);
}
