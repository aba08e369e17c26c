ALTER TABLE problems DROP CONSTRAINT problems_reporter_role_known;
ALTER TABLE problem_events DROP CONSTRAINT problem_events_type_known, DROP CONSTRAINT problem_events_actor_role_known;
DROP INDEX problems_queue_idx;
DROP INDEX problems_queue_free_idx;
ALTER TABLE problems DROP COLUMN queue_rank;
CREATE INDEX problems_queue_idx ON problems (urgency DESC, created_at, id) WHERE status IN ('submitted', 'returned');
CREATE INDEX problems_queue_free_idx ON problems (urgency DESC, created_at, id)
    WHERE status IN ('submitted', 'returned') AND lease_holder_id IS NULL;
