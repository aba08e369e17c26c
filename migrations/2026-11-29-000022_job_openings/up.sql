-- 用工需求: an enterprise's job openings, kept current by its officer or its contact and
-- summed for the human-resources bureau. Status is derived from the counts
-- (`domain::job_opening::JobStatus`), never stored.
CREATE TABLE job_openings (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    enterprise_id UUID NOT NULL REFERENCES enterprises (id),
    region_code   TEXT NOT NULL, -- a copy of the enterprise's, for the region's figures
    job_type      TEXT NOT NULL CONSTRAINT job_openings_job_type_known CHECK (job_type IN (
                      'welder', 'general_worker', 'technician', 'electrician', 'mechanic',
                      'cnc_operator', 'inspector', 'driver', 'engineer', 'sales', 'management',
                      'other')),
    title         TEXT,
    positions     INTEGER NOT NULL CONSTRAINT job_openings_positions_range CHECK (positions BETWEEN 1 AND 100000),
    filled        INTEGER NOT NULL CONSTRAINT job_openings_filled_range CHECK (filled BETWEEN 0 AND positions),
    wage_min      INTEGER CONSTRAINT job_openings_wage_min_range CHECK (wage_min BETWEEN 0 AND 1000000),
    wage_max      INTEGER CONSTRAINT job_openings_wage_max_range CHECK (wage_max BETWEEN 0 AND 1000000),
    deadline      DATE,
    withdrawn     BOOLEAN NOT NULL DEFAULT false,
    note          TEXT,
    created_by    UUID NOT NULL REFERENCES users (id),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_by    UUID NOT NULL REFERENCES users (id),
    updated_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT job_openings_wages_ordered CHECK (wage_min <= wage_max)
);
CREATE INDEX job_openings_enterprise_idx ON job_openings (enterprise_id, created_at DESC);
CREATE INDEX job_openings_region_idx ON job_openings (region_code);
