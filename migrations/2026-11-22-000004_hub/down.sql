DROP TABLE notification_outbox;
DROP TABLE problem_escalations;
DROP TABLE problem_extensions;
ALTER TABLE problem_events DROP COLUMN details;
DROP INDEX problems_department_idx;
DROP INDEX problems_waiting_idx;
DROP INDEX problems_lease_expiry_idx;
DROP INDEX problems_queue_free_idx;
DROP INDEX problems_queue_idx;
ALTER TABLE problems
    DROP CONSTRAINT problems_not_merged_into_itself,
    DROP CONSTRAINT problems_category_known,
    DROP CONSTRAINT problems_status_known,
    DROP COLUMN escalation_level, DROP COLUMN deadline_round, DROP COLUMN reopen_count, DROP COLUMN merged_into_id,
    DROP COLUMN closed_at, DROP COLUMN evaluated_at, DROP COLUMN rating_comment, DROP COLUMN rating,
    DROP COLUMN resolution, DROP COLUMN outcome, DROP COLUMN responded_at, DROP COLUMN contacted_at,
    DROP COLUMN calendar_provisional, DROP COLUMN calendar_version, DROP COLUMN due_at,
    DROP COLUMN contact_due_at, DROP COLUMN due_working_days, DROP COLUMN instructions,
    DROP COLUMN assigned_at, DROP COLUMN department_id, DROP COLUMN lease_expires_at,
    DROP COLUMN lease_holder_id, DROP COLUMN triaged_at;
DROP TABLE calendar_days;
DROP TABLE calendar_years;
DROP SEQUENCE calendar_version_seq;
DROP TABLE categories;
