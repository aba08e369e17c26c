-- Sessions end at once: an access token names the session generation of its user, and every
-- change that must end a user's sessions (deactivation, roles or scope, password, WeChat
-- binding replaced, a new invite code; a logout bumps it by hand) raises the generation, so a token
-- issued before it is refused on its next request instead of living out its two hours.
ALTER TABLE users ADD COLUMN session_generation BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION users_bump_session_generation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.active IS DISTINCT FROM OLD.active
       OR NEW.roles IS DISTINCT FROM OLD.roles
       OR NEW.region_code IS DISTINCT FROM OLD.region_code
       OR NEW.unit_id IS DISTINCT FROM OLD.unit_id
       OR NEW.enterprise_id IS DISTINCT FROM OLD.enterprise_id
       OR NEW.password_hash IS DISTINCT FROM OLD.password_hash
       OR (OLD.wechat_openid IS NOT NULL AND NEW.wechat_openid IS DISTINCT FROM OLD.wechat_openid)
       OR (NEW.invite_code_hash IS NOT NULL AND NEW.invite_code_hash IS DISTINCT FROM OLD.invite_code_hash)
    THEN
        NEW.session_generation := OLD.session_generation + 1;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER users_session_generation BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_bump_session_generation();

-- A refresh family lives at most 90 days from its first sign-in, however often it rotates.
ALTER TABLE refresh_tokens ADD COLUMN family_started_at TIMESTAMPTZ;
UPDATE refresh_tokens r
   SET family_started_at = f.started
  FROM (SELECT family_id, min(issued_at) AS started FROM refresh_tokens GROUP BY family_id) f
 WHERE r.family_id = f.family_id;
ALTER TABLE refresh_tokens ALTER COLUMN family_started_at SET NOT NULL;
