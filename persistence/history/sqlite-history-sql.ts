/** The SQLite history's statements (tables: migration 3 in persistence/sql/sqlite-schema.ts). */
const VERSION_COLUMNS = 'revision, path, hash, size, at, origin, actor, instance, deleted';
/** Not the latest version of its path, and no checkpoint manifest names its (path, hash). */
const PRUNABLE = `v.revision <> p.latest AND NOT EXISTS (
  SELECT 1 FROM scopefs_history_manifest m WHERE m.scope = v.scope AND m.hash = v.hash AND m.path = v.path)`;
const FROM_PRUNABLE = `FROM scopefs_history_versions v
  JOIN scopefs_history_paths p ON p.scope = v.scope AND p.path = v.path`;
/** An entry of prefix @prefix belonging to checkpoint sequence @seq. */
const IN_CHECKPOINT = 'scope = @scope AND prefix = @prefix AND from_seq <= @seq AND (to_seq IS NULL OR to_seq > @seq)';

export const HISTORY_SQL = {
  head: 'SELECT revision, checkpoint_seq AS checkpointSeq, bytes FROM scopefs_history_heads WHERE scope = ?',
  saveHead: `INSERT INTO scopefs_history_heads (scope, revision, checkpoint_seq, bytes) VALUES (@scope, @revision, @checkpointSeq, @bytes)
             ON CONFLICT (scope) DO UPDATE SET revision = excluded.revision, checkpoint_seq = excluded.checkpoint_seq, bytes = excluded.bytes`,
  pathState: 'SELECT latest, hash, deleted, count FROM scopefs_history_paths WHERE scope = ? AND path = ?',
  savePath: `INSERT INTO scopefs_history_paths (scope, path, latest, hash, deleted, count) VALUES (@scope, @path, @latest, @hash, @deleted, @count)
             ON CONFLICT (scope, path) DO UPDATE SET latest = excluded.latest, hash = excluded.hash, deleted = excluded.deleted, count = excluded.count`,
  countDown: 'UPDATE scopefs_history_paths SET count = count - 1 WHERE scope = ? AND path = ?',
  insertVersion: `INSERT INTO scopefs_history_versions (scope, ${VERSION_COLUMNS})
                  VALUES (@scope, @revision, @path, @hash, @size, @at, @origin, @actor, @instance, @deleted)`,
  deleteVersion: 'DELETE FROM scopefs_history_versions WHERE scope = ? AND revision = ?',
  versions: `SELECT ${VERSION_COLUMNS} FROM scopefs_history_versions
             WHERE scope = ? AND path = ? AND revision < ? ORDER BY revision DESC LIMIT ?`,
  version: `SELECT ${VERSION_COLUMNS} FROM scopefs_history_versions WHERE scope = ? AND path = ? AND revision = ?`,
  deleted: `SELECT ${VERSION_COLUMNS.split(', ').map((c) => `v.${c}`).join(', ')}
            FROM scopefs_history_paths p JOIN scopefs_history_versions v ON v.scope = p.scope AND v.revision = p.latest
            WHERE p.scope = @scope AND p.deleted = 1 AND (@prefix = '/' OR substr(p.path, 1, length(@prefix)) = @prefix)
            ORDER BY p.latest DESC LIMIT @limit`,
  hasContent: 'SELECT 1 AS found FROM scopefs_history_contents WHERE scope = ? AND hash = ?',
  content: 'SELECT content FROM scopefs_history_contents WHERE scope = ? AND hash = ?',
  /** ?2: a JSON array of hashes (one statement for a chunk of a restore). */
  contents: 'SELECT hash, content FROM scopefs_history_contents WHERE scope = ? AND hash IN (SELECT value FROM json_each(?))',
  insertContent: 'INSERT OR IGNORE INTO scopefs_history_contents (scope, hash, size, content) VALUES (?, ?, ?, ?)',
  /** Deletes a content no version and no manifest entry names; returns its size. */
  dropUnreferencedContent: `DELETE FROM scopefs_history_contents AS c WHERE c.scope = @scope AND c.hash = @hash
    AND NOT EXISTS (SELECT 1 FROM scopefs_history_versions v WHERE v.scope = c.scope AND v.hash = c.hash)
    AND NOT EXISTS (SELECT 1 FROM scopefs_history_manifest m WHERE m.scope = c.scope AND m.hash = c.hash)
    RETURNING size`,
  checkpoint: `SELECT name, message, prefix, at, seq, file_count AS fileCount, bytes FROM scopefs_history_checkpoints
               WHERE scope = ? AND name = ?`,
  checkpoints: `SELECT name, message, prefix, at, seq, file_count AS fileCount, bytes FROM scopefs_history_checkpoints
                WHERE scope = ? ORDER BY seq DESC`,
  insertCheckpoint: `INSERT INTO scopefs_history_checkpoints (scope, name, message, prefix, at, seq, file_count, bytes)
                     VALUES (@scope, @name, @message, @prefix, @at, @seq, @fileCount, @bytes)`,
  deleteCheckpoint: 'DELETE FROM scopefs_history_checkpoints WHERE scope = ? AND name = ?',
  currentEntries: 'SELECT path, hash, size FROM scopefs_history_manifest WHERE scope = ? AND prefix = ? AND to_seq IS NULL',
  closeEntry: 'UPDATE scopefs_history_manifest SET to_seq = @seq WHERE scope = @scope AND prefix = @prefix AND path = @path AND to_seq IS NULL',
  openEntry: `INSERT INTO scopefs_history_manifest (scope, prefix, path, from_seq, to_seq, hash, size)
              VALUES (@scope, @prefix, @path, @seq, NULL, @hash, @size)`,
  manifest: `SELECT path, hash, size FROM scopefs_history_manifest WHERE ${IN_CHECKPOINT} ORDER BY path`,
  /** Entries of a prefix that no remaining checkpoint's range covers; returns their hashes for content GC. */
  dropOrphanEntries: `DELETE FROM scopefs_history_manifest AS e WHERE e.scope = @scope AND e.prefix = @prefix
    AND NOT EXISTS (SELECT 1 FROM scopefs_history_checkpoints c WHERE c.scope = e.scope AND c.prefix = e.prefix
                    AND c.seq >= e.from_seq AND (e.to_seq IS NULL OR c.seq < e.to_seq))
    RETURNING hash`,
  prunableByAge: `SELECT v.revision, v.path, v.hash ${FROM_PRUNABLE}
                  WHERE v.scope = @scope AND v.at < @cutoff AND ${PRUNABLE} ORDER BY v.at, v.revision LIMIT @limit`,
  /** Versions beyond the newest @max of their path, oldest first (only paths with more than @max are ranked). */
  prunableBeyondCount: `SELECT revision, path, hash FROM (
                          SELECT v.scope, v.revision, v.path, v.hash, p.latest,
                                 row_number() OVER (PARTITION BY v.path ORDER BY v.revision DESC) AS rank
                          FROM scopefs_history_versions v
                          JOIN scopefs_history_paths p ON p.scope = v.scope AND p.path = v.path
                          WHERE v.scope = @scope AND p.count > @max) v
                        WHERE v.rank > @max AND ${PRUNABLE.replace('p.latest', 'v.latest')} ORDER BY revision LIMIT @limit`,
  prunableOldest: `SELECT v.revision, v.path, v.hash ${FROM_PRUNABLE}
                   WHERE v.scope = @scope AND ${PRUNABLE} ORDER BY v.revision LIMIT @limit`,
} as const;

export type HistoryStatement = keyof typeof HISTORY_SQL;
