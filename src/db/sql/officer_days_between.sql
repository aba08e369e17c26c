-- Each officer's days from `p_from` to `p_to` as the raw rows give them: one row per officer
-- and day that was a duty day (a working day by the official calendar within one of their
-- assignments) or had a sign-in or a report, with the counts. What `roll_officer_days` stores,
-- and what officers' figures read for the days outside the rolled span. `p_officer` limits it
-- to one officer (NULL: everyone).
--
-- Planned for each call's values (plan_cache_mode): one officer's days are then read through
-- the keys that lead with the officer, and a NULL range is no scan at all.
--
-- The living definition: `db::migrate` installs this file after the migrations (CREATE OR
-- REPLACE); a change of its body is made here. A change of its arguments or of its result
-- also needs a migration that drops the old function.
CREATE OR REPLACE FUNCTION officer_days_between(p_from DATE, p_to DATE, p_officer UUID)
RETURNS TABLE (day DATE, officer_id UUID, on_duty BOOLEAN, sign_ins INTEGER, reports INTEGER)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH working AS MATERIALIZED (
        SELECT w::date AS day FROM generate_series(p_from, p_to, interval '1 day') w
         WHERE is_working_day(w::date))
    SELECT e.day, e.officer_id, bool_or(e.duty), sum(e.signs)::int, sum(e.reps)::int
      FROM (SELECT w.day, a.officer_id, true AS duty, 0 AS signs, 0 AS reps
              FROM assignments a
              JOIN working w ON w.day >= a.start_day AND (a.end_day IS NULL OR w.day <= a.end_day)
             WHERE a.start_day <= p_to AND (a.end_day IS NULL OR a.end_day >= p_from)
               AND (p_officer IS NULL OR a.officer_id = p_officer)
            UNION ALL
            SELECT s.day, s.officer_id, false, 1, 0 FROM sign_ins s
             WHERE s.day BETWEEN p_from AND p_to AND (p_officer IS NULL OR s.officer_id = p_officer)
            UNION ALL
            SELECT r.day, r.officer_id, false, 0, 1 FROM daily_reports r
             WHERE r.day BETWEEN p_from AND p_to AND (p_officer IS NULL OR r.officer_id = p_officer)) e
     GROUP BY e.day, e.officer_id;
END
$$;
