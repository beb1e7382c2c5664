-- scopefs sync store, migration 5: history (every version of every path of an
-- app, content stored once per distinct sha256), checkpoints with manifests
-- stored as ranges, retention, and tombstone purging. The same model as the
-- SQLite schema 3 (persistence/sql/sqlite-schema.ts); TypeScript side:
-- persistence/history/sql-history.ts. Arguments are checked by the client
-- (persistence/history/history-input.ts); the functions check names and
-- rely on RLS for who may touch which scope.

CREATE TABLE scopefs.history_heads (
  scope text PRIMARY KEY,
  revision bigint NOT NULL DEFAULT 0,
  checkpoint_seq bigint NOT NULL DEFAULT 0,
  bytes bigint NOT NULL DEFAULT 0
);

CREATE TABLE scopefs.history_contents (
  scope text NOT NULL,
  hash text NOT NULL,
  size bigint NOT NULL,
  content bytea NOT NULL,
  PRIMARY KEY (scope, hash)
);

CREATE TABLE scopefs.history_versions (
  scope text NOT NULL,
  revision bigint NOT NULL,
  path text NOT NULL,
  hash text,
  size bigint NOT NULL,
  at bigint NOT NULL,
  origin text NOT NULL,
  actor text,
  instance text,
  deleted boolean NOT NULL,
  PRIMARY KEY (scope, revision)
);
CREATE INDEX history_versions_path_idx ON scopefs.history_versions (scope, path, revision);
CREATE INDEX history_versions_at_idx ON scopefs.history_versions (scope, at);
CREATE INDEX history_versions_hash_idx ON scopefs.history_versions (scope, hash);

CREATE TABLE scopefs.history_paths (
  scope text NOT NULL,
  path text NOT NULL,
  latest bigint NOT NULL,
  hash text,
  deleted boolean NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (scope, path)
);
CREATE INDEX history_paths_deleted_idx ON scopefs.history_paths (scope, deleted, latest);

CREATE TABLE scopefs.history_checkpoints (
  scope text NOT NULL,
  name text NOT NULL,
  message text,
  prefix text NOT NULL,
  at bigint NOT NULL,
  seq bigint NOT NULL,
  file_count bigint NOT NULL,
  bytes bigint NOT NULL,
  PRIMARY KEY (scope, name),
  UNIQUE (scope, seq)
);

-- An entry belongs to the checkpoints of its prefix with from_seq <= seq < to_seq
-- (to_seq NULL: still current): a checkpoint adds rows only for what changed.
CREATE TABLE scopefs.history_manifest (
  scope text NOT NULL,
  prefix text NOT NULL,
  path text NOT NULL,
  from_seq bigint NOT NULL,
  to_seq bigint,
  hash text NOT NULL,
  size bigint NOT NULL,
  PRIMARY KEY (scope, prefix, path, from_seq)
);
CREATE INDEX history_manifest_hash_idx ON scopefs.history_manifest (scope, hash, path);

CREATE TABLE scopefs.instance_cursors (
  app text NOT NULL,
  instance text NOT NULL,
  cursor bigint NOT NULL,
  seen_at bigint NOT NULL,
  PRIMARY KEY (app, instance)
);

CREATE TABLE scopefs.tombstone_horizons (
  app text PRIMARY KEY,
  horizon bigint NOT NULL
);

-- ------------------------------------------------------------ helpers

CREATE FUNCTION scopefs.history_version_json(v scopefs.history_versions) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object(
    'path', v.path, 'revision', v.revision, 'hash', v.hash, 'size', v.size, 'at', v.at,
    'origin', v.origin, 'actor', v.actor, 'instance', v.instance, 'deleted', v.deleted))
    || jsonb_build_object('hash', v.hash)
$$;

CREATE FUNCTION scopefs.history_checkpoint_json(c scopefs.history_checkpoints) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object(
    'name', c.name, 'message', c.message, 'prefix', c.prefix, 'at', c.at,
    'fileCount', c.file_count, 'bytes', c.bytes))
$$;

-- The scope's head row, locked: writers of one scope are serialised.
CREATE FUNCTION scopefs.history_lock_head(p_scope text) RETURNS scopefs.history_heads
LANGUAGE plpgsql VOLATILE SET search_path = '' AS $$
DECLARE
  v_head scopefs.history_heads;
BEGIN
  PERFORM scopefs.check_name('history scope', p_scope);
  INSERT INTO scopefs.history_heads (scope) VALUES (p_scope) ON CONFLICT (scope) DO NOTHING;
  SELECT * INTO v_head FROM scopefs.history_heads h WHERE h.scope = p_scope FOR UPDATE;
  RETURN v_head;
END
$$;

-- Stores a content once; returns the bytes it added (0 when already stored).
CREATE FUNCTION scopefs.history_store_content(p_scope text, p_hash text, p_content bytea) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = '' AS $$
BEGIN
  INSERT INTO scopefs.history_contents (scope, hash, size, content)
  VALUES (p_scope, p_hash, octet_length(p_content), p_content) ON CONFLICT (scope, hash) DO NOTHING;
  RETURN CASE WHEN FOUND THEN octet_length(p_content) ELSE 0 END;
END
$$;

-- Drops a content no version and no manifest entry names; returns the bytes freed.
CREATE FUNCTION scopefs.history_drop_content(p_scope text, p_hash text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = '' AS $$
DECLARE
  v_size bigint;
BEGIN
  IF p_hash IS NULL THEN RETURN 0; END IF;
  DELETE FROM scopefs.history_contents c WHERE c.scope = p_scope AND c.hash = p_hash
    AND NOT EXISTS (SELECT 1 FROM scopefs.history_versions v WHERE v.scope = c.scope AND v.hash = c.hash)
    AND NOT EXISTS (SELECT 1 FROM scopefs.history_manifest m WHERE m.scope = c.scope AND m.hash = c.hash)
  RETURNING c.size INTO v_size;
  RETURN coalesce(v_size, 0);
END
$$;

-- Not its path's latest version, and no manifest entry names its (path, hash).
CREATE FUNCTION scopefs.history_prunable(v scopefs.history_versions) RETURNS boolean
LANGUAGE sql STABLE SET search_path = '' AS $$
  SELECT NOT EXISTS (SELECT 1 FROM scopefs.history_paths p WHERE p.scope = v.scope AND p.path = v.path AND p.latest = v.revision)
     AND NOT EXISTS (SELECT 1 FROM scopefs.history_manifest m WHERE m.scope = v.scope AND m.hash = v.hash AND m.path = v.path)
$$;

-- Removes one version; returns the content bytes freed.
CREATE FUNCTION scopefs.history_remove_version(p_scope text, p_revision bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = '' AS $$
DECLARE
  v_version scopefs.history_versions;
BEGIN
  DELETE FROM scopefs.history_versions v WHERE v.scope = p_scope AND v.revision = p_revision RETURNING * INTO v_version;
  IF NOT FOUND THEN RETURN 0; END IF;
  UPDATE scopefs.history_paths p SET count = p.count - 1 WHERE p.scope = p_scope AND p.path = v_version.path;
  RETURN scopefs.history_drop_content(p_scope, v_version.hash);
END
$$;

-- ------------------------------------------------------------ versions

-- p_versions: [{path, content (base64) | null, hash, at, origin, actor?, instance?}], in order.
-- Returns the versions recorded; one equal to its path's latest is skipped.
CREATE FUNCTION public.scopefs_history_record(p_scope text, p_versions jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_head scopefs.history_heads := scopefs.history_lock_head(p_scope);
  v_item jsonb;
  v_path scopefs.history_paths;
  v_content bytea;
  v_version scopefs.history_versions;
  v_recorded jsonb := '[]';
BEGIN
  FOR v_item IN SELECT value FROM jsonb_array_elements(p_versions) LOOP
    PERFORM scopefs.check_name('history path', v_item ->> 'path');
    SELECT * INTO v_path FROM scopefs.history_paths p WHERE p.scope = p_scope AND p.path = v_item ->> 'path';
    v_content := decode(v_item ->> 'content', 'base64');
    IF v_content IS NULL AND (v_path.path IS NULL OR v_path.deleted) THEN CONTINUE; END IF;
    IF v_content IS NOT NULL AND v_path.path IS NOT NULL AND NOT v_path.deleted AND v_path.hash = v_item ->> 'hash' THEN CONTINUE; END IF;
    IF v_content IS NOT NULL THEN
      v_head.bytes := v_head.bytes + scopefs.history_store_content(p_scope, v_item ->> 'hash', v_content);
    END IF;
    v_head.revision := v_head.revision + 1;
    INSERT INTO scopefs.history_versions (scope, revision, path, hash, size, at, origin, actor, instance, deleted)
    VALUES (p_scope, v_head.revision, v_item ->> 'path', v_item ->> 'hash', coalesce(octet_length(v_content), 0),
            (v_item ->> 'at')::bigint, v_item ->> 'origin', v_item ->> 'actor', v_item ->> 'instance', v_content IS NULL)
    RETURNING * INTO v_version;
    INSERT INTO scopefs.history_paths (scope, path, latest, hash, deleted, count)
    VALUES (p_scope, v_version.path, v_version.revision, v_version.hash, v_version.deleted, 1)
    ON CONFLICT (scope, path) DO UPDATE SET latest = excluded.latest, hash = excluded.hash,
      deleted = excluded.deleted, count = scopefs.history_paths.count + 1;
    v_recorded := v_recorded || jsonb_build_array(scopefs.history_version_json(v_version));
  END LOOP;
  UPDATE scopefs.history_heads h SET revision = v_head.revision, bytes = v_head.bytes WHERE h.scope = p_scope;
  RETURN v_recorded;
END
$$;

CREATE FUNCTION public.scopefs_history_versions(p_scope text, p_path text, p_before bigint, p_limit integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce(jsonb_agg(scopefs.history_version_json(v) ORDER BY v.revision DESC), '[]')
  FROM (SELECT * FROM scopefs.history_versions v WHERE v.scope = p_scope AND v.path = p_path AND v.revision < p_before
        ORDER BY v.revision DESC LIMIT p_limit) v
$$;

CREATE FUNCTION public.scopefs_history_version(p_scope text, p_path text, p_revision bigint) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT scopefs.history_version_json(v) FROM scopefs.history_versions v
  WHERE v.scope = p_scope AND v.path = p_path AND v.revision = p_revision
$$;

-- The content as base64, or null.
CREATE FUNCTION public.scopefs_history_content(p_scope text, p_hash text) RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT translate(encode(c.content, 'base64'), E'\n', '') FROM scopefs.history_contents c
  WHERE c.scope = p_scope AND c.hash = p_hash
$$;

-- Paths under p_prefix ('/' or '/a/') whose latest version is a deletion, newest first.
CREATE FUNCTION public.scopefs_history_deleted(p_scope text, p_prefix text, p_limit integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce(jsonb_agg(d.version ORDER BY d.latest DESC), '[]') FROM (
    SELECT p.latest, scopefs.history_version_json(v) AS version
    FROM scopefs.history_paths p JOIN scopefs.history_versions v ON v.scope = p.scope AND v.revision = p.latest
    WHERE p.scope = p_scope AND p.deleted AND (p_prefix = '/' OR left(p.path, length(p_prefix)) = p_prefix)
    ORDER BY p.latest DESC LIMIT p_limit) d
$$;

CREATE FUNCTION public.scopefs_history_bytes(p_scope text) RETURNS bigint
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce((SELECT h.bytes FROM scopefs.history_heads h WHERE h.scope = p_scope), 0)
$$;

-- ------------------------------------------------------------ checkpoints

-- p_files: [{path, hash, size, content? (base64)}]. Raises unique_violation for a
-- taken name and invalid_parameter_value for a hash without content.
CREATE FUNCTION public.scopefs_history_save_checkpoint(
  p_scope text, p_name text, p_message text, p_prefix text, p_at bigint, p_files jsonb
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_head scopefs.history_heads := scopefs.history_lock_head(p_scope);
  v_seq bigint := v_head.checkpoint_seq + 1;
  v_missing text;
  v_checkpoint scopefs.history_checkpoints;
BEGIN
  IF EXISTS (SELECT 1 FROM scopefs.history_checkpoints c WHERE c.scope = p_scope AND c.name = p_name) THEN
    RAISE EXCEPTION 'scopefs: checkpoint "%" already exists; choose another name or delete it first', p_name
      USING ERRCODE = 'unique_violation';
  END IF;
  -- Set-based throughout (with indexed temp tables): a 10,000-file manifest is a few joins, not 10,000 lookups.
  CREATE TEMP TABLE scopefs_checkpoint_files ON COMMIT DROP AS
    SELECT f.path, f.hash, f.size, decode(f.content, 'base64') AS content
    FROM jsonb_to_recordset(p_files) AS f(path text, hash text, size bigint, content text);
  CREATE INDEX ON scopefs_checkpoint_files (path);
  ANALYZE scopefs_checkpoint_files;
  WITH added AS (
    INSERT INTO scopefs.history_contents (scope, hash, size, content)
    SELECT DISTINCT ON (f.hash) p_scope, f.hash, octet_length(f.content), f.content
    FROM scopefs_checkpoint_files f WHERE f.content IS NOT NULL
    ON CONFLICT (scope, hash) DO NOTHING
    RETURNING size)
  SELECT v_head.bytes + coalesce(sum(a.size), 0) INTO v_head.bytes FROM added a;
  -- Files that start an entry: new, or changed since the current entry.
  CREATE TEMP TABLE scopefs_checkpoint_opened ON COMMIT DROP AS
    SELECT f.path, f.hash, f.size FROM scopefs_checkpoint_files f
    LEFT JOIN scopefs.history_manifest m ON m.scope = p_scope AND m.prefix = p_prefix AND m.path = f.path AND m.to_seq IS NULL
    WHERE m.path IS NULL OR m.hash <> f.hash OR m.size <> f.size;
  CREATE INDEX ON scopefs_checkpoint_opened (path);
  ANALYZE scopefs_checkpoint_opened;
  SELECT o.path INTO v_missing FROM scopefs_checkpoint_opened o
  WHERE NOT EXISTS (SELECT 1 FROM scopefs.history_contents c WHERE c.scope = p_scope AND c.hash = o.hash) LIMIT 1;
  IF v_missing IS NOT NULL THEN
    RAISE EXCEPTION 'scopefs: checkpoint file "%": no content with its hash is recorded; record the version first or pass its content', v_missing
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- Close the current entries of changed files, then of files no longer listed.
  UPDATE scopefs.history_manifest m SET to_seq = v_seq FROM scopefs_checkpoint_opened o
  WHERE m.scope = p_scope AND m.prefix = p_prefix AND m.to_seq IS NULL AND m.path = o.path;
  UPDATE scopefs.history_manifest m SET to_seq = v_seq
  WHERE m.scope = p_scope AND m.prefix = p_prefix AND m.to_seq IS NULL
    AND NOT EXISTS (SELECT 1 FROM scopefs_checkpoint_files f WHERE f.path = m.path);
  INSERT INTO scopefs.history_manifest (scope, prefix, path, from_seq, to_seq, hash, size)
  SELECT p_scope, p_prefix, o.path, v_seq, NULL, o.hash, o.size FROM scopefs_checkpoint_opened o;
  INSERT INTO scopefs.history_checkpoints (scope, name, message, prefix, at, seq, file_count, bytes)
  SELECT p_scope, p_name, p_message, p_prefix, p_at, v_seq, count(*), coalesce(sum(f.size), 0) FROM scopefs_checkpoint_files f
  RETURNING * INTO v_checkpoint;
  UPDATE scopefs.history_heads h SET checkpoint_seq = v_seq, bytes = v_head.bytes WHERE h.scope = p_scope;
  DROP TABLE scopefs_checkpoint_files, scopefs_checkpoint_opened;
  RETURN scopefs.history_checkpoint_json(v_checkpoint);
END
$$;

-- The checkpoint with its manifest (files ascending by path), or null.
CREATE FUNCTION public.scopefs_history_checkpoint(p_scope text, p_name text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT scopefs.history_checkpoint_json(c) || jsonb_build_object('files', coalesce((
    SELECT jsonb_agg(jsonb_build_object('path', m.path, 'hash', m.hash, 'size', m.size) ORDER BY m.path COLLATE "C")
    FROM scopefs.history_manifest m
    WHERE m.scope = c.scope AND m.prefix = c.prefix AND m.from_seq <= c.seq AND (m.to_seq IS NULL OR m.to_seq > c.seq)), '[]'))
  FROM scopefs.history_checkpoints c WHERE c.scope = p_scope AND c.name = p_name
$$;

CREATE FUNCTION public.scopefs_history_checkpoints(p_scope text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce(jsonb_agg(scopefs.history_checkpoint_json(c) ORDER BY c.seq DESC), '[]')
  FROM scopefs.history_checkpoints c WHERE c.scope = p_scope
$$;

CREATE FUNCTION public.scopefs_history_delete_checkpoint(p_scope text, p_name text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_head scopefs.history_heads := scopefs.history_lock_head(p_scope);
  v_checkpoint scopefs.history_checkpoints;
  v_freed bigint;
BEGIN
  DELETE FROM scopefs.history_checkpoints c WHERE c.scope = p_scope AND c.name = p_name RETURNING * INTO v_checkpoint;
  IF NOT FOUND THEN RETURN false; END IF;
  WITH dropped AS (
    DELETE FROM scopefs.history_manifest e WHERE e.scope = p_scope AND e.prefix = v_checkpoint.prefix
      AND NOT EXISTS (SELECT 1 FROM scopefs.history_checkpoints c WHERE c.scope = e.scope AND c.prefix = e.prefix
                      AND c.seq >= e.from_seq AND (e.to_seq IS NULL OR c.seq < e.to_seq))
    RETURNING e.hash)
  SELECT coalesce(sum(scopefs.history_drop_content(p_scope, d.hash)), 0) INTO v_freed FROM (SELECT DISTINCT hash FROM dropped) d;
  UPDATE scopefs.history_heads h SET bytes = h.bytes - v_freed WHERE h.scope = p_scope;
  RETURN true;
END
$$;

-- ------------------------------------------------------------ retention

-- By age, then versions per path, then oldest first while over p_max_bytes;
-- at most p_max_rows removals. Null limits do not apply. Returns {removed, more}.
CREATE FUNCTION public.scopefs_history_prune(
  p_scope text, p_max_versions integer, p_max_age_ms bigint, p_max_bytes bigint, p_max_rows integer, p_now bigint
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_head scopefs.history_heads := scopefs.history_lock_head(p_scope);
  v_removed integer := 0;
  v_more boolean := false;
  v_revisions bigint[];
  v_revision bigint;
BEGIN
  IF p_max_age_ms IS NOT NULL THEN
    SELECT array_agg(r ORDER BY n) INTO v_revisions FROM (
      SELECT v.revision AS r, row_number() OVER (ORDER BY v.at, v.revision) AS n FROM scopefs.history_versions v
      WHERE v.scope = p_scope AND v.at < p_now - p_max_age_ms AND scopefs.history_prunable(v)
      ORDER BY v.at, v.revision LIMIT p_max_rows - v_removed + 1) c;
    v_more := v_more OR coalesce(cardinality(v_revisions), 0) > p_max_rows - v_removed;
    FOREACH v_revision IN ARRAY coalesce(v_revisions[1:p_max_rows - v_removed], '{}') LOOP
      v_head.bytes := v_head.bytes - scopefs.history_remove_version(p_scope, v_revision);
      v_removed := v_removed + 1;
    END LOOP;
  END IF;
  IF p_max_versions IS NOT NULL THEN
    SELECT array_agg(r ORDER BY r) INTO v_revisions FROM (
      SELECT v.revision AS r FROM (
        SELECT v.*, row_number() OVER (PARTITION BY v.path ORDER BY v.revision DESC) AS rank
        FROM scopefs.history_versions v JOIN scopefs.history_paths p ON p.scope = v.scope AND p.path = v.path
        WHERE v.scope = p_scope AND p.count > p_max_versions) v
      WHERE v.rank > p_max_versions
        AND scopefs.history_prunable(ROW(v.scope, v.revision, v.path, v.hash, v.size, v.at, v.origin, v.actor, v.instance, v.deleted)::scopefs.history_versions)
      ORDER BY v.revision LIMIT p_max_rows - v_removed + 1) c;
    v_more := v_more OR coalesce(cardinality(v_revisions), 0) > p_max_rows - v_removed;
    FOREACH v_revision IN ARRAY coalesce(v_revisions[1:p_max_rows - v_removed], '{}') LOOP
      v_head.bytes := v_head.bytes - scopefs.history_remove_version(p_scope, v_revision);
      v_removed := v_removed + 1;
    END LOOP;
  END IF;
  WHILE p_max_bytes IS NOT NULL AND v_head.bytes > p_max_bytes LOOP
    SELECT v.revision INTO v_revision FROM scopefs.history_versions v
    WHERE v.scope = p_scope AND scopefs.history_prunable(v) ORDER BY v.revision LIMIT 1;
    EXIT WHEN NOT FOUND;
    IF v_removed >= p_max_rows THEN
      v_more := true;
      EXIT;
    END IF;
    v_head.bytes := v_head.bytes - scopefs.history_remove_version(p_scope, v_revision);
    v_removed := v_removed + 1;
  END LOOP;
  UPDATE scopefs.history_heads h SET bytes = v_head.bytes WHERE h.scope = p_scope;
  RETURN jsonb_build_object('removed', v_removed, 'more', v_more);
END
$$;

-- ------------------------------------------------------------ tombstones

CREATE FUNCTION public.scopefs_note_cursor(p_app text, p_instance text, p_cursor bigint, p_now bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
BEGIN
  PERFORM scopefs.check_name('app', p_app);
  PERFORM scopefs.check_name('instance', p_instance);
  INSERT INTO scopefs.instance_cursors (app, instance, cursor, seen_at) VALUES (p_app, p_instance, p_cursor, p_now)
  ON CONFLICT (app, instance) DO UPDATE SET cursor = greatest(scopefs.instance_cursors.cursor, excluded.cursor), seen_at = excluded.seen_at;
END
$$;

-- Removes tombstones older than p_older_than_ms at or below the minimum cursor of
-- the instances seen within it. Returns {purged, horizon}.
CREATE FUNCTION public.scopefs_purge_tombstones(p_app text, p_older_than_ms bigint, p_now bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_bound bigint;
  v_purged bigint := 0;
  v_top bigint;
BEGIN
  SELECT min(c.cursor) INTO v_bound FROM scopefs.instance_cursors c WHERE c.app = p_app AND c.seen_at >= p_now - p_older_than_ms;
  IF v_bound IS NOT NULL THEN
    WITH purged AS (
      DELETE FROM scopefs.files f WHERE f.app = p_app AND f.deleted AND f.revision <= v_bound
        AND scopefs.epoch_ms(f.updated_at) < p_now - p_older_than_ms
      RETURNING f.revision)
    SELECT count(*), max(revision) INTO v_purged, v_top FROM purged;
    IF v_top IS NOT NULL THEN
      INSERT INTO scopefs.tombstone_horizons (app, horizon) VALUES (p_app, v_top)
      ON CONFLICT (app) DO UPDATE SET horizon = greatest(scopefs.tombstone_horizons.horizon, excluded.horizon);
    END IF;
  END IF;
  RETURN jsonb_build_object('purged', v_purged,
    'horizon', coalesce((SELECT t.horizon FROM scopefs.tombstone_horizons t WHERE t.app = p_app), 0));
END
$$;

CREATE FUNCTION public.scopefs_tombstone_horizon(p_app text) RETURNS bigint
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce((SELECT t.horizon FROM scopefs.tombstone_horizons t WHERE t.app = p_app), 0)
$$;

-- ------------------------------------------------------------ security
-- History belongs to the members of its scope (the app); cursors and
-- horizons may be reported and read by any member. Purging deletes from
-- scopefs.files, which only the service role (or the owner) may do.

ALTER TABLE scopefs.history_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE scopefs.history_contents ENABLE ROW LEVEL SECURITY;
ALTER TABLE scopefs.history_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE scopefs.history_paths ENABLE ROW LEVEL SECURITY;
ALTER TABLE scopefs.history_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE scopefs.history_manifest ENABLE ROW LEVEL SECURITY;
ALTER TABLE scopefs.instance_cursors ENABLE ROW LEVEL SECURITY;
ALTER TABLE scopefs.tombstone_horizons ENABLE ROW LEVEL SECURITY;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['history_heads', 'history_contents', 'history_versions', 'history_paths',
                           'history_checkpoints', 'history_manifest'] LOOP
    EXECUTE format('CREATE POLICY %I ON scopefs.%I FOR ALL TO authenticated USING (scopefs.is_member(scope)) WITH CHECK (scopefs.is_member(scope))',
                   t || '_members', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON scopefs.%I TO authenticated', t);
  END LOOP;
END
$$;
CREATE POLICY instance_cursors_members ON scopefs.instance_cursors FOR ALL TO authenticated
  USING (scopefs.is_member(app)) WITH CHECK (scopefs.is_member(app));
CREATE POLICY tombstone_horizons_members ON scopefs.tombstone_horizons FOR SELECT TO authenticated
  USING (scopefs.is_member(app));
GRANT SELECT, INSERT, UPDATE ON scopefs.instance_cursors TO authenticated;
GRANT SELECT ON scopefs.tombstone_horizons TO authenticated;

REVOKE ALL ON FUNCTION
  public.scopefs_history_record(text, jsonb), public.scopefs_history_versions(text, text, bigint, integer),
  public.scopefs_history_version(text, text, bigint), public.scopefs_history_content(text, text),
  public.scopefs_history_deleted(text, text, integer), public.scopefs_history_bytes(text),
  public.scopefs_history_save_checkpoint(text, text, text, text, bigint, jsonb), public.scopefs_history_checkpoint(text, text),
  public.scopefs_history_checkpoints(text), public.scopefs_history_delete_checkpoint(text, text),
  public.scopefs_history_prune(text, integer, bigint, bigint, integer, bigint),
  public.scopefs_note_cursor(text, text, bigint, bigint), public.scopefs_purge_tombstones(text, bigint, bigint),
  public.scopefs_tombstone_horizon(text)
FROM PUBLIC, anon;

GRANT EXECUTE ON FUNCTION
  public.scopefs_history_record(text, jsonb), public.scopefs_history_versions(text, text, bigint, integer),
  public.scopefs_history_version(text, text, bigint), public.scopefs_history_content(text, text),
  public.scopefs_history_deleted(text, text, integer), public.scopefs_history_bytes(text),
  public.scopefs_history_save_checkpoint(text, text, text, text, bigint, jsonb), public.scopefs_history_checkpoint(text, text),
  public.scopefs_history_checkpoints(text), public.scopefs_history_delete_checkpoint(text, text),
  public.scopefs_history_prune(text, integer, bigint, bigint, integer, bigint),
  public.scopefs_note_cursor(text, text, bigint, bigint), public.scopefs_tombstone_horizon(text)
TO authenticated;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    GRANT ALL ON ALL TABLES IN SCHEMA scopefs TO service_role;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA scopefs TO service_role;
    GRANT EXECUTE ON FUNCTION
      public.scopefs_history_record(text, jsonb), public.scopefs_history_versions(text, text, bigint, integer),
      public.scopefs_history_version(text, text, bigint), public.scopefs_history_content(text, text),
      public.scopefs_history_deleted(text, text, integer), public.scopefs_history_bytes(text),
      public.scopefs_history_save_checkpoint(text, text, text, text, bigint, jsonb), public.scopefs_history_checkpoint(text, text),
      public.scopefs_history_checkpoints(text), public.scopefs_history_delete_checkpoint(text, text),
      public.scopefs_history_prune(text, integer, bigint, bigint, integer, bigint),
      public.scopefs_note_cursor(text, text, bigint, bigint), public.scopefs_purge_tombstones(text, bigint, bigint),
      public.scopefs_tombstone_horizon(text)
    TO service_role;
  END IF;
END
$$;

INSERT INTO scopefs.schema_migrations (version, name) VALUES (5, 'history') ON CONFLICT (version) DO NOTHING;
