-- 逐条对照: where each policy stands with each enterprise (the latest word), and every word
-- the officers recorded (the history the figures count from).
CREATE TABLE policy_checkoffs (
    enterprise_id UUID NOT NULL REFERENCES enterprises (id),
    policy_id     UUID NOT NULL REFERENCES policies (id),
    region_code   TEXT NOT NULL, -- a copy of the enterprise's, for the region's figures
    status        TEXT NOT NULL CONSTRAINT policy_checkoffs_status_known CHECK (status IN (
                      'not_applicable', 'explained', 'applying', 'granted', 'refused')),
    day           DATE NOT NULL,
    amount_yuan   BIGINT CONSTRAINT policy_checkoffs_amount_range CHECK (amount_yuan >= 0),
    note          TEXT,
    recorded_by   UUID NOT NULL REFERENCES users (id),
    recorded_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (enterprise_id, policy_id)
);
CREATE INDEX policy_checkoffs_region_idx ON policy_checkoffs (region_code);
CREATE TABLE policy_checkoff_events (
    id            BIGSERIAL PRIMARY KEY,
    enterprise_id UUID NOT NULL REFERENCES enterprises (id),
    policy_id     UUID NOT NULL REFERENCES policies (id),
    region_code   TEXT NOT NULL,
    status        TEXT NOT NULL CONSTRAINT policy_checkoff_events_status_known CHECK (status IN (
                      'not_applicable', 'explained', 'applying', 'granted', 'refused')),
    day           DATE NOT NULL,
    amount_yuan   BIGINT,
    note          TEXT,
    recorded_by   UUID NOT NULL REFERENCES users (id),
    recorded_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX policy_checkoff_events_pair_idx ON policy_checkoff_events (enterprise_id, policy_id, id);
CREATE INDEX policy_checkoff_events_day_idx ON policy_checkoff_events (day, region_code);
