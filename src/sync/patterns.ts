/**
 * Which files sync, under which owner, and with which conflict strategy:
 * `sync-config.json` parsing and the path matchers built from it. Pure; the
 * engine reads the file and passes its text. The hardcoded denylist is
 * checked first and always wins.
 */
import picomatch from 'picomatch';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import { deniedReason } from './denylist.js';
import { CONFLICT_STRATEGIES, DEFAULT_RULE, type AppliedRule, type RuleSource, type StrategyRule } from './strategies.js';

export interface SyncConfig {
  /** Globs of shared files, in order; `!pattern` excludes, and the last match wins. */
  syncFilePatterns: string[];
  /** Globs of private files (synced under the user's owner id); same rules. */
  privateSyncFilePatterns: string[];
  /** Conflict strategies by path, in order: the first rule whose pattern matches applies (default `merge`). */
  conflictStrategies: StrategyRule[];
}

export type SyncDecision = { sync: true; scope: 'shared' | 'private' } | { sync: false; reason: 'denylist' | 'not_matched' };

export const SYNC_CONFIG_FILE = 'sync-config.json';

/** Longer patterns are refused (picomatch itself throws past 65,536 characters). */
export const MAX_PATTERN_LENGTH = 4096;

const patternList = z.array(
  z
    .string()
    .max(MAX_PATTERN_LENGTH, { message: `a pattern must be at most ${MAX_PATTERN_LENGTH} characters` })
    .refine((pattern) => body(pattern) !== '', { message: 'a pattern must not be empty (or only "!" and "/")' })
    .refine(compiles, { message: 'not a valid glob pattern' }),
);

const strategyRuleList = z.array(
  z.strictObject({
    pattern: z
      .string()
      .max(MAX_PATTERN_LENGTH, { message: `a pattern must be at most ${MAX_PATTERN_LENGTH} characters` })
      .refine((pattern) => !pattern.startsWith('!'), { message: 'a strategy pattern cannot be negated with "!": order the rules instead (the first match wins)' })
      .refine((pattern) => body(pattern) !== '', { message: 'a pattern must not be empty (or only "/")' })
      .refine(compiles, { message: 'not a valid glob pattern' }),
    strategy: z.enum(CONFLICT_STRATEGIES, { message: `the strategy must be one of ${CONFLICT_STRATEGIES.join(', ')}` }),
  }),
);

// strict: a misspelt key would otherwise silently sync the wrong set of files.
const syncConfigSchema = z.strictObject({
  syncFilePatterns: patternList.default([]),
  privateSyncFilePatterns: patternList.default([]),
  conflictStrategies: strategyRuleList.default([]),
  // JSONL tail sources (src/tail/config.ts checks them; only files inside the scope may be named here).
  tail: z.array(z.unknown()).optional(),
});

/**
 * Parses the text of `sync-config.json`. `null` (no file) means no config:
 * every file the denylist allows is shared. A missing list means no file of
 * that kind. Malformed JSON, wrong types and unknown keys are errors, so the
 * engine can stay paused instead of syncing the wrong files.
 */
export function parseSyncConfig(text: string | null): { ok: true; config: SyncConfig | null } | { ok: false; error: string } {
  if (text === null) return { ok: true, config: null };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `${SYNC_CONFIG_FILE} is not valid JSON: ${errorMessage(err)}` };
  }
  const parsed = syncConfigSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, error: `${SYNC_CONFIG_FILE} is invalid: ${parsed.error.issues.map(describeIssue).join('; ')}` };
  }
  return { ok: true, config: parsed.data };
}

/**
 * Checks the library's `conflictStrategies` option with the rules
 * sync-config.json's list follows; the error names the bad rule.
 */
export function parseStrategyRules(rules: unknown): { ok: true; rules: StrategyRule[] } | { ok: false; error: string } {
  const parsed = strategyRuleList.safeParse(rules ?? []);
  if (parsed.success) return { ok: true, rules: parsed.data };
  return { ok: false, error: `the conflictStrategies option is invalid: ${parsed.error.issues.map((i) => describeIssue({ ...i, path: ['conflictStrategies', ...i.path] })).join('; ')}` };
}

/** How many paths' rules a strategy matcher remembers before it starts over. */
const MAX_REMEMBERED_RULES = 100_000;

/**
 * Builds the per-path strategy rule: sync-config.json's rules first, then
 * the library option's, the first whose pattern matches wins; else `merge`.
 * Patterns are matched like the sync patterns (see createSyncMatcher).
 */
export function createStrategyMatcher(configRules: readonly StrategyRule[], optionRules: readonly StrategyRule[] = []): (path: string) => AppliedRule {
  const compile = (rules: readonly StrategyRule[], source: RuleSource) =>
    rules.map((rule, index) => ({ matches: picomatch(body(rule.pattern), GLOB_OPTIONS), applied: { strategy: rule.strategy, source, pattern: rule.pattern, index } }));
  const compiled = [...compile(configRules, 'config'), ...compile(optionRules, 'options')];
  if (compiled.length === 0) return () => DEFAULT_RULE;
  // Every pass asks again for the same paths; a glob test costs ~150 ns, so remember the answers (bounded).
  const known = new Map<string, AppliedRule>();
  return (path) => {
    const hit = known.get(path);
    if (hit !== undefined) return hit;
    const relative = path.replace(/^\/+/, '');
    const applied = compiled.find((rule) => rule.matches(relative))?.applied ?? DEFAULT_RULE;
    if (known.size >= MAX_REMEMBERED_RULES) known.clear();
    known.set(path, applied);
    return applied;
  };
}

/** `syncFilePatterns[1]: Invalid input: expected string, received number`. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const at = issue.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('');
  return at === '' ? issue.message : `${at.replace(/^\./, '')}: ${issue.message}`;
}

/**
 * Builds the per-path decision. Paths are virtual (`/notes/a.md`); globs are
 * picomatch globs against the path without its leading `/` (`notes/**`,
 * `docs/*.md`), dotfiles included, case-sensitive. A pattern ending in `/`
 * means everything under that directory. Private patterns win over shared
 * ones; the denylist wins over both.
 */
export function createSyncMatcher(config: Pick<SyncConfig, 'syncFilePatterns' | 'privateSyncFilePatterns'> | null): (path: string) => SyncDecision {
  const isPrivate = config === null ? () => false : compileList(config.privateSyncFilePatterns);
  const isShared = config === null ? () => true : compileList(config.syncFilePatterns);
  return (path) => {
    if (deniedReason(path) !== null) return { sync: false, reason: 'denylist' };
    const relative = path.replace(/^\/+/, '');
    if (isPrivate(relative)) return { sync: true, scope: 'private' };
    if (isShared(relative)) return { sync: true, scope: 'shared' };
    return { sync: false, reason: 'not_matched' };
  };
}

// Only the first "!" negates (we strip it); "!!.env" is the literal name "!.env", as in gitignore.
const GLOB_OPTIONS = { dot: true, nonegate: true } as const;

function compiles(pattern: string): boolean {
  try {
    picomatch.makeRe(body(pattern), GLOB_OPTIONS);
    return true;
  } catch {
    return false;
  }
}

interface CompiledPattern {
  negated: boolean;
  matches: (path: string) => boolean;
}

/** gitignore-like: patterns apply in order and the last one that matches decides. */
function compileList(patterns: readonly string[]): (path: string) => boolean {
  const compiled: CompiledPattern[] = patterns.map((pattern) => ({
    negated: pattern.startsWith('!'),
    matches: picomatch(body(pattern), GLOB_OPTIONS),
  }));
  return (path) => {
    let included = false;
    for (const pattern of compiled) {
      if (pattern.matches(path)) included = !pattern.negated;
    }
    return included;
  };
}

/** The glob without its `!`, anchored at the root (leading `/` dropped), `dir/` meaning `dir/**`. */
function body(pattern: string): string {
  const glob = (pattern.startsWith('!') ? pattern.slice(1) : pattern).trim().replace(/^\/+/, '');
  return glob.endsWith('/') ? `${glob}**` : glob;
}
