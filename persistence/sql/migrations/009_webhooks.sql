-- scopefs sync store, migration 9: webhook subscriptions (src/webhooks/), so
-- every instance of an app delivers to the same receivers. The same model as
-- SQLite schema 7; TypeScript side: persistence/webhooks/postgres-webhooks.ts.
-- A row holds its signing secret, so RLS is on with no policy: only the owner
-- role (and Supabase's service role) reads it; a Supabase scope keeps its
-- subscriptions local, as it keeps its audit log (migration 6).
-- The outbox is never here: it is each instance's, under its root.

CREATE TABLE scopefs.webhooks (
  app text NOT NULL,
  id text NOT NULL,
  url text NOT NULL,
  events text[] NOT NULL,
  path_glob text,
  secret text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (app, id)
);

ALTER TABLE scopefs.webhooks ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    GRANT ALL ON scopefs.webhooks TO service_role;
  END IF;
END
$$;

INSERT INTO scopefs.schema_migrations (version, name) VALUES (9, 'webhooks') ON CONFLICT (version) DO NOTHING;
