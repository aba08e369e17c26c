DROP TABLE monthly_officer_figures;
DROP TABLE monthly_freezes;
DROP INDEX assignments_officer_idx;
DROP INDEX problems_reporter_idx;
DROP INDEX daily_reports_officer_day_idx;
DROP INDEX sign_ins_officer_day_idx;
DROP FUNCTION is_working_day(DATE);
