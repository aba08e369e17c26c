-- 日总结: a region's working day, frozen at the region's figures time (notification settings'
-- `figures_at`, 18:00 by default). The body is the whole summary as served: later corrections
-- never change it, and Redis only ever holds a copy of it.
CREATE TABLE daily_summaries (
    region_code TEXT NOT NULL REFERENCES regions (code),
    day         DATE NOT NULL,
    -- The instant the figures are taken at (the day at the region's figures time).
    as_of       TIMESTAMPTZ NOT NULL,
    frozen_at   TIMESTAMPTZ NOT NULL,
    body        JSONB NOT NULL,
    PRIMARY KEY (region_code, day)
);
