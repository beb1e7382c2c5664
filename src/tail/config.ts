/**
 * Tail sources: the `tail` option of a scope and the `tail` list of
 * sync-config.json, checked and resolved to a base directory and a matcher.
 * Pure. Sources outside the scope are the operator's to name: a list from
 * sync-config.json (a file of the scope, which agents and other instances
 * write) may only tail files inside the scope.
 */
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import picomatch from 'picomatch';
import { z } from 'zod';
import { ScopeFsError } from '../errors.js';
import type { ParseMode } from './record.js';

export interface TailSourceConfig {
  /** Files to tail: relative to the scope (or `inside`), or an absolute/`~/` glob outside it. */
  glob: string;
  /** `'scope'` (the default for a relative glob) or an absolute directory outside the scope, read-only to scopefs. */
  inside?: 'scope' | string;
  /** JSON fields whose values make a record's key (dotted paths allowed); default: file, offset and the line's bytes. */
  key?: string[];
  /** `'json'` (default): each line is parsed; `'text'`: kept as a string. */
  parse?: ParseMode;
  /** The records' `source`; default: the glob as given. */
  name?: string;
}

export interface TailSettings {
  sources: TailSourceConfig[];
  /** Files read at start, newest first; older files never read are left for `backfill` (default 200). */
  backfillFiles?: number;
  /** Longer lines become an ETOOLONG record holding their first bytes (default 1 MiB). */
  maxLineBytes?: number;
  /** How often every tailed file is checked with a stat, in case a watch event was missed (default 2000 ms). */
  rescanMs?: number;
}

export type TailOption = TailSourceConfig[] | TailSettings;

export interface ResolvedSource {
  name: string;
  /** Absolute directory the glob is matched under (watched, with every directory below it). */
  base: string;
  /** Matches a path relative to base (with `/`). */
  matches: (relative: string) => boolean;
  /** True for a source inside the scope: its records name files by scope path. */
  inScope: boolean;
  parse: ParseMode;
  key?: string[];
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
export const DEFAULT_BACKFILL_FILES = 200;
export const DEFAULT_RESCAN_MS = 2000;

export const tailSourceSchema = z.strictObject({
  glob: z.string().min(1).max(4096),
  inside: z.string().min(1).optional(),
  key: z.array(z.string().min(1)).min(1).optional(),
  parse: z.enum(['json', 'text']).optional(),
  name: z.string().min(1).max(1000).optional(),
});

export function settingsOf(option: TailOption | undefined): TailSettings {
  if (option === undefined) return { sources: [] };
  return Array.isArray(option) ? { sources: option } : option;
}

/**
 * Resolves each source; throws EINVAL naming the bad one. `fromConfigFile`: refuse sources outside the
 * scope. With `skip`, a bad entry is handed to it and left out instead (sync-config.json's list).
 */
export function resolveSources(sources: readonly unknown[], root: string | undefined, fromConfigFile = false, skip?: (err: unknown) => void): ResolvedSource[] {
  const names = new Set<string>();
  const resolved: ResolvedSource[] = [];
  sources.forEach((raw, index) => {
    try {
      const where = `${fromConfigFile ? 'sync-config.json ' : ''}tail[${index}]`;
      const parsed = tailSourceSchema.safeParse(raw);
      if (!parsed.success) throw new ScopeFsError('EINVAL', `${where} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'entry'}: ${i.message}`).join('; ')}`);
      const source = resolveOne(parsed.data, root, where, fromConfigFile);
      if (names.has(source.name)) throw new ScopeFsError('EINVAL', `${where}: another source is named ${JSON.stringify(source.name)}; give each a distinct name`);
      names.add(source.name);
      resolved.push(source);
    } catch (err) {
      if (!skip) throw err;
      skip(err);
    }
  });
  return resolved;
}

function resolveOne(config: TailSourceConfig, root: string | undefined, where: string, fromConfigFile: boolean): ResolvedSource {
  const home = config.glob.startsWith('~/') ? join(homedir(), config.glob.slice(2)) : config.glob;
  // With inside: 'scope' a leading '/' is a scope path, not the machine's root.
  const glob = config.inside === 'scope' ? home.replace(/^\/+/, '') : home;
  const outside = (config.inside !== undefined && config.inside !== 'scope') || isAbsolute(glob);
  if (outside && fromConfigFile) {
    throw new ScopeFsError('EINVAL', `${where}: sync-config.json may only tail files inside the scope; name outside directories in the tail option (or \`scopefs serve --tail\`)`);
  }
  if (!outside && root === undefined) throw new ScopeFsError('EINVAL', `${where}: tailing files inside the scope needs a root directory`);
  if (config.inside !== undefined && config.inside !== 'scope' && !isAbsolute(config.inside)) {
    throw new ScopeFsError('EINVAL', `${where}: inside must be 'scope' or an absolute directory, not ${JSON.stringify(config.inside)}`);
  }
  const { base, pattern } = splitGlob(glob);
  const dir = isAbsolute(glob) ? base : join(config.inside !== undefined && config.inside !== 'scope' ? config.inside : root!, base);
  if (!outside && resolve(dir).split('/').includes('.scopefs')) throw new ScopeFsError('EINVAL', `${where}: scopefs's own files under .scopefs/ cannot be tailed`);
  const matcher = picomatch(pattern, { dot: false });
  return {
    name: config.name ?? config.glob,
    base: resolve(dir),
    matches: (relative) => matcher(relative),
    inScope: !outside,
    parse: config.parse ?? 'json',
    ...(config.key ? { key: config.key } : {}),
  };
}

/** The directory part of a glob (watched) and the pattern below it; a plain file name is its own pattern. */
export function splitGlob(glob: string): { base: string; pattern: string } {
  const scanned = picomatch.scan(glob);
  if (!scanned.isGlob) return { base: dirname(glob), pattern: basename(glob) };
  return { base: scanned.base === '' ? '.' : scanned.base, pattern: scanned.glob };
}
