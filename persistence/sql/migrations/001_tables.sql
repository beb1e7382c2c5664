-- scopefs sync store, migration 1: schema, roles and tables.
--
-- Tables live in schema `scopefs`. Keep it OUT of Supabase's exposed API
-- schemas: clients reach the data only through the functions in `public`
-- (migrations 2 and 3), under the policies of migration 4.
--
-- Each migration is safe to apply by hand, in order (e.g. in Supabase's SQL
-- editor): it records its own version in scopefs.schema_migrations.

CREATE SCHEMA IF NOT EXISTS scopefs;

CREATE TABLE IF NOT EXISTS scopefs.schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- Supabase's API roles. They exist on Supabase; on plain PostgreSQL we create
-- them so that the same grants and policies apply (and can be tested). Roles
-- are cluster-wide, so a concurrent migration of another database may create
-- them first: that is not an error.
DO $$
DECLARE
  role_name text;
BEGIN
  FOREACH role_name IN ARRAY ARRAY['anon', 'authenticated'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', role_name);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END;
    END IF;
  END LOOP;
  -- service_role bypasses RLS (as on Supabase); only a superuser can create that.
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role')
     AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    BEGIN
      CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
  END IF;
END
$$;

-- ---------------------------------------------------------------- tables

-- The newest revision of each app. Pushes lock this row, so writers of one
-- app are serialised and commit in revision order: that makes the feed
-- gap-free (a sequence would not: its values commit out of order).
CREATE TABLE scopefs.heads (
  app text PRIMARY KEY,
  revision bigint NOT NULL DEFAULT 0 CHECK (revision >= 0)
);

CREATE TABLE scopefs.files (
  app text NOT NULL,
  owner text NOT NULL,
  path text NOT NULL,
  content bytea,
  hash text,
  size bigint NOT NULL DEFAULT 0,
  revision bigint NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL,
  PRIMARY KEY (app, owner, path),
  CONSTRAINT files_tombstone_has_no_content CHECK (deleted = (content IS NULL))
);
-- The change feed: since(cursor) walks this index, so its cost follows the
-- number of changes, not the number of files.
CREATE UNIQUE INDEX files_app_revision_idx ON scopefs.files (app, revision);

-- Earlier versions of a path, newest kept up to the history_retention setting.
CREATE TABLE scopefs.file_history (
  app text NOT NULL,
  owner text NOT NULL,
  path text NOT NULL,
  content bytea,
  hash text,
  size bigint NOT NULL DEFAULT 0,
  revision bigint NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL,
  updated_by text NOT NULL,
  PRIMARY KEY (app, owner, path, revision)
);

-- Leases with fencing tokens: the token increases every time the lease
-- changes hands and never goes back, even after a release.
CREATE TABLE scopefs.leases (
  name text PRIMARY KEY,
  holder text,
  token bigint NOT NULL DEFAULT 0,
  expires_at timestamptz NOT NULL DEFAULT '-infinity'
);

CREATE TABLE scopefs.settings (
  name text PRIMARY KEY,
  value jsonb NOT NULL
);
-- How many earlier revisions of each path file_history keeps (0 = none).
INSERT INTO scopefs.settings (name, value) VALUES ('history_retention', '20');

-- App membership for RLS on shared files (the other way is the JWT claim
-- app_metadata.apps; see scopefs.is_member).
CREATE TABLE scopefs.members (
  app text NOT NULL,
  user_id text NOT NULL,
  PRIMARY KEY (app, user_id)
);

INSERT INTO scopefs.schema_migrations (version, name) VALUES (1, 'tables') ON CONFLICT (version) DO NOTHING;
