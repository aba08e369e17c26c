DROP FUNCTION idempotency_claim(UUID, TEXT);
DROP TABLE problem_events;
DROP TABLE problems;
DROP TABLE daily_report_revisions;
DROP TABLE daily_reports;
DROP TABLE officer_devices;
DROP TABLE sign_ins;
