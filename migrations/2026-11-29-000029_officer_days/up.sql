-- Officers' figures (the ranking, the monthly report and its freeze) count each officer's duty
-- days, sign-ins and reports over a period. On a province's year (7 M sign-ins and reports) that
-- took seconds from the raw rows, so settled days are rolled up by the `roll_officer_days` job
-- (`db::models::officer_day`): one row per officer and day, and one per officer and month, over
-- the span of days `officer_rollup` names. Days outside the span are read from the raw rows.
-- The rolled rows always equal what the raw rows give: the job rolls only days no one can file
-- for any more, and a change of assignments or of the calendar rolls the days it touches again
-- in the same transaction (the triggers below; `roll_officer_days` is in src/db/sql/).

-- The span rolled so far: every day in `rolled_from..=rolled_through` is in `officer_days`
-- and `officer_months`, nothing outside it. One row; its lock serialises the rollers.
CREATE TABLE officer_rollup (
    only_row       BOOLEAN PRIMARY KEY DEFAULT true CONSTRAINT officer_rollup_one_row CHECK (only_row),
    rolled_from    DATE,
    rolled_through DATE,
    rolled_at      TIMESTAMPTZ,
    CONSTRAINT officer_rollup_span CHECK ((rolled_from IS NULL) = (rolled_through IS NULL)
                                          AND rolled_from <= rolled_through)
);
INSERT INTO officer_rollup DEFAULT VALUES;

-- One officer's day, kept when it was a duty day or had a sign-in or a report.
CREATE TABLE officer_days (
    day        DATE NOT NULL,
    officer_id UUID NOT NULL,
    -- A working day (is_working_day) within one of the officer's assignments.
    on_duty    BOOLEAN NOT NULL,
    sign_ins   INTEGER NOT NULL,
    reports    INTEGER NOT NULL,
    PRIMARY KEY (day, officer_id)
);
-- Rolling one officer again (an assignment changed) reads and replaces their days.
CREATE INDEX officer_days_officer_idx ON officer_days (officer_id, day);

-- One officer's month: the sums of their days of that month within the rolled span.
CREATE TABLE officer_months (
    month          DATE NOT NULL CONSTRAINT officer_months_first_day CHECK (extract(day FROM month) = 1),
    officer_id     UUID NOT NULL,
    working_days   INTEGER NOT NULL,
    days_on_site   INTEGER NOT NULL,
    signed_in_days INTEGER NOT NULL,
    reported_days  INTEGER NOT NULL,
    sign_ins       INTEGER NOT NULL,
    reports        INTEGER NOT NULL,
    PRIMARY KEY (month, officer_id)
);
CREATE INDEX officer_months_officer_idx ON officer_months (officer_id, month);

-- The officers' problem figures read only the problems a period touched (created, closed,
-- rated, answered in it) or left open, through these.
CREATE INDEX problems_created_idx ON problems (created_at);
CREATE INDEX problems_closed_idx ON problems (closed_at);
CREATE INDEX problems_evaluated_idx ON problems (evaluated_at);
CREATE INDEX problems_responded_idx ON problems (responded_at);

-- Rolls again one officer's days from `lo` to `hi` (NULL: open-ended) that lie in the rolled
-- span, and their months. Every writer of rolled rows holds the span row's lock until it
-- commits: this waits for a roll in progress (so no roll writes a duty day from assignments
-- older than this transaction's), and two changes of the same officer's days never both
-- replace them from snapshots that miss each other's rows.
CREATE FUNCTION reroll_officer_span(p_officer UUID, p_lo DATE, p_hi DATE) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    span officer_rollup%ROWTYPE;
    lo DATE;
    hi DATE;
BEGIN
    SELECT * INTO span FROM officer_rollup FOR UPDATE;
    lo := greatest(p_lo, span.rolled_from);
    hi := least(coalesce(p_hi, 'infinity'), span.rolled_through);
    IF span.rolled_through IS NULL OR lo > hi THEN
        RETURN;
    END IF;
    PERFORM roll_officer_days(lo, hi, p_officer);
    PERFORM roll_officer_months(lo, hi, p_officer);
END
$$;

-- An assignment added, removed or moved changes its officer's duty days: those in the rolled
-- span are rolled again. An update rolls only the days between the old and the new bounds.
CREATE FUNCTION officer_days_follow_assignments() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM reroll_officer_span(n.officer_id, n.start_day, n.end_day) FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM reroll_officer_span(o.officer_id, o.start_day, o.end_day) FROM old_rows o;
    ELSE
        PERFORM reroll_officer_span(c.officer_id, c.lo, c.hi)
           FROM old_rows o JOIN new_rows n ON n.id = o.id,
                LATERAL (
                    -- Another officer: both spans whole.
                    SELECT o.officer_id, o.start_day AS lo, o.end_day AS hi WHERE o.officer_id <> n.officer_id
                    UNION ALL
                    SELECT n.officer_id, n.start_day, n.end_day WHERE o.officer_id <> n.officer_id
                    UNION ALL
                    -- The same officer: the days between the bounds that moved.
                    SELECT n.officer_id,
                           CASE WHEN o.start_day = n.start_day
                                THEN least(coalesce(o.end_day, 'infinity'), coalesce(n.end_day, 'infinity')) + 1
                                ELSE least(o.start_day, n.start_day) END,
                           CASE WHEN o.end_day IS NOT DISTINCT FROM n.end_day
                                THEN greatest(o.start_day, n.start_day) - 1
                                ELSE greatest(coalesce(o.end_day, 'infinity'), coalesce(n.end_day, 'infinity')) END
                     WHERE o.officer_id = n.officer_id
                ) c;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER assignments_roll_inserted AFTER INSERT ON assignments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION officer_days_follow_assignments();
CREATE TRIGGER assignments_roll_updated AFTER UPDATE ON assignments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION officer_days_follow_assignments();
CREATE TRIGGER assignments_roll_deleted AFTER DELETE ON assignments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION officer_days_follow_assignments();

-- The app never writes a settled day's sign-ins or reports (sign-ins are today's, reports close
-- at 10:00 the next morning), so their inserts, on the morning's hot path, need no trigger. A
-- correction that deletes rows rolls the officers' days it touched again. (A backfill of past
-- days by hand is followed by `SELECT roll_officer_days(from, to, NULL)` and
-- `roll_officer_months(from, to, NULL)` over its days: docs/scaling.md.)
CREATE FUNCTION officer_days_follow_deletions() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM reroll_officer_span(o.officer_id, min(o.day), max(o.day)) FROM old_rows o GROUP BY o.officer_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER sign_ins_roll_deleted AFTER DELETE ON sign_ins
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION officer_days_follow_deletions();
CREATE TRIGGER daily_reports_roll_deleted AFTER DELETE ON daily_reports
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION officer_days_follow_deletions();

-- A holiday or make-up workday added or removed changes whether a day is a working day, for
-- every officer: each such day in the rolled span is rolled again, and its months once.
CREATE FUNCTION officer_days_follow_calendar() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
DECLARE
    span officer_rollup%ROWTYPE;
    changed DATE[];
BEGIN
    SELECT * INTO span FROM officer_rollup FOR UPDATE;
    IF span.rolled_through IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT day) INTO changed FROM new_rows
         WHERE day BETWEEN span.rolled_from AND span.rolled_through;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT day) INTO changed FROM old_rows
         WHERE day BETWEEN span.rolled_from AND span.rolled_through;
    ELSE
        SELECT array_agg(DISTINCT day) INTO changed
          FROM (SELECT day FROM old_rows UNION SELECT day FROM new_rows) c
         WHERE day BETWEEN span.rolled_from AND span.rolled_through;
    END IF;
    IF changed IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM roll_officer_days(d, d, NULL) FROM unnest(changed) d;
    PERFORM roll_officer_months(m, m, NULL)
       FROM (SELECT DISTINCT date_trunc('month', d)::date AS m FROM unnest(changed) d) months;
    RETURN NULL;
END
$$;
CREATE TRIGGER calendar_days_roll_inserted AFTER INSERT ON calendar_days
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION officer_days_follow_calendar();
CREATE TRIGGER calendar_days_roll_updated AFTER UPDATE ON calendar_days
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION officer_days_follow_calendar();
CREATE TRIGGER calendar_days_roll_deleted AFTER DELETE ON calendar_days
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION officer_days_follow_calendar();
