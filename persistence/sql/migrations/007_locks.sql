-- scopefs sync store, migration 7: store locks (persistence/locks/), so every
-- instance of an app excludes the others. A lock on a target excludes every
-- live lock whose target covers it or is covered by it ('/' covers all);
-- the per-app fence counter only grows; expiry is by the server's clock.
-- The same model as SQLite schema 5 and persistence/locks/lock-decisions.ts.

CREATE TABLE scopefs.locks (
  app text NOT NULL,
  token text NOT NULL,
  fence bigint NOT NULL,
  target text NOT NULL,
  owner text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (app, token)
);

CREATE TABLE scopefs.lock_fences (
  app text PRIMARY KEY,
  fence bigint NOT NULL DEFAULT 0
);

CREATE FUNCTION scopefs.lock_json(l scopefs.locks) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('token', l.token, 'fence', l.fence, 'target', l.target, 'owner', l.owner, 'expires_at', l.expires_at)
$$;

-- Whether locks on a and b would guard a common path (prefix test, no LIKE: paths may hold % and _).
CREATE FUNCTION scopefs.lock_overlaps(a text, b text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT a = '/' OR b = '/' OR a = b OR starts_with(b, a || '/') OR starts_with(a, b || '/')
$$;

-- Grants the lock unless a live lock overlaps it. The app's fence row is
-- locked first, so concurrent acquires of one app are serialised.
-- returns {acquired: true, lock} or {acquired: false, holder}
CREATE FUNCTION public.scopefs_lock_acquire(p_app text, p_target text, p_owner text, p_ttl_ms bigint, p_token text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_ttl interval := scopefs.check_ttl(p_ttl_ms);
  v_fence bigint;
  v_now bigint;
  v_holder scopefs.locks;
  v_lock scopefs.locks;
BEGIN
  PERFORM scopefs.check_name('app', p_app, 1000);
  PERFORM scopefs.check_name('lock target', p_target);
  PERFORM scopefs.check_name('lock owner', p_owner);
  PERFORM scopefs.check_name('lock token', p_token);
  INSERT INTO scopefs.lock_fences (app) VALUES (p_app) ON CONFLICT (app) DO NOTHING;
  SELECT f.fence INTO v_fence FROM scopefs.lock_fences f WHERE f.app = p_app FOR UPDATE;
  v_now := scopefs.epoch_ms(clock_timestamp());
  SELECT * INTO v_holder FROM scopefs.locks l
  WHERE l.app = p_app AND l.expires_at > v_now AND scopefs.lock_overlaps(l.target, p_target)
  ORDER BY l.fence LIMIT 1;
  IF FOUND THEN
    RETURN jsonb_build_object('acquired', false, 'holder', scopefs.lock_json(v_holder));
  END IF;
  DELETE FROM scopefs.locks l WHERE l.app = p_app AND l.expires_at <= v_now;
  UPDATE scopefs.lock_fences f SET fence = v_fence + 1 WHERE f.app = p_app;
  INSERT INTO scopefs.locks (app, token, fence, target, owner, expires_at)
  VALUES (p_app, p_token, v_fence + 1, p_target, p_owner, v_now + p_ttl_ms)
  RETURNING * INTO v_lock;
  RETURN jsonb_build_object('acquired', true, 'lock', scopefs.lock_json(v_lock));
END
$$;

-- Extends a live lock; null when it expired or was released (a dead lock never revives).
CREATE FUNCTION public.scopefs_lock_renew(p_app text, p_token text, p_ttl_ms bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_ttl interval := scopefs.check_ttl(p_ttl_ms);
  v_now bigint := scopefs.epoch_ms(clock_timestamp());
  v_lock scopefs.locks;
BEGIN
  UPDATE scopefs.locks l SET expires_at = v_now + p_ttl_ms
  WHERE l.app = p_app AND l.token = p_token AND l.expires_at > v_now
  RETURNING * INTO v_lock;
  IF FOUND THEN
    RETURN scopefs.lock_json(v_lock);
  END IF;
  RETURN NULL;
END
$$;

-- Deletes the lock; true when it was still live.
CREATE FUNCTION public.scopefs_lock_release(p_app text, p_token text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_expires bigint;
BEGIN
  DELETE FROM scopefs.locks l WHERE l.app = p_app AND l.token = p_token RETURNING l.expires_at INTO v_expires;
  RETURN FOUND AND v_expires > scopefs.epoch_ms(clock_timestamp());
END
$$;

-- The live locks of the app, by target then fence.
CREATE FUNCTION public.scopefs_lock_live(p_app text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT coalesce(jsonb_agg(scopefs.lock_json(l) ORDER BY l.target COLLATE "C", l.fence), '[]'::jsonb)
  FROM scopefs.locks l WHERE l.app = p_app AND l.expires_at > scopefs.epoch_ms(clock_timestamp())
$$;

-- The lock when it is live by the server's clock, else null.
CREATE FUNCTION public.scopefs_lock_check(p_app text, p_token text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $$
  SELECT scopefs.lock_json(l) FROM scopefs.locks l
  WHERE l.app = p_app AND l.token = p_token AND l.expires_at > scopefs.epoch_ms(clock_timestamp())
$$;

-- Security: members of the app (Supabase's authenticated role) may use its locks.
ALTER TABLE scopefs.locks ENABLE ROW LEVEL SECURITY;
ALTER TABLE scopefs.lock_fences ENABLE ROW LEVEL SECURITY;
CREATE POLICY locks_members ON scopefs.locks FOR ALL TO authenticated
  USING (scopefs.is_member(app)) WITH CHECK (scopefs.is_member(app));
CREATE POLICY lock_fences_members ON scopefs.lock_fences FOR ALL TO authenticated
  USING (scopefs.is_member(app)) WITH CHECK (scopefs.is_member(app));
GRANT SELECT, INSERT, UPDATE, DELETE ON scopefs.locks TO authenticated;
GRANT SELECT, INSERT, UPDATE ON scopefs.lock_fences TO authenticated;

REVOKE ALL ON FUNCTION
  public.scopefs_lock_acquire(text, text, text, bigint, text), public.scopefs_lock_renew(text, text, bigint),
  public.scopefs_lock_release(text, text), public.scopefs_lock_live(text), public.scopefs_lock_check(text, text)
FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION
  public.scopefs_lock_acquire(text, text, text, bigint, text), public.scopefs_lock_renew(text, text, bigint),
  public.scopefs_lock_release(text, text), public.scopefs_lock_live(text), public.scopefs_lock_check(text, text)
TO authenticated;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    GRANT ALL ON scopefs.locks, scopefs.lock_fences TO service_role;
    GRANT EXECUTE ON FUNCTION
      public.scopefs_lock_acquire(text, text, text, bigint, text), public.scopefs_lock_renew(text, text, bigint),
      public.scopefs_lock_release(text, text), public.scopefs_lock_live(text), public.scopefs_lock_check(text, text)
    TO service_role;
  END IF;
END
$$;

INSERT INTO scopefs.schema_migrations (version, name) VALUES (7, 'locks') ON CONFLICT (version) DO NOTHING;
