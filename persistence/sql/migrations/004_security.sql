-- scopefs sync store, migration 4: row-level security and grants for the
-- Supabase roles (anon, authenticated, service_role), and Realtime.

ALTER TABLE scopefs.files ENABLE ROW LEVEL SECURITY;
ALTER TABLE scopefs.file_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE scopefs.heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE scopefs.leases ENABLE ROW LEVEL SECURITY;
ALTER TABLE scopefs.members ENABLE ROW LEVEL SECURITY;

CREATE POLICY files_owner_or_member ON scopefs.files FOR ALL TO authenticated
  USING (scopefs.can_access(app, owner)) WITH CHECK (scopefs.can_access(app, owner));
CREATE POLICY file_history_owner_or_member ON scopefs.file_history FOR ALL TO authenticated
  USING (scopefs.can_access(app, owner)) WITH CHECK (scopefs.can_access(app, owner));
-- A head is a bare counter (no content): any signed-in user pushing to an app
-- (a private file needs no membership) must be able to advance it.
CREATE POLICY heads_signed_in ON scopefs.heads FOR ALL TO authenticated USING (true) WITH CHECK (true);
CREATE POLICY leases_signed_in ON scopefs.leases FOR ALL TO authenticated USING (true) WITH CHECK (true);
CREATE POLICY members_own_rows ON scopefs.members FOR SELECT TO authenticated
  USING (user_id = scopefs.jwt_sub());

-- ------------------------------------------------------------- grants
-- anon gets nothing but the schema version; authenticated works through RLS;
-- service_role (Supabase's secret key) bypasses RLS.

REVOKE ALL ON FUNCTION
  public.scopefs_head(text), public.scopefs_get(text, text, text), public.scopefs_push(text, text, jsonb),
  public.scopefs_since(text, text[], bigint, integer, bigint), public.scopefs_history(text, text, text, integer),
  public.scopefs_acquire_lease(text, text, bigint), public.scopefs_renew_lease(text, text, bigint, bigint),
  public.scopefs_release_lease(text, text, bigint)
FROM PUBLIC, anon;

GRANT USAGE ON SCHEMA scopefs TO anon, authenticated;
GRANT SELECT ON scopefs.schema_migrations TO anon, authenticated;
GRANT SELECT, INSERT, UPDATE ON scopefs.files, scopefs.heads, scopefs.leases TO authenticated;
GRANT SELECT, INSERT, DELETE ON scopefs.file_history TO authenticated;
GRANT SELECT ON scopefs.settings, scopefs.members TO authenticated;
GRANT EXECUTE ON FUNCTION
  public.scopefs_head(text), public.scopefs_get(text, text, text), public.scopefs_push(text, text, jsonb),
  public.scopefs_since(text, text[], bigint, integer, bigint), public.scopefs_history(text, text, text, integer),
  public.scopefs_acquire_lease(text, text, bigint), public.scopefs_renew_lease(text, text, bigint, bigint),
  public.scopefs_release_lease(text, text, bigint)
TO authenticated;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    GRANT USAGE ON SCHEMA scopefs TO service_role;
    GRANT ALL ON ALL TABLES IN SCHEMA scopefs TO service_role;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA scopefs TO service_role;
    GRANT EXECUTE ON FUNCTION
      public.scopefs_head(text), public.scopefs_get(text, text, text), public.scopefs_push(text, text, jsonb),
      public.scopefs_since(text, text[], bigint, integer, bigint), public.scopefs_history(text, text, text, integer),
      public.scopefs_acquire_lease(text, text, bigint), public.scopefs_renew_lease(text, text, bigint, bigint),
      public.scopefs_release_lease(text, text, bigint)
    TO service_role;
  END IF;
  -- Supabase Realtime: head changes (tiny rows, never content) as hints.
  IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
    ALTER PUBLICATION supabase_realtime ADD TABLE scopefs.heads;
  END IF;
END
$$;

INSERT INTO scopefs.schema_migrations (version, name) VALUES (4, 'security') ON CONFLICT (version) DO NOTHING;
