-- Dashboards and monthly reports: the working-day test in SQL (so figures over date ranges are
-- one query), the indexes the aggregates read by, and the frozen monthly figures (月报).

-- Mirrors domain::calendar::Calendar::is_working_day: a weekday, unless the official calendar
-- lists the day as a holiday or a make-up workday.
CREATE FUNCTION is_working_day(d DATE) RETURNS BOOLEAN
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(
        (SELECT kind = 'workday' FROM calendar_days
          WHERE year = extract(year FROM d)::int AND day = d),
        extract(isodow FROM d) < 6)
$$;

-- Officers' figures read sign-ins and reports per officer and day through the one-per-day
-- unique keys, which lead with the officer (another index there would only slow the morning
-- peak's inserts), and problems and assignments per officer through these.
CREATE INDEX problems_reporter_idx ON problems (reporter_id, created_at);
CREATE INDEX assignments_officer_idx ON assignments (officer_id, start_day);

-- A month whose figures are frozen: once the month is over (and its last reports can no longer
-- be revised) its figures are computed once and kept, so later edits do not change what was
-- published.
CREATE TABLE monthly_freezes (
    month     DATE PRIMARY KEY CONSTRAINT monthly_freezes_first_day CHECK (extract(day FROM month) = 1),
    frozen_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One officer's month as it was frozen; names are copied so a later rename or transfer does
-- not rewrite history.
CREATE TABLE monthly_officer_figures (
    month                     DATE NOT NULL REFERENCES monthly_freezes (month) ON DELETE CASCADE,
    officer_id                UUID NOT NULL,
    officer_name              TEXT NOT NULL,
    unit_id                   UUID,
    unit_name                 TEXT,
    region_code               TEXT NOT NULL,
    region_path               TEXT NOT NULL,
    working_days              INTEGER NOT NULL,
    days_on_site              INTEGER NOT NULL,
    signed_in_days            INTEGER NOT NULL,
    reported_days             INTEGER NOT NULL,
    sign_ins                  INTEGER NOT NULL,
    reports                   INTEGER NOT NULL,
    problems_raised           INTEGER NOT NULL,
    problems_solved           INTEGER NOT NULL,
    problems_overdue          INTEGER NOT NULL,
    rated_satisfied           INTEGER NOT NULL,
    rated_basically_satisfied INTEGER NOT NULL,
    rated_dissatisfied        INTEGER NOT NULL,
    PRIMARY KEY (month, officer_id)
);
CREATE INDEX monthly_officer_figures_unit_idx ON monthly_officer_figures (month, unit_id);
CREATE INDEX monthly_officer_figures_region_idx ON monthly_officer_figures (month, region_path text_pattern_ops);
