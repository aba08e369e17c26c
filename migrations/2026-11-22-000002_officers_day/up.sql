-- The officer's day: sign-ins, daily reports (with every revision kept) and the problems they
-- raise, each problem with an append-only timeline.

-- 签到: one per officer, enterprise and China-local day.
CREATE TABLE sign_ins (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    officer_id      UUID NOT NULL REFERENCES users (id),
    enterprise_id   UUID NOT NULL REFERENCES enterprises (id),
    -- The enterprise's region, copied so that region dashboards and scopes need no join.
    -- Deliberately no foreign key: every sign-in of a city would share-lock the same region
    -- row at the morning peak (a MultiXact per row), and regions are never deleted.
    region_code     TEXT NOT NULL,
    day             DATE NOT NULL,
    signed_at       TIMESTAMPTZ NOT NULL,
    -- The phone's fix converted to GCJ-02, the datum enterprise locations are stored in.
    lat             DOUBLE PRECISION NOT NULL,
    lng             DOUBLE PRECISION NOT NULL,
    accuracy_m      DOUBLE PRECISION,
    distance_m      DOUBLE PRECISION NOT NULL,
    within_geofence BOOLEAN NOT NULL,
    remark          TEXT,
    device_id       TEXT,
    new_device      BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT sign_ins_one_per_day UNIQUE (officer_id, enterprise_id, day),
    -- A sign-in outside the geofence is a field sign-in (外勤) and must say why.
    CONSTRAINT sign_ins_field_needs_remark CHECK (within_geofence OR remark IS NOT NULL)
);
CREATE INDEX sign_ins_day_region_idx ON sign_ins (day, region_code);

-- Devices an officer has signed in from; a sign-in from a new one is flagged, not refused.
CREATE TABLE officer_devices (
    officer_id    UUID NOT NULL REFERENCES users (id),
    device_id     TEXT NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (officer_id, device_id)
);

-- 日报告: one per officer, enterprise and day; `body` is the current revision.
CREATE TABLE daily_reports (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    officer_id      UUID NOT NULL REFERENCES users (id),
    enterprise_id   UUID NOT NULL REFERENCES enterprises (id),
    region_code     TEXT NOT NULL, -- a copy of the enterprise's, without a key (see sign_ins)
    day             DATE NOT NULL,
    revision        INTEGER NOT NULL DEFAULT 1 CONSTRAINT daily_reports_revision_positive CHECK (revision > 0),
    work_done       TEXT NOT NULL,
    production_status TEXT NOT NULL CONSTRAINT daily_reports_status_known
                    CHECK (production_status IN ('normal', 'partial', 'suspended')),
    capacity_pct    SMALLINT NOT NULL CONSTRAINT daily_reports_capacity_range CHECK (capacity_pct BETWEEN 0 AND 100),
    staff_on_duty   INTEGER NOT NULL CONSTRAINT daily_reports_on_duty_range CHECK (staff_on_duty >= 0),
    staff_total     INTEGER NOT NULL CONSTRAINT daily_reports_total_range CHECK (staff_total >= staff_on_duty),
    staff_shortage  INTEGER NOT NULL CONSTRAINT daily_reports_shortage_range CHECK (staff_shortage >= 0),
    difficulties    TEXT,
    submitted_at    TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT daily_reports_one_per_day UNIQUE (officer_id, enterprise_id, day)
);
CREATE INDEX daily_reports_day_region_idx ON daily_reports (day, region_code);
CREATE INDEX daily_reports_enterprise_day_idx ON daily_reports (enterprise_id, day);

-- Every revision of a report as it was submitted, with the fields that changed.
CREATE TABLE daily_report_revisions (
    report_id      UUID NOT NULL REFERENCES daily_reports (id),
    revision       INTEGER NOT NULL,
    author_id      UUID NOT NULL REFERENCES users (id),
    at             TIMESTAMPTZ NOT NULL,
    body           JSONB NOT NULL,
    changed_fields TEXT[] NOT NULL,
    PRIMARY KEY (report_id, revision)
);

-- 问题/诉求: a difficulty in the hub's queue.
CREATE TABLE problems (
    id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    enterprise_id         UUID NOT NULL REFERENCES enterprises (id),
    region_code           TEXT NOT NULL, -- a copy of the enterprise's, without a key (see sign_ins)
    reporter_id           UUID NOT NULL REFERENCES users (id),
    reporter_role         TEXT NOT NULL,
    source_report_id      UUID REFERENCES daily_reports (id),
    -- SHA-256 of the normalised description: a report revision repeating a problem it already
    -- filed does not file it again.
    description_hash      TEXT NOT NULL,
    title                 TEXT NOT NULL,
    description           TEXT NOT NULL,
    category              TEXT,
    urgency               TEXT NOT NULL DEFAULT 'normal' CONSTRAINT problems_urgency_known CHECK (urgency IN ('normal', 'urgent')),
    departments_requested UUID[] NOT NULL DEFAULT '{}',
    status                TEXT NOT NULL DEFAULT 'submitted',
    suggested_category    TEXT,
    confidence            DOUBLE PRECISION,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX problems_report_description_key ON problems (source_report_id, description_hash)
    WHERE source_report_id IS NOT NULL;
CREATE INDEX problems_region_created_idx ON problems (region_code, created_at DESC);
CREATE INDEX problems_enterprise_idx ON problems (enterprise_id);
CREATE INDEX problems_status_idx ON problems (status);

-- The timeline of a problem: every event, never edited.
CREATE TABLE problem_events (
    id          BIGSERIAL PRIMARY KEY,
    problem_id  UUID NOT NULL REFERENCES problems (id),
    event_type  TEXT NOT NULL,
    actor_id    UUID REFERENCES users (id),
    actor_role  TEXT,
    at          TIMESTAMPTZ NOT NULL,
    note        TEXT
);
CREATE INDEX problem_events_problem_idx ON problem_events (problem_id, id);
CREATE TRIGGER problem_events_append_only BEFORE UPDATE OR DELETE ON problem_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Claims an Idempotency-Key for the current transaction and returns what is stored for it,
-- in one round trip. The lookup runs after the lock inside a volatile function, so it sees
-- a record that a first request committed while this one waited for the lock.
CREATE FUNCTION idempotency_claim(p_user UUID, p_key TEXT)
RETURNS TABLE (locked BOOLEAN, request_hash TEXT, status_code SMALLINT, response_body BYTEA)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended('idempotency:' || p_user || ':' || p_key, 7411)) THEN
        RETURN QUERY SELECT FALSE, NULL::TEXT, NULL::SMALLINT, NULL::BYTEA;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT TRUE, r.request_hash, r.status_code, r.response_body
          FROM (SELECT 1) AS one
          LEFT JOIN idempotency_records r ON r.user_id = p_user AND r.key = p_key;
END $$;
