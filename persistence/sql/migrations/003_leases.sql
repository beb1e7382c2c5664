-- scopefs sync store, migration 3: leases with fencing tokens.

CREATE FUNCTION scopefs.lease_json(l scopefs.leases, p_acquired boolean) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('acquired', p_acquired, 'name', l.name, 'holder', l.holder, 'token', l.token,
                            'expires_at', CASE WHEN isfinite(l.expires_at) THEN scopefs.epoch_ms(l.expires_at) END)
$$;

CREATE FUNCTION scopefs.check_ttl(p_ttl_ms bigint) RETURNS interval
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_ttl_ms IS NULL OR p_ttl_ms < 1 THEN
    RAISE EXCEPTION 'scopefs: a lease TTL must be at least 1 ms' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN make_interval(secs => p_ttl_ms / 1000.0);
END
$$;

-- Takes the lease when it is free or expired (the fencing token increases),
-- or extends it when p_holder already holds it (same token).
-- returns {acquired, name, holder, token, expires_at}
CREATE FUNCTION public.scopefs_acquire_lease(p_name text, p_holder text, p_ttl_ms bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_ttl interval := scopefs.check_ttl(p_ttl_ms);
  v_now timestamptz := clock_timestamp();
  v_lease scopefs.leases;
BEGIN
  PERFORM scopefs.check_name('lease name', p_name);
  PERFORM scopefs.check_name('lease holder', p_holder);
  INSERT INTO scopefs.leases (name) VALUES (p_name) ON CONFLICT (name) DO NOTHING;
  SELECT * INTO v_lease FROM scopefs.leases l WHERE l.name = p_name FOR UPDATE;
  IF v_lease.holder IS NOT NULL AND v_lease.expires_at > v_now THEN
    IF v_lease.holder <> p_holder THEN
      RETURN scopefs.lease_json(v_lease, false);
    END IF;
    UPDATE scopefs.leases l SET expires_at = v_now + v_ttl WHERE l.name = p_name RETURNING * INTO v_lease;
  ELSE
    UPDATE scopefs.leases l SET holder = p_holder, token = l.token + 1, expires_at = v_now + v_ttl
    WHERE l.name = p_name RETURNING * INTO v_lease;
  END IF;
  RETURN scopefs.lease_json(v_lease, true);
END
$$;

-- Extends an unexpired lease held by p_holder with token p_token. A stale
-- token (the lease expired, or changed hands) fails: acquired = false.
CREATE FUNCTION public.scopefs_renew_lease(p_name text, p_holder text, p_token bigint, p_ttl_ms bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
DECLARE
  v_ttl interval := scopefs.check_ttl(p_ttl_ms);
  v_now timestamptz := clock_timestamp();
  v_lease scopefs.leases;
BEGIN
  UPDATE scopefs.leases l SET expires_at = v_now + v_ttl
  WHERE l.name = p_name AND l.holder = p_holder AND l.token = p_token AND l.expires_at > v_now
  RETURNING * INTO v_lease;
  IF FOUND THEN
    RETURN scopefs.lease_json(v_lease, true);
  END IF;
  SELECT * INTO v_lease FROM scopefs.leases l WHERE l.name = p_name;
  RETURN scopefs.lease_json(v_lease, false) || jsonb_build_object('name', p_name);
END
$$;

-- Gives the lease up; true when p_holder held it with p_token.
CREATE FUNCTION public.scopefs_release_lease(p_name text, p_holder text, p_token bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $$
BEGIN
  UPDATE scopefs.leases l SET holder = NULL, expires_at = clock_timestamp()
  WHERE l.name = p_name AND l.holder = p_holder AND l.token = p_token;
  RETURN FOUND;
END
$$;

INSERT INTO scopefs.schema_migrations (version, name) VALUES (3, 'leases') ON CONFLICT (version) DO NOTHING;
