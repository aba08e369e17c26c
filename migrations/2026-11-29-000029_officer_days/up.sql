-- Officers' figures (the ranking, the monthly report and its freeze) count each officer's duty
-- days, sign-ins and reports over a period. On a province's year (7 M sign-ins and reports) that
-- took seconds from the raw rows, so settled days are rolled up by the `roll_officer_days` job
-- (`db::models::officer_day`): one row per officer and day, and one per officer and month, over
-- the span of days `officer_rollup` names. Days outside the span are read from the raw rows.
-- The rolled rows always equal what the raw rows give: the job rolls only days no one can file
-- for any more, and a change of assignments, of the calendar or a deletion cuts the span back
-- before the days it touches, in the same transaction (the triggers below); the job rolls them
-- again (`roll_officer_days` is in src/db/sql/).

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

-- The officers' problem figures read only the problems a period touched (created, closed,
-- rated, answered in it) or left open, through these.
CREATE INDEX problems_created_idx ON problems (created_at);
CREATE INDEX problems_closed_idx ON problems (closed_at);
CREATE INDEX problems_evaluated_idx ON problems (evaluated_at);
CREATE INDEX problems_responded_idx ON problems (responded_at);

-- A change reaching the rolled days from `lo` to `hi` (NULL: open-ended) cuts the span back to
-- the end of the month before `lo`, and forgets the rolled rows after it: those days are read
-- from the raw rows until the job rolls them again (for everyone, a month per transaction). A
-- backdated roster import of thousands of assignments thus costs one cut, not a roll per
-- officer. Every writer of rolled rows holds the span row's lock until it commits, so a roll in
-- progress finishes first, and no roll writes a duty day from older assignments.
CREATE FUNCTION cut_rolled_span(p_lo DATE, p_hi DATE) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    span officer_rollup%ROWTYPE;
    cut DATE;
BEGIN
    IF p_lo IS NULL THEN
        RETURN;  -- the statement changed no row
    END IF;
    SELECT * INTO span FROM officer_rollup FOR UPDATE;
    IF span.rolled_through IS NULL
       OR greatest(p_lo, span.rolled_from) > least(coalesce(p_hi, 'infinity'), span.rolled_through) THEN
        RETURN;
    END IF;
    cut := (date_trunc('month', greatest(p_lo, span.rolled_from)) - interval '1 day')::date;
    DELETE FROM officer_days WHERE day > cut;
    DELETE FROM officer_months WHERE month > cut;
    IF cut < span.rolled_from THEN
        UPDATE officer_rollup SET rolled_from = NULL, rolled_through = NULL;
    ELSE
        UPDATE officer_rollup SET rolled_through = cut;
    END IF;
END
$$;

-- An assignment added, removed or moved changes its officer's duty days. An update reaches only
-- the days between the old and the new bounds.
CREATE FUNCTION officer_days_follow_assignments() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM cut_rolled_span(min(n.start_day), max(coalesce(n.end_day, 'infinity'))) FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM cut_rolled_span(min(o.start_day), max(coalesce(o.end_day, 'infinity'))) FROM old_rows o;
    ELSE
        -- Each row's days between its old and new bounds (all of both spans if it changed
        -- officer); a row whose days did not move (lo > hi) reaches nothing.
        PERFORM cut_rolled_span(min(c.lo), max(c.hi))
           FROM (SELECT CASE WHEN o.officer_id = n.officer_id AND o.start_day = n.start_day
                             THEN least(coalesce(o.end_day, 'infinity'), coalesce(n.end_day, 'infinity')) + 1
                             ELSE least(o.start_day, n.start_day) END AS lo,
                        CASE WHEN o.officer_id = n.officer_id AND o.end_day IS NOT DISTINCT FROM n.end_day
                             THEN greatest(o.start_day, n.start_day) - 1
                             ELSE greatest(coalesce(o.end_day, 'infinity'), coalesce(n.end_day, 'infinity')) END AS hi
                   FROM old_rows o JOIN new_rows n ON n.id = o.id) c
          WHERE c.lo <= c.hi;
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
-- correction that deletes rows cuts the span back like any change. (A backfill of past
-- days by hand is followed by `SELECT cut_rolled_span(from, to)`: docs/scaling.md.)
CREATE FUNCTION officer_days_follow_deletions() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cut_rolled_span(min(o.day), max(o.day)) FROM old_rows o;
    RETURN NULL;
END
$$;
CREATE TRIGGER sign_ins_roll_deleted AFTER DELETE ON sign_ins
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION officer_days_follow_deletions();
CREATE TRIGGER daily_reports_roll_deleted AFTER DELETE ON daily_reports
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION officer_days_follow_deletions();

-- A holiday or make-up workday added or removed changes whether a day is a working day, for
-- every officer.
CREATE FUNCTION officer_days_follow_calendar() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM cut_rolled_span(min(day), max(day)) FROM new_rows;
    ELSE
        PERFORM cut_rolled_span(min(day), max(day)) FROM old_rows;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        PERFORM cut_rolled_span(min(day), max(day)) FROM new_rows;
    END IF;
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
