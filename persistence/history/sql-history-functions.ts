/** Parameters (name, SQL type) of the history's SQL functions (migrations/005_history.sql), in declaration order. */
export const HISTORY_FUNCTIONS = {
  scopefs_history_record: [['p_scope', 'text'], ['p_versions', 'jsonb']],
  scopefs_history_versions: [['p_scope', 'text'], ['p_path', 'text'], ['p_before', 'bigint'], ['p_limit', 'integer']],
  scopefs_history_version: [['p_scope', 'text'], ['p_path', 'text'], ['p_revision', 'bigint']],
  scopefs_history_content: [['p_scope', 'text'], ['p_hash', 'text']],
  scopefs_history_deleted: [['p_scope', 'text'], ['p_prefix', 'text'], ['p_limit', 'integer']],
  scopefs_history_bytes: [['p_scope', 'text']],
  scopefs_history_save_checkpoint: [
    ['p_scope', 'text'], ['p_name', 'text'], ['p_message', 'text'], ['p_prefix', 'text'], ['p_at', 'bigint'], ['p_files', 'jsonb'],
  ],
  scopefs_history_checkpoint: [['p_scope', 'text'], ['p_name', 'text']],
  scopefs_history_checkpoints: [['p_scope', 'text']],
  scopefs_history_delete_checkpoint: [['p_scope', 'text'], ['p_name', 'text']],
  scopefs_history_prune: [
    ['p_scope', 'text'], ['p_max_versions', 'integer'], ['p_max_age_ms', 'bigint'], ['p_max_bytes', 'bigint'], ['p_max_rows', 'integer'], ['p_now', 'bigint'],
  ],
  scopefs_note_cursor: [['p_app', 'text'], ['p_instance', 'text'], ['p_cursor', 'bigint'], ['p_now', 'bigint']],
  scopefs_purge_tombstones: [['p_app', 'text'], ['p_older_than_ms', 'bigint'], ['p_now', 'bigint']],
  scopefs_tombstone_horizon: [['p_app', 'text']],
} as const satisfies Record<string, ReadonlyArray<readonly [string, string]>>;

export type HistoryFunction = keyof typeof HISTORY_FUNCTIONS;

/** `SELECT public.fn(p_a => $1::text, …) AS result`, for node-postgres. */
export function historyCallSql(fn: HistoryFunction): string {
  const args = HISTORY_FUNCTIONS[fn].map(([name, type], i) => `${name} => $${i + 1}::${type}`);
  return `SELECT public.${fn}(${args.join(', ')}) AS result`;
}

/** The positional values for historyCallSql (jsonb ones serialised). */
export function historyCallValues(fn: HistoryFunction, args: Record<string, unknown>): unknown[] {
  return HISTORY_FUNCTIONS[fn].map(([name, type]) => (type === 'jsonb' ? JSON.stringify(args[name]) : (args[name] ?? null)));
}
