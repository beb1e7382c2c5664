-- scopefs sync store, migration 2: the change feed's functions.
--
-- The API functions live in `public` with a `scopefs_` prefix so that
-- PostgREST (Supabase RPC) exposes them without extra configuration; their
-- helpers live in `scopefs`.
--
-- Wire format: every function takes and returns jsonb (or a scalar). File
-- content travels as standard base64 (no line breaks) in a JSON string, which
-- works the same through node-postgres and through PostgREST's JSON API.
--
-- Functions are SECURITY INVOKER: called by the Supabase roles `anon` /
-- `authenticated` they see and change only what the RLS policies allow;
-- called by the table owner (the postgres store) they see everything.

CREATE FUNCTION scopefs.jwt_claims() RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb
$$;

-- The caller's user id: what auth.uid() returns on Supabase (the `sub` claim).
CREATE FUNCTION scopefs.jwt_sub() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT scopefs.jwt_claims() ->> 'sub'
$$;

-- Membership: the app is listed in the JWT claim app_metadata.apps (which
-- only the service role can set on Supabase), or a scopefs.members row.
CREATE FUNCTION scopefs.is_member(p_app text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(scopefs.jwt_claims() -> 'app_metadata' -> 'apps' ? p_app, false)
      OR EXISTS (SELECT 1 FROM scopefs.members m WHERE m.app = p_app AND m.user_id = scopefs.jwt_sub())
$$;

-- Private files (owner = the user's id) belong to their owner only; shared
-- files to the members of the app.
CREATE FUNCTION scopefs.can_access(p_app text, p_owner text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT p_owner = scopefs.jwt_sub() OR (p_owner = '_shared' AND scopefs.is_member(p_app))
$$;

CREATE FUNCTION scopefs.epoch_ms(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT floor(extract(epoch FROM t) * 1000)::bigint
$$;

CREATE FUNCTION scopefs.row_json(
  p_app text, p_owner text, p_path text, p_revision bigint, p_hash text, p_size bigint,
  p_deleted boolean, p_content bytea, p_updated_at timestamptz, p_updated_by text
) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'app', p_app, 'owner', p_owner, 'path', p_path, 'revision', p_revision,
    'hash', p_hash, 'size', p_size, 'deleted', p_deleted,
    'content', translate(encode(p_content, 'base64'), E'\n', ''),
    'updated_at', scopefs.epoch_ms(p_updated_at), 'updated_by', p_updated_by)
$$;

CREATE FUNCTION scopefs.file_json(f scopefs.files) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT scopefs.row_json(f.app, f.owner, f.path, f.revision, f.hash, f.size,
                          f.deleted, f.content, f.updated_at, f.updated_by)
$$;

-- Raises invalid_parameter_value (22023), which the stores report as EINVAL.
CREATE FUNCTION scopefs.check_name(p_kind text, p_value text, p_max_bytes integer DEFAULT 4096) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_value IS NULL OR p_value = '' OR octet_length(p_value) > p_max_bytes THEN
    RAISE EXCEPTION 'scopefs: % must be a non-empty string of at most % bytes', p_kind, p_max_bytes
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
END
$$;

CREATE FUNCTION scopefs.history_retention() RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT (s.value #>> '{}')::integer FROM scopefs.settings s WHERE s.name = 'history_retention'), 20)
$$;

-- Moves the current version of a path into file_history and prunes what is
-- beyond the retention.
CREATE FUNCTION scopefs.keep_history(f scopefs.files, p_retention integer) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF p_retention <= 0 THEN
    RETURN;
  END IF;
  INSERT INTO scopefs.file_history (app, owner, path, content, hash, size, revision, deleted, updated_at, updated_by)
  VALUES (f.app, f.owner, f.path, f.content, f.hash, f.size, f.revision, f.deleted, f.updated_at, f.updated_by);
  DELETE FROM scopefs.file_history h
  WHERE h.app = f.app AND h.owner = f.owner AND h.path = f.path
    AND h.revision <= (SELECT o.revision FROM scopefs.file_history o
                       WHERE o.app = f.app AND o.owner = f.owner AND o.path = f.path
                       ORDER BY o.revision DESC OFFSET p_retention LIMIT 1);
END
$$;

-- Applies one change whose base revision matched; returns nothing.
CREATE FUNCTION scopefs.apply_change(
  p_app text, p_instance text, p_current scopefs.files, p_exists boolean,
  p_owner text, p_path text, p_content bytea, p_hash text, p_revision bigint, p_retention integer
) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_hash text := CASE WHEN p_content IS NULL THEN NULL
                      ELSE coalesce(p_hash, encode(sha256(p_content), 'hex')) END;
BEGIN
  IF NOT p_exists THEN
    INSERT INTO scopefs.files (app, owner, path, content, hash, size, revision, deleted, updated_at, updated_by)
    VALUES (p_app, p_owner, p_path, p_content, v_hash, coalesce(octet_length(p_content), 0), p_revision,
            p_content IS NULL, now(), p_instance);
    RETURN;
  END IF;
  PERFORM scopefs.keep_history(p_current, p_retention);
  UPDATE scopefs.files f
  SET content = p_content, hash = v_hash, size = coalesce(octet_length(p_content), 0), revision = p_revision,
      deleted = p_content IS NULL, updated_at = now(), updated_by = p_instance
  WHERE f.app = p_app AND f.owner = p_owner AND f.path = p_path;
END
$$;

-- ---------------------------------------------------------- API functions

CREATE FUNCTION public.scopefs_schema_version() RETURNS integer
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce(max(version), 0) FROM scopefs.schema_migrations
$$;

CREATE FUNCTION public.scopefs_head(p_app text) RETURNS bigint
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce((SELECT h.revision FROM scopefs.heads h WHERE h.app = p_app), 0)
$$;

CREATE FUNCTION public.scopefs_get(p_app text, p_owner text, p_path text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT scopefs.file_json(f) FROM scopefs.files f
  WHERE f.app = p_app AND f.owner = p_owner AND f.path = p_path
$$;

-- Compare-and-swap push of many changes in one transaction.
-- p_changes: [{owner, path, base_revision, content: base64 | null, hash}]
-- returns:   [{owner, path, status: 'ok', revision} | {owner, path, status: 'conflict', current: row | null}]
-- Sends NOTIFY scopefs '{"app": ..., "head": ...}' (delivered at commit) when anything changed.
CREATE FUNCTION public.scopefs_push(p_app text, p_instance text, p_changes jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_start bigint;
  v_head bigint;
  v_retention integer := scopefs.history_retention();
  v_change jsonb;
  v_owner text;
  v_path text;
  v_current scopefs.files;
  v_exists boolean;
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
  FOR v_change IN SELECT value FROM jsonb_array_elements(p_changes) LOOP
    v_owner := v_change ->> 'owner';
    v_path := v_change ->> 'path';
    PERFORM scopefs.check_name('owner', v_owner);
    PERFORM scopefs.check_name('path', v_path);
    -- Fail clearly instead of treating an invisible row as missing.
    IF v_rls AND NOT scopefs.can_access(p_app, v_owner) THEN
      RAISE EXCEPTION 'scopefs: no access to files of owner % in app %', v_owner, p_app
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO v_current FROM scopefs.files f WHERE f.app = p_app AND f.owner = v_owner AND f.path = v_path;
    v_exists := FOUND;
    IF (CASE WHEN v_exists THEN v_current.revision ELSE 0 END)
       IS DISTINCT FROM coalesce((v_change ->> 'base_revision')::bigint, 0) THEN
      v_outcomes := v_outcomes || jsonb_build_object('owner', v_owner, 'path', v_path, 'status', 'conflict',
        'current', CASE WHEN v_exists THEN scopefs.file_json(v_current) END);
      CONTINUE;
    END IF;
    v_head := v_head + 1;
    PERFORM scopefs.apply_change(p_app, p_instance, v_current, v_exists, v_owner, v_path,
      decode(v_change ->> 'content', 'base64'), v_change ->> 'hash', v_head, v_retention);
    v_outcomes := v_outcomes || jsonb_build_object('owner', v_owner, 'path', v_path, 'status', 'ok', 'revision', v_head);
  END LOOP;
  IF v_head > v_start THEN
    UPDATE scopefs.heads h SET revision = v_head WHERE h.app = p_app;
    PERFORM pg_notify('scopefs', json_build_object('app', p_app, 'head', v_head)::text);
  END IF;
  RETURN to_jsonb(v_outcomes);
END
$$;

-- One page of the change feed: rows of the given owners with revision >
-- p_cursor, ascending, at most p_limit rows and about p_max_bytes of content
-- (always at least one row; at most 10,000 rows). STABLE, so every statement in it reads the same
-- snapshot: the head returned as `cursor` matches the rows returned.
-- returns {rows: [row...], cursor, more}
CREATE FUNCTION public.scopefs_since(
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
                                             p.content, p.updated_at, p.updated_by) ORDER BY p.revision), '[]'),
         count(*), max(p.revision), (SELECT count(*) FROM candidates)
  INTO v_rows, v_taken, v_last, v_fetched
  FROM page p;
  RETURN jsonb_build_object('rows', v_rows,
                            'cursor', CASE WHEN v_fetched > v_taken THEN v_last ELSE v_head END,
                            'more', v_fetched > v_taken);
END
$$;

-- The current row and earlier versions of a path, newest first.
CREATE FUNCTION public.scopefs_history(p_app text, p_owner text, p_path text, p_limit integer DEFAULT 20)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce(jsonb_agg(v.row ORDER BY v.revision DESC), '[]')
  FROM (
    SELECT u.revision, u.row FROM (
      SELECT f.revision, scopefs.file_json(f) AS row FROM scopefs.files f
      WHERE f.app = p_app AND f.owner = p_owner AND f.path = p_path
      UNION ALL
      SELECT h.revision, scopefs.row_json(h.app, h.owner, h.path, h.revision, h.hash, h.size, h.deleted,
                                          h.content, h.updated_at, h.updated_by)
      FROM scopefs.file_history h
      WHERE h.app = p_app AND h.owner = p_owner AND h.path = p_path
    ) u
    ORDER BY u.revision DESC
    LIMIT greatest(p_limit, 0)
  ) v
$$;

INSERT INTO scopefs.schema_migrations (version, name) VALUES (2, 'feed_functions') ON CONFLICT (version) DO NOTHING;
