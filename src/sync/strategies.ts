/**
 * Conflict strategies: which way a path whose two sides both changed is
 * settled. Chosen per path by an ordered list of `{ pattern, strategy }`
 * rules (sync-config.json's `conflictStrategies`, then the library's
 * `conflictStrategies` option), first match wins, default `merge`.
 * Pure: the vocabulary, the rule a path gets, and the `newest` tie-break.
 * reconcile.ts turns a strategy into an action; sync-plan.ts into changes.
 */

export const CONFLICT_STRATEGIES = ['merge', 'newest', 'local', 'remote', 'manual', 'fail-stop'] as const;

/**
 * - `merge`: by kind (JSON keys, JSONL appends, diff3 text), else a conflict copy (the default).
 * - `newest`: the side modified later wins; a tie goes to the greater instance id.
 * - `local` / `remote`: this instance's side, or the store's side, always wins.
 * - `manual`: never merge; keep both and record the conflict.
 * - `fail-stop`: touch nothing; hold the path (reported in status) until someone resolves it.
 */
export type ConflictStrategy = (typeof CONFLICT_STRATEGIES)[number];

export interface StrategyRule {
  /** A glob like the sync patterns (`status/**`, `*.json`, `dir/`), without `!`. */
  pattern: string;
  strategy: ConflictStrategy;
}

/** Where the rule that applied comes from; `resolution`: someone resolved a held path with a side. */
export type RuleSource = 'config' | 'options' | 'default' | 'resolution';

/** The rule that chose a path's strategy. */
export interface AppliedRule {
  strategy: ConflictStrategy;
  source: RuleSource;
  /** The rule's pattern; null for the default. */
  pattern: string | null;
  /** Its place in its list (`conflictStrategies[index]`); null for the default. */
  index: number | null;
}

export const DEFAULT_RULE: AppliedRule = { strategy: 'merge', source: 'default', pattern: null, index: null };

/**
 * One line naming a rule, for events, conflict records and status:
 * `sync-config.json conflictStrategies[0] "status/**" -> newest`,
 * `options.conflictStrategies[1] "*.md" -> manual`, `default -> merge`.
 */
export function describeRule(rule: AppliedRule): string {
  if (rule.source === 'default') return `default -> ${rule.strategy}`;
  if (rule.source === 'resolution') return `resolved by request -> ${rule.strategy}`;
  const list = rule.source === 'config' ? 'sync-config.json conflictStrategies' : 'options.conflictStrategies';
  return `${list}[${rule.index}] ${JSON.stringify(rule.pattern)} -> ${rule.strategy}`;
}

/** One side of a `newest` decision: when it was last modified, and by which instance. */
export interface Stamp {
  modifiedAt: number;
  instance: string;
}

/**
 * Whether the local side wins under `newest`. The later modification wins;
 * equal times go to the greater instance id, so two instances comparing the
 * same pair of versions pick the same winner.
 */
export function localIsNewer(local: Stamp, remote: Stamp): boolean {
  if (local.modifiedAt !== remote.modifiedAt) return local.modifiedAt > remote.modifiedAt;
  return local.instance > remote.instance;
}

/** A path a `fail-stop` rule holds: nothing is applied to it until it is resolved. */
export interface HeldPath {
  path: string;
  strategy: ConflictStrategy;
  /** describeRule() of the rule that applied. */
  rule: string;
  /** The reconcile case that was contested (`both_changed`, `local_deleted_remote_changed`, ...). */
  case: string;
  since: string;
}

/** The sync event of an automatic resolution that discarded a side. */
export interface StrategyAppliedEvent {
  type: 'strategy_applied';
  path: string;
  strategy: ConflictStrategy;
  /** describeRule() of the rule that applied. */
  rule: string;
  case: string;
  /** The side that now holds the path. */
  kept: 'local' | 'remote';
  /** Where the discarded side was kept (a `.sync-resolved-` copy beside the file). */
  resolvedCopy: string;
}

/** The sync event of a path a `fail-stop` rule started holding. */
export interface PathHeldEvent {
  type: 'path_held';
  held: HeldPath;
}
