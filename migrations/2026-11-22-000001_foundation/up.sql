-- The foundation: the roster (regions, units, enterprises, users, assignments), sessions
-- (refresh tokens), the audit trail and idempotency records.

-- Keeps updated_at honest without every query having to remember it.
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

-- GB/T 2260 divisions. `path` is the chain of codes from the top ('430000/430200/430211/'),
-- so a region subtree is one indexed prefix match instead of a recursive query per request.
CREATE TABLE regions (
    code        TEXT PRIMARY KEY CONSTRAINT regions_code_format CHECK (code ~ '^[1-9][0-9]{5}$'),
    name        TEXT NOT NULL CONSTRAINT regions_name_not_blank CHECK (btrim(name) <> ''),
    parent_code TEXT REFERENCES regions (code),
    path        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT regions_not_own_parent CHECK (parent_code IS DISTINCT FROM code)
);
CREATE INDEX regions_path_idx ON regions (path text_pattern_ops);
CREATE INDEX regions_parent_idx ON regions (parent_code);
CREATE TRIGGER regions_updated_at BEFORE UPDATE ON regions FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE units (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    code        TEXT NOT NULL CONSTRAINT units_code_key UNIQUE CONSTRAINT units_code_not_blank CHECK (btrim(code) <> ''),
    name        TEXT NOT NULL CONSTRAINT units_name_not_blank CHECK (btrim(name) <> ''),
    kind        TEXT NOT NULL CONSTRAINT units_kind_known CHECK (kind IN ('dispatching', 'department', 'hub')),
    region_code TEXT NOT NULL REFERENCES regions (code),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX units_region_idx ON units (region_code);
CREATE TRIGGER units_updated_at BEFORE UPDATE ON units FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE enterprises (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    -- 统一社会信用代码; the check digit is verified by the application before it gets here.
    credit_code TEXT NOT NULL CONSTRAINT enterprises_credit_code_key UNIQUE
                CONSTRAINT enterprises_credit_code_format CHECK (credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'),
    name        TEXT NOT NULL CONSTRAINT enterprises_name_not_blank CHECK (btrim(name) <> ''),
    region_code TEXT NOT NULL REFERENCES regions (code),
    industry    TEXT NOT NULL DEFAULT '',
    address     TEXT NOT NULL DEFAULT '',
    -- GCJ-02, the datum WeChat's wx.getLocation({type: 'gcj02'}) and Chinese maps use.
    lat         DOUBLE PRECISION NOT NULL CONSTRAINT enterprises_lat_range CHECK (lat BETWEEN -90 AND 90),
    lng         DOUBLE PRECISION NOT NULL CONSTRAINT enterprises_lng_range CHECK (lng BETWEEN -180 AND 180),
    geofence_m  INTEGER NOT NULL DEFAULT 500 CONSTRAINT enterprises_geofence_range CHECK (geofence_m BETWEEN 50 AND 5000),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX enterprises_region_idx ON enterprises (region_code);
CREATE TRIGGER enterprises_updated_at BEFORE UPDATE ON enterprises FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE users (
    id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    username          TEXT NOT NULL CONSTRAINT users_username_key UNIQUE
                      CONSTRAINT users_username_format CHECK (username ~ '^[A-Za-z0-9_.@-]{2,64}$'),
    name              TEXT NOT NULL CONSTRAINT users_name_not_blank CHECK (btrim(name) <> ''),
    phone             TEXT CONSTRAINT users_phone_key UNIQUE CONSTRAINT users_phone_format CHECK (phone ~ '^1[3-9][0-9]{9}$'),
    roles             TEXT[] NOT NULL CONSTRAINT users_roles_known CHECK (
                          cardinality(roles) > 0
                          AND roles <@ ARRAY['officer', 'enterprise', 'department', 'unit_admin', 'dispatcher', 'admin']),
    unit_id           UUID REFERENCES units (id),
    region_code       TEXT NOT NULL REFERENCES regions (code),
    enterprise_id     UUID REFERENCES enterprises (id),
    -- One-time invite code for the WeChat bind, stored as a SHA-256 digest, never in clear.
    invite_code_hash  TEXT,
    invite_expires_at TIMESTAMPTZ,
    password_hash     TEXT,
    wechat_openid     TEXT CONSTRAINT users_wechat_openid_key UNIQUE,
    active            BOOLEAN NOT NULL DEFAULT TRUE,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT users_unit_required CHECK (
        unit_id IS NOT NULL OR NOT (roles && ARRAY['officer', 'department', 'unit_admin'])),
    CONSTRAINT users_enterprise_required CHECK (
        enterprise_id IS NOT NULL OR NOT (roles && ARRAY['enterprise']))
);
CREATE INDEX users_region_idx ON users (region_code);
CREATE INDEX users_unit_idx ON users (unit_id);
CREATE TRIGGER users_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- 结对/包联: which officer looks after which enterprise, from start_day to end_day (inclusive).
CREATE TABLE assignments (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    officer_id    UUID NOT NULL REFERENCES users (id),
    enterprise_id UUID NOT NULL REFERENCES enterprises (id),
    start_day     DATE NOT NULL,
    end_day       DATE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT assignments_natural_key UNIQUE (officer_id, enterprise_id, start_day),
    CONSTRAINT assignments_days_ordered CHECK (end_day IS NULL OR end_day >= start_day)
);
CREATE INDEX assignments_enterprise_idx ON assignments (enterprise_id);
CREATE TRIGGER assignments_updated_at BEFORE UPDATE ON assignments FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Refresh tokens rotate: each use marks the row used and issues a successor in the same
-- family. Presenting a used token again means it leaked, so the whole family is revoked.
CREATE TABLE refresh_tokens (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     UUID NOT NULL REFERENCES users (id),
    family_id   UUID NOT NULL,
    token_hash  TEXT NOT NULL CONSTRAINT refresh_tokens_token_hash_key UNIQUE,
    issued_at   TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Append-only audit trail: who did what to which object, with the object before and after.
CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    actor_id    UUID REFERENCES users (id),
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    before      JSONB,
    after       JSONB,
    request_id  TEXT
);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id);

CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Idempotency-Key records: the first response to a (user, key) is stored in the same
-- transaction as the write it answers, and replayed on a retry.
CREATE TABLE idempotency_records (
    user_id       UUID NOT NULL REFERENCES users (id),
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status_code   SMALLINT,
    response_body BYTEA,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_records_created_idx ON idempotency_records (created_at);
