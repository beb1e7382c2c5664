/**
 * A scope's directory name under a data directory (`serve --data <dir>`):
 * `<dir>/<scopeDirName(key)>/`. Pure: no I/O.
 *
 * The name is the canonical scope key (scope-key.ts: NFC, no `.`/`..`
 * segments, no control characters) with every UTF-8 byte outside
 * `[a-z0-9_-]` written as `~` and two lowercase hex digits (`.` is kept
 * inside the name). So the name
 * - is lowercase ASCII only: case-insensitive filesystems cannot merge two
 *   keys (`User` is `~55ser`, `user` is `user`), and a filesystem that
 *   normalises Unicode (macOS) has nothing to normalise;
 * - has no `/`, `\`, `:` or other separator and never starts or ends with
 *   `.`, so it is one entry directly inside `<dir>` (never `..`, never a
 *   hidden `.scopefs`), and is no Windows device name (`con`, `nul`, …);
 * - decodes back to exactly one key (scopeKeyOfDirName), which re-encodes
 *   to the same name, so no two keys share a directory.
 */
import { ScopeFsError } from '../../src/errors.js';
import type { ScopeKey } from '../../src/types.js';
import { canonicalScopeKey } from './scope-key.js';

/** Longest directory name (bytes); most filesystems allow 255. */
export const MAX_SCOPE_DIR_NAME = 240;

const KEPT = /^[a-z0-9_-]$/;
// Windows device names, refused there with any extension (`nul.txt`).
const DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/;
const NAME = /^(?:[a-z0-9_.-]|~[0-9a-f]{2})+$/;

/** The directory name of a scope key; EINVAL for an invalid key or one whose name would be too long. */
export function scopeDirName(key: ScopeKey): string {
  const canonical = canonicalScopeKey(key);
  const bytes = Buffer.from(canonical, 'utf8');
  let name = '';
  bytes.forEach((byte, i) => {
    const char = String.fromCharCode(byte);
    const edge = i === 0 || i === bytes.length - 1;
    name += KEPT.test(char) || (char === '.' && !edge) ? char : escape(byte);
  });
  if (DEVICE.test(name)) name = escape(name.charCodeAt(0)) + name.slice(1);
  if (name.length > MAX_SCOPE_DIR_NAME) {
    throw new ScopeFsError(
      'EINVAL',
      `scope key ${JSON.stringify(canonical.slice(0, 40))}… is too long for a directory (${name.length} bytes encoded, at most ${MAX_SCOPE_DIR_NAME}); use a shorter key (ASCII lowercase letters and digits encode as themselves)`,
    );
  }
  return name;
}

/** The canonical scope key a directory name stands for, or undefined when the name is not one scopeDirName gives. */
export function scopeKeyOfDirName(name: string): string | undefined {
  if (!NAME.test(name)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '~') {
      bytes.push(Number.parseInt(name.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(name.charCodeAt(i));
    }
  }
  const key = new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(bytes));
  try {
    // Only the one encoding of a valid key counts: `~61` for `a`, or invalid UTF-8, is not a scope's directory.
    return scopeDirName(key) === name ? canonicalScopeKey(key) : undefined;
  } catch {
    return undefined;
  }
}

function escape(byte: number): string {
  return `~${byte.toString(16).padStart(2, '0')}`;
}
