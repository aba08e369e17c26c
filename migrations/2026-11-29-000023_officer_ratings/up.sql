-- 企业评价联络员: each month an enterprise's contact rates each officer stationed with it, once
-- (a second rating that month replaces the first). Officers see only counts and means.
CREATE TABLE officer_ratings (
    id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    officer_id     UUID NOT NULL REFERENCES users (id),
    enterprise_id  UUID NOT NULL REFERENCES enterprises (id),
    rater_id       UUID NOT NULL REFERENCES users (id),
    month          DATE NOT NULL CONSTRAINT officer_ratings_first_day CHECK (extract(day FROM month) = 1),
    presence       SMALLINT NOT NULL CONSTRAINT officer_ratings_presence_range CHECK (presence BETWEEN 1 AND 5),
    responsiveness SMALLINT NOT NULL CONSTRAINT officer_ratings_responsiveness_range CHECK (responsiveness BETWEEN 1 AND 5),
    help           SMALLINT NOT NULL CONSTRAINT officer_ratings_help_range CHECK (help BETWEEN 1 AND 5),
    comment        TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    CONSTRAINT officer_ratings_once_a_month UNIQUE (rater_id, officer_id, month)
);
CREATE INDEX officer_ratings_officer_month_idx ON officer_ratings (officer_id, month);

-- A frozen month keeps the officer's ratings as counts and sums (means are taken from them).
ALTER TABLE monthly_officer_figures
    ADD COLUMN enterprise_ratings              INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN enterprise_presence_sum         INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN enterprise_responsiveness_sum   INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN enterprise_help_sum             INTEGER NOT NULL DEFAULT 0;
