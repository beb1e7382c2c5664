import { SHARED_OWNER, type StoreRow } from '../../persistence/stores/types.js';
import { isUtf8 } from '../content.js';
import { normalizePath } from '../paths.js';
import { isConflictCopy } from './conflict-copy.js';
import { CONFLICT_REPORT_PATH } from './conflict-book.js';
import { deniedReason } from './denylist.js';
import { FAILURES_PATH, STATUS_PATH } from './engine-files.js';
import { createStrategyMatcher, createSyncMatcher, parseStrategyRules, parseSyncConfig, type SyncConfig } from './patterns.js';
import { DEFAULT_RULE, type AppliedRule, type StrategyRule } from './strategies.js';

export const SYNC_CONFIG_PATH = '/sync-config.json';

/** Files the engine writes itself; never synced, whatever the patterns say. */
const ENGINE_FILES = new Set([SYNC_CONFIG_PATH, STATUS_PATH, FAILURES_PATH, CONFLICT_REPORT_PATH]);

/**
 * Decides which local paths sync and under which owner, from
 * `sync-config.json` and the hardcoded denylist. A malformed config leaves
 * `error` set: the engine then stays paused rather than syncing the wrong set.
 */
export class SyncTargets {
  readonly error: string | undefined;
  private readonly matcher: ((path: string) => ReturnType<ReturnType<typeof createSyncMatcher>>) | undefined;
  private readonly strategyOf: (path: string) => AppliedRule;

  private constructor(
    config: SyncConfig | null,
    error: string | undefined,
    private readonly userId: string | undefined,
    optionRules: readonly StrategyRule[] = [],
  ) {
    this.error = error;
    this.matcher = error === undefined ? createSyncMatcher(config) : undefined;
    this.strategyOf = createStrategyMatcher(config?.conflictStrategies ?? [], optionRules);
  }

  /**
   * Builds the targets from the config file's bytes (null when there is
   * none) and the library's `conflictStrategies` option (checked here too, so
   * a bad rule pauses sync like a bad config file).
   */
  static fromConfigBytes(bytes: Uint8Array | null, userId: string | undefined, strategyOption?: unknown): SyncTargets {
    const option = parseStrategyRules(strategyOption);
    if (!option.ok) return new SyncTargets(null, option.error, userId);
    if (bytes !== null && !isUtf8(bytes)) {
      return new SyncTargets(null, 'sync-config.json is invalid: it is not valid UTF-8', userId);
    }
    const parsed = parseSyncConfig(bytes === null ? null : Buffer.from(bytes).toString('utf8'));
    // The parse error names the file already ("sync-config.json is invalid: ..." or "... is not valid JSON: ...").
    if (!parsed.ok) return new SyncTargets(null, parsed.error, userId);
    return new SyncTargets(parsed.config, undefined, userId, option.rules);
  }

  /** The conflict-strategy rule of a path (the default `merge` while the config is invalid: nothing syncs then anyway). */
  ruleFor(path: string): AppliedRule {
    return this.error === undefined ? this.strategyOf(path) : DEFAULT_RULE;
  }

  /** Owners whose rows this instance reads from the store. */
  owners(): string[] {
    return this.userId === undefined ? [SHARED_OWNER] : [SHARED_OWNER, this.userId];
  }

  /** The owner a local path syncs under, or null when it does not sync. */
  ownerOf(path: string): string | null {
    if (!this.matcher || ENGINE_FILES.has(path) || isConflictCopy(path)) return null;
    const decision = this.matcher(path);
    if (!decision.sync) return null;
    if (decision.scope === 'shared') return SHARED_OWNER;
    return this.userId ?? null;
  }

  /**
   * Whether a row from the store may be applied here: `accept`, `not_ours`
   * (another owner's, or outside this instance's patterns), or why it is
   * refused (malformed, or a path that must never sync).
   */
  judge(row: StoreRow): 'accept' | 'not_ours' | string {
    if (typeof row.path !== 'string' || typeof row.owner !== 'string') return 'path and owner must be strings';
    if (!Number.isSafeInteger(row.revision) || row.revision <= 0) return `absurd revision ${String(row.revision)}`;
    let normalized: string;
    try {
      normalized = normalizePath(row.path);
    } catch (err) {
      return (err as Error).message;
    }
    if (normalized !== row.path) return `path ${JSON.stringify(row.path)} is not in canonical form`;
    if (!row.deleted && (typeof row.hash !== 'string' || !(row.content instanceof Uint8Array))) {
      return 'a live row without hash or content';
    }
    const denied = deniedReason(row.path);
    if (denied !== null) return `${row.path} is denylisted (${denied}) and never syncs`;
    if (row.owner !== SHARED_OWNER && row.owner !== this.userId) return 'not_ours';
    return this.ownerOf(row.path) === row.owner ? 'accept' : 'not_ours';
  }
}
