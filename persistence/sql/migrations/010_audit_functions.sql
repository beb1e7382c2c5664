-- scopefs sync store, migration 10: the audit log (migration 6's table) by
-- function call, so a store reached only by RPC (Supabase) ships and reads
-- it like PostgreSQL does (persistence/audit/sql-audit.ts); and hints for
-- lock changes, so lock mirrors hear another instance's lock at once.
--
-- Members of the app (Supabase's authenticated role) may add entries and
-- read their app's log, never change or delete one (no UPDATE/DELETE
-- policy: a member's prune removes nothing; the operator's service role
-- prunes).

-- Stores the entries (a JSON array, oldest first) in order; an id already
-- there is kept as it was. Returns how many were new.
CREATE FUNCTION public.scopefs_audit_append(p_scope text, p_entries jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_count integer;
BEGIN
  PERFORM scopefs.check_name('app', p_scope, 1000);
  IF jsonb_typeof(p_entries) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'audit entries must be a JSON array' USING ERRCODE = '22023';
  END IF;
  INSERT INTO scopefs.audit (scope, id, at, actor, operation, paths, revision, result, code, message, source, instance)
  SELECT p_scope, x.e ->> 'id', (x.e ->> 'at')::bigint, x.e ->> 'actor', x.e ->> 'operation',
    ARRAY(SELECT jsonb_array_elements_text(x.e -> 'paths')), (x.e ->> 'revision')::bigint, x.e ->> 'result',
    x.e ->> 'code', x.e ->> 'message', x.e ->> 'source', x.e ->> 'instance'
  FROM jsonb_array_elements(p_entries) WITH ORDINALITY AS x(e, n)
  ORDER BY x.n
  ON CONFLICT (scope, id) DO NOTHING;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END
$$;

-- The newest entries (append order) matching the filters, newest first.
-- p_under is the LIKE pattern of every path under p_path (made by the caller).
CREATE FUNCTION public.scopefs_audit_query(p_scope text, p_actor text, p_since bigint, p_path text, p_under text, p_limit integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce(jsonb_agg(to_jsonb(a) - 'scope' - 'seq' ORDER BY a.seq DESC), '[]'::jsonb)
  FROM (
    SELECT * FROM scopefs.audit x WHERE x.scope = p_scope
      AND (p_actor IS NULL OR x.actor = p_actor)
      AND (p_since IS NULL OR x.at >= p_since)
      AND (p_path IS NULL OR EXISTS (SELECT 1 FROM unnest(x.paths) AS p WHERE p = p_path OR p LIKE p_under))
    ORDER BY x.seq DESC LIMIT p_limit
  ) a
$$;

-- Removes all but the newest p_keep entries (when given) and those older than p_oldest (when given); returns how many.
CREATE FUNCTION public.scopefs_audit_prune(p_scope text, p_keep integer, p_oldest bigint) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_removed integer := 0;
  v_count integer;
BEGIN
  IF p_keep IS NOT NULL THEN
    DELETE FROM scopefs.audit x WHERE x.scope = p_scope
      AND x.seq <= (SELECT y.seq FROM scopefs.audit y WHERE y.scope = p_scope ORDER BY y.seq DESC OFFSET p_keep LIMIT 1);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    v_removed := v_removed + v_count;
  END IF;
  IF p_oldest IS NOT NULL THEN
    DELETE FROM scopefs.audit x WHERE x.scope = p_scope AND x.at < p_oldest;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    v_removed := v_removed + v_count;
  END IF;
  RETURN v_removed;
END
$$;

CREATE POLICY audit_members_read ON scopefs.audit FOR SELECT TO authenticated USING (scopefs.is_member(scope));
CREATE POLICY audit_members_add ON scopefs.audit FOR INSERT TO authenticated WITH CHECK (scopefs.is_member(scope));
GRANT SELECT, INSERT, DELETE ON scopefs.audit TO authenticated;

REVOKE ALL ON FUNCTION
  public.scopefs_audit_append(text, jsonb), public.scopefs_audit_query(text, text, bigint, text, text, integer),
  public.scopefs_audit_prune(text, integer, bigint)
FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION
  public.scopefs_audit_append(text, jsonb), public.scopefs_audit_query(text, text, bigint, text, text, integer),
  public.scopefs_audit_prune(text, integer, bigint)
TO authenticated;

-- Lock changes as hints on the store's channel: NOTIFY scopefs '{"app": ..., "locks": true}'
-- at commit, once per app per transaction (NOTIFY folds equal payloads). A renewal
-- (an UPDATE) changes no lock set and sends none.
CREATE FUNCTION scopefs.notify_lock_change() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = '' AS $$
BEGIN
  PERFORM pg_notify('scopefs', json_build_object('app', coalesce(NEW.app, OLD.app), 'locks', true)::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER locks_changed AFTER INSERT OR DELETE ON scopefs.locks
  FOR EACH ROW EXECUTE FUNCTION scopefs.notify_lock_change();

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    GRANT ALL ON scopefs.audit TO service_role;
    GRANT EXECUTE ON FUNCTION
      public.scopefs_audit_append(text, jsonb), public.scopefs_audit_query(text, text, bigint, text, text, integer),
      public.scopefs_audit_prune(text, integer, bigint)
    TO service_role;
  END IF;
END
$$;

INSERT INTO scopefs.schema_migrations (version, name) VALUES (10, 'audit_functions') ON CONFLICT (version) DO NOTHING;
