DROP TABLE monthly_officer_figures;
DROP TABLE monthly_freezes;
DROP INDEX assignments_officer_idx;
DROP INDEX problems_reporter_idx;
DROP FUNCTION is_working_day(DATE);
