-- scopefs sync store, migration 6: the audit log (src/audit/types.ts), one row
-- per entry, idempotent by (scope, id), so an instance re-shipping its local
-- spool after a crash stores nothing twice. The same model as the SQLite
-- schema 4; TypeScript side: persistence/audit/postgres-audit.ts. RLS is on
-- with no policy: only the owner role (and Supabase's service role) reads it.

CREATE TABLE scopefs.audit (
  scope text NOT NULL,
  id text NOT NULL,
  at bigint NOT NULL,
  actor text NOT NULL,
  operation text NOT NULL,
  paths text[] NOT NULL,
  -- Append order (ties of `at` within an instance keep it).
  seq bigint GENERATED ALWAYS AS IDENTITY,
  revision bigint,
  result text NOT NULL CHECK (result IN ('ok', 'refused')),
  code text,
  message text,
  source text,
  instance text,
  PRIMARY KEY (scope, id)
);

CREATE INDEX audit_at ON scopefs.audit (scope, at);
CREATE INDEX audit_actor ON scopefs.audit (scope, actor, at);

ALTER TABLE scopefs.audit ENABLE ROW LEVEL SECURITY;
