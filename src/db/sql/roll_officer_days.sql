-- Replaces every officer's rolled days from `p_from` to `p_to` with what the raw rows give
-- (`officer_days_between`). Answers how many it stored. The caller (the roll job) keeps the days
-- within the span `officer_rollup` names, and rolls their months after (`roll_officer_months`).
--
-- The living definition: `db::migrate` installs this file after the migrations (CREATE OR
-- REPLACE); a change of its body is made here. A change of its arguments or of its result
-- also needs a migration that drops the old function.
CREATE OR REPLACE FUNCTION roll_officer_days(p_from DATE, p_to DATE)
RETURNS INTEGER
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    stored INTEGER;
BEGIN
    DELETE FROM officer_days d WHERE d.day BETWEEN p_from AND p_to;
    INSERT INTO officer_days (day, officer_id, on_duty, sign_ins, reports)
    SELECT b.day, b.officer_id, b.on_duty, b.sign_ins, b.reports
      FROM officer_days_between(p_from, p_to, NULL) b;
    GET DIAGNOSTICS stored = ROW_COUNT;
    RETURN stored;
END
$$;
