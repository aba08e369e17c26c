-- Sums again every officer's months from `p_from`'s to `p_to`'s from their rolled days.
-- Answers how many officer-months it stored.
--
-- The living definition: `db::migrate` installs this file after the migrations (CREATE OR
-- REPLACE); a change of its body is made here. A change of its arguments or of its result
-- also needs a migration that drops the old function.
CREATE OR REPLACE FUNCTION roll_officer_months(p_from DATE, p_to DATE)
RETURNS INTEGER
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    first_month DATE := date_trunc('month', p_from)::date;
    after_last DATE := (date_trunc('month', p_to) + interval '1 month')::date;
    stored INTEGER;
BEGIN
    DELETE FROM officer_months m
     WHERE m.month >= first_month AND m.month < after_last;
    INSERT INTO officer_months (month, officer_id, working_days, days_on_site, signed_in_days,
                                reported_days, sign_ins, reports)
    SELECT date_trunc('month', d.day)::date, d.officer_id,
           count(*) FILTER (WHERE d.on_duty),
           count(*) FILTER (WHERE d.sign_ins > 0),
           count(*) FILTER (WHERE d.on_duty AND d.sign_ins > 0),
           count(*) FILTER (WHERE d.on_duty AND d.reports > 0),
           sum(d.sign_ins), sum(d.reports)
      FROM officer_days d
     WHERE d.day >= first_month AND d.day < after_last
     GROUP BY 1, 2;
    GET DIAGNOSTICS stored = ROW_COUNT;
    RETURN stored;
END
$$;
