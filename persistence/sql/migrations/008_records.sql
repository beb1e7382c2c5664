-- scopefs sync store, migration 8: records tailed from JSONL files (src/tail/,
-- persistence/records/). One row per complete line, exactly once per app by
-- its key; seq is the app's record cursor (assigned under the app's head row
-- lock, so seq order is commit order and a reader never skips a record).
-- The same model as SQLite schema 6; TypeScript side: persistence/records/sql-records.ts.

CREATE TABLE scopefs.records (
  app text NOT NULL,
  key text NOT NULL,
  seq bigint NOT NULL,
  source text NOT NULL,
  file text NOT NULL,
  byte_offset bigint NOT NULL,
  line_no bigint NOT NULL,
  value jsonb,
  raw text,
  error_code text,
  error_message text,
  ts bigint,
  at bigint NOT NULL,
  PRIMARY KEY (app, key)
);

CREATE UNIQUE INDEX records_seq ON scopefs.records (app, seq);
CREATE INDEX records_file ON scopefs.records (app, source, file, seq);

CREATE TABLE scopefs.record_heads (
  app text PRIMARY KEY,
  head bigint NOT NULL DEFAULT 0
);

CREATE FUNCTION scopefs.record_json(r scopefs.records) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  -- 'value' is left out when the line did not parse, so a line that is JSON null stays null.
  SELECT jsonb_build_object('key', r.key, 'seq', r.seq, 'source', r.source, 'file', r.file,
    'byte_offset', r.byte_offset, 'line_no', r.line_no, 'raw', r.raw,
    'error_code', r.error_code, 'error_message', r.error_message, 'ts', r.ts, 'at', r.at)
    || CASE WHEN r.value IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('value', r.value) END
$$;

-- Inserts the records whose key the app does not hold yet, in array order;
-- a key seen twice in one call keeps its first. A record without 'value'
-- did not parse (SQL NULL); JSON null is a line that was `null`. Returns {inserted, head}.
CREATE FUNCTION public.scopefs_records_upsert(p_app text, p_records jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_head bigint;
  v_inserted bigint;
  v_max bigint;
BEGIN
  PERFORM scopefs.check_name('app', p_app, 1000);
  IF jsonb_typeof(p_records) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'scopefs: records must be a JSON array' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO scopefs.record_heads (app) VALUES (p_app) ON CONFLICT (app) DO NOTHING;
  SELECT h.head INTO v_head FROM scopefs.record_heads h WHERE h.app = p_app FOR UPDATE;
  WITH input AS (
    SELECT e.rec, e.n FROM jsonb_array_elements(p_records) WITH ORDINALITY AS e(rec, n)
  ), firsts AS (
    SELECT DISTINCT ON (i.rec->>'key') i.rec, i.n FROM input i
    WHERE NOT EXISTS (SELECT 1 FROM scopefs.records x WHERE x.app = p_app AND x.key = i.rec->>'key')
    ORDER BY i.rec->>'key', i.n
  ), numbered AS (
    SELECT f.rec, row_number() OVER (ORDER BY f.n) AS k FROM firsts f
  ), ins AS (
    INSERT INTO scopefs.records (app, key, seq, source, file, byte_offset, line_no, value, raw, error_code, error_message, ts, at)
    SELECT p_app, u.rec->>'key', v_head + u.k, u.rec->>'source', u.rec->>'file', (u.rec->>'byte_offset')::bigint,
      (u.rec->>'line_no')::bigint, u.rec->'value', u.rec->>'raw', u.rec->>'error_code', u.rec->>'error_message',
      (u.rec->>'ts')::bigint, (u.rec->>'at')::bigint
    FROM numbered u
    ON CONFLICT (app, key) DO NOTHING
    RETURNING seq
  )
  SELECT count(*), max(seq) INTO v_inserted, v_max FROM ins;
  IF v_max IS NOT NULL THEN
    UPDATE scopefs.record_heads h SET head = v_max WHERE h.app = p_app;
    v_head := v_max;
  END IF;
  RETURN jsonb_build_object('inserted', v_inserted, 'head', v_head);
END
$$;

-- The app's records after the cursor (seq), ascending, optionally of one source and/or file.
CREATE FUNCTION public.scopefs_records_since(p_app text, p_cursor bigint, p_source text, p_file text, p_limit integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce(jsonb_agg(scopefs.record_json(r) ORDER BY r.seq), '[]'::jsonb) FROM (
    SELECT * FROM scopefs.records x
    WHERE x.app = p_app AND x.seq > p_cursor
      AND (p_source IS NULL OR x.source = p_source) AND (p_file IS NULL OR x.file = p_file)
    ORDER BY x.seq LIMIT p_limit
  ) r
$$;

-- Records whose line contains the text (case-insensitive), newest first.
CREATE FUNCTION public.scopefs_records_search(p_app text, p_text text, p_source text, p_limit integer) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce(jsonb_agg(scopefs.record_json(r) ORDER BY r.seq DESC), '[]'::jsonb) FROM (
    SELECT * FROM scopefs.records x
    WHERE x.app = p_app AND (p_source IS NULL OR x.source = p_source)
      AND strpos(lower(coalesce(x.value::text, x.raw, '')), lower(p_text)) > 0
    ORDER BY x.seq DESC LIMIT p_limit
  ) r
$$;

-- The app's record head (0 when it has none).
CREATE FUNCTION public.scopefs_records_head(p_app text) RETURNS bigint
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce((SELECT h.head FROM scopefs.record_heads h WHERE h.app = p_app), 0)
$$;

-- Security: members of the app (Supabase's authenticated role) may read and add its records.
ALTER TABLE scopefs.records ENABLE ROW LEVEL SECURITY;
ALTER TABLE scopefs.record_heads ENABLE ROW LEVEL SECURITY;
CREATE POLICY records_members ON scopefs.records FOR ALL TO authenticated
  USING (scopefs.is_member(app)) WITH CHECK (scopefs.is_member(app));
CREATE POLICY record_heads_members ON scopefs.record_heads FOR ALL TO authenticated
  USING (scopefs.is_member(app)) WITH CHECK (scopefs.is_member(app));
GRANT SELECT, INSERT ON scopefs.records TO authenticated;
GRANT SELECT, INSERT, UPDATE ON scopefs.record_heads TO authenticated;

REVOKE ALL ON FUNCTION
  public.scopefs_records_upsert(text, jsonb), public.scopefs_records_since(text, bigint, text, text, integer),
  public.scopefs_records_search(text, text, text, integer), public.scopefs_records_head(text)
FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION
  public.scopefs_records_upsert(text, jsonb), public.scopefs_records_since(text, bigint, text, text, integer),
  public.scopefs_records_search(text, text, text, integer), public.scopefs_records_head(text)
TO authenticated;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    GRANT ALL ON scopefs.records, scopefs.record_heads TO service_role;
    GRANT EXECUTE ON FUNCTION
      public.scopefs_records_upsert(text, jsonb), public.scopefs_records_since(text, bigint, text, text, integer),
      public.scopefs_records_search(text, text, text, integer), public.scopefs_records_head(text)
    TO service_role;
  END IF;
END
$$;

INSERT INTO scopefs.schema_migrations (version, name) VALUES (8, 'records') ON CONFLICT (version) DO NOTHING;
