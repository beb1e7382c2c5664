-- scopefs sync store, migration 11: batches. Changes pushed with one batch
-- id commit all or none (a transaction's commit, src/transactions/), and
-- their rows carry the id, so a reader applies them together and never
-- shows part of one.

ALTER TABLE scopefs.files ADD COLUMN batch text;

CREATE OR REPLACE FUNCTION scopefs.batch_json(p_batch text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_batch IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('batch', p_batch) END
$$;

CREATE OR REPLACE FUNCTION scopefs.file_json(f scopefs.files) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT scopefs.row_json(f.app, f.owner, f.path, f.revision, f.hash, f.size,
                          f.deleted, f.content, f.updated_at, f.updated_by) || scopefs.batch_json(f.batch)
$$;

-- apply_change as in migration 2, writing the row's batch (null for a change outside one).
DROP FUNCTION scopefs.apply_change(text, text, scopefs.files, boolean, text, text, bytea, text, bigint, integer);
CREATE FUNCTION scopefs.apply_change(
  p_app text, p_instance text, p_current scopefs.files, p_exists boolean,
  p_owner text, p_path text, p_content bytea, p_hash text, p_revision bigint, p_retention integer, p_batch text
) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_hash text := CASE WHEN p_content IS NULL THEN NULL
                      ELSE coalesce(p_hash, encode(sha256(p_content), 'hex')) END;
BEGIN
  IF NOT p_exists THEN
    INSERT INTO scopefs.files (app, owner, path, content, hash, size, revision, deleted, updated_at, updated_by, batch)
    VALUES (p_app, p_owner, p_path, p_content, v_hash, coalesce(octet_length(p_content), 0), p_revision,
            p_content IS NULL, now(), p_instance, p_batch);
    RETURN;
  END IF;
  PERFORM scopefs.keep_history(p_current, p_retention);
  UPDATE scopefs.files f
  SET content = p_content, hash = v_hash, size = coalesce(octet_length(p_content), 0), revision = p_revision,
      deleted = p_content IS NULL, updated_at = now(), updated_by = p_instance, batch = p_batch
  WHERE f.app = p_app AND f.owner = p_owner AND f.path = p_path;
END
$$;

-- Raises insufficient_privilege unless the caller may write files of the owner (RLS roles only).
CREATE FUNCTION scopefs.check_push_target(p_app text, p_owner text, p_path text, p_rls boolean) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM scopefs.check_name('owner', p_owner);
  PERFORM scopefs.check_name('path', p_path);
  -- Fail clearly instead of treating an invisible row as missing.
  IF p_rls AND NOT scopefs.can_access(p_app, p_owner) THEN
    RAISE EXCEPTION 'scopefs: no access to files of owner % in app %', p_owner, p_app
      USING ERRCODE = 'insufficient_privilege';
  END IF;
END
$$;

-- Compare-and-swap push of many changes in one transaction, as in migration 2,
-- plus batches: p_changes elements may carry "batch"; a batch one of whose
-- changes has a stale base commits none of them (each gets a conflict outcome
-- with its current row).
CREATE OR REPLACE FUNCTION public.scopefs_push(p_app text, p_instance text, p_changes jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_start bigint;
  v_head bigint;
  v_retention integer := scopefs.history_retention();
  v_change jsonb;
  v_owner text;
  v_path text;
  v_batch text;
  v_current scopefs.files;
  v_exists boolean;
  v_refused text[] := '{}';
  v_outcomes jsonb[] := '{}';
  -- True for the Supabase roles (RLS applies), false for the table owner.
  v_rls boolean := row_security_active('scopefs.files');
BEGIN
  PERFORM scopefs.check_name('app', p_app, 1000);
  PERFORM scopefs.check_name('instance id', p_instance);
  IF jsonb_typeof(p_changes) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'scopefs: changes must be a JSON array' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF jsonb_array_length(p_changes) = 0 THEN
    RETURN '[]'::jsonb;
  END IF;
  -- Take the app's head lock before reading any row: from here on no other
  -- push of this app can commit until this one does.
  INSERT INTO scopefs.heads (app) VALUES (p_app) ON CONFLICT (app) DO NOTHING;
  SELECT h.revision INTO v_start FROM scopefs.heads h WHERE h.app = p_app FOR UPDATE;
  v_head := v_start;
  -- Batches first: one stale base refuses its whole batch.
  FOR v_change IN SELECT value FROM jsonb_array_elements(p_changes) WHERE value ? 'batch' LOOP
    v_owner := v_change ->> 'owner';
    v_path := v_change ->> 'path';
    v_batch := v_change ->> 'batch';
    PERFORM scopefs.check_push_target(p_app, v_owner, v_path, v_rls);
    PERFORM scopefs.check_name('batch', v_batch, 200);
    IF coalesce((SELECT f.revision FROM scopefs.files f WHERE f.app = p_app AND f.owner = v_owner AND f.path = v_path), 0)
       IS DISTINCT FROM coalesce((v_change ->> 'base_revision')::bigint, 0) THEN
      v_refused := v_refused || v_batch;
    END IF;
  END LOOP;
  FOR v_change IN SELECT value FROM jsonb_array_elements(p_changes) LOOP
    v_owner := v_change ->> 'owner';
    v_path := v_change ->> 'path';
    v_batch := v_change ->> 'batch';
    PERFORM scopefs.check_push_target(p_app, v_owner, v_path, v_rls);
    SELECT * INTO v_current FROM scopefs.files f WHERE f.app = p_app AND f.owner = v_owner AND f.path = v_path;
    v_exists := FOUND;
    IF (CASE WHEN v_exists THEN v_current.revision ELSE 0 END)
         IS DISTINCT FROM coalesce((v_change ->> 'base_revision')::bigint, 0)
       OR v_batch = ANY (v_refused) THEN
      v_outcomes := v_outcomes || jsonb_build_object('owner', v_owner, 'path', v_path, 'status', 'conflict',
        'current', CASE WHEN v_exists THEN scopefs.file_json(v_current) END);
      CONTINUE;
    END IF;
    v_head := v_head + 1;
    PERFORM scopefs.apply_change(p_app, p_instance, v_current, v_exists, v_owner, v_path,
      decode(v_change ->> 'content', 'base64'), v_change ->> 'hash', v_head, v_retention, v_batch);
    v_outcomes := v_outcomes || jsonb_build_object('owner', v_owner, 'path', v_path, 'status', 'ok', 'revision', v_head);
  END LOOP;
  IF v_head > v_start THEN
    UPDATE scopefs.heads h SET revision = v_head WHERE h.app = p_app;
    PERFORM pg_notify('scopefs', json_build_object('app', p_app, 'head', v_head)::text);
  END IF;
  RETURN to_jsonb(v_outcomes);
END
$$;

-- One page of the change feed, as in migration 2, its rows with their batch.
CREATE OR REPLACE FUNCTION public.scopefs_since(
  p_app text, p_owners text[], p_cursor bigint, p_limit integer DEFAULT 500, p_max_bytes bigint DEFAULT 8388608
) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_head bigint;
  v_rows jsonb;
  v_taken integer;
  v_fetched integer;
  v_last bigint;
  v_limit integer := least(p_limit, 10000);
BEGIN
  PERFORM scopefs.check_name('app', p_app, 1000);
  IF p_limit IS NULL OR p_limit < 1 OR p_cursor IS NULL OR p_cursor < 0 OR p_owners IS NULL THEN
    RAISE EXCEPTION 'scopefs: since needs owners, a cursor >= 0 and a limit >= 1'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT coalesce((SELECT h.revision FROM scopefs.heads h WHERE h.app = p_app), 0) INTO v_head;
  WITH candidates AS (
    SELECT c.*,
           row_number() OVER w AS n,
           sum(c.size) OVER w - c.size AS bytes_before
    FROM (SELECT * FROM scopefs.files f
          WHERE f.app = p_app AND f.revision > p_cursor AND f.owner = ANY (p_owners)
          ORDER BY f.revision
          LIMIT v_limit + 1) c
    WINDOW w AS (ORDER BY c.revision ROWS UNBOUNDED PRECEDING)
  ),
  page AS (
    SELECT * FROM candidates c WHERE c.n <= v_limit AND (c.n = 1 OR c.bytes_before < p_max_bytes)
  )
  SELECT coalesce(jsonb_agg(scopefs.row_json(p.app, p.owner, p.path, p.revision, p.hash, p.size, p.deleted,
                                             p.content, p.updated_at, p.updated_by) || scopefs.batch_json(p.batch)
                            ORDER BY p.revision), '[]'),
         count(*), max(p.revision), (SELECT count(*) FROM candidates)
  INTO v_rows, v_taken, v_last, v_fetched
  FROM page p;
  RETURN jsonb_build_object('rows', v_rows,
                            'cursor', CASE WHEN v_fetched > v_taken THEN v_last ELSE v_head END,
                            'more', v_fetched > v_taken);
END
$$;

INSERT INTO scopefs.schema_migrations (version, name) VALUES (11, 'batches') ON CONFLICT (version) DO NOTHING;
