-- Closed vocabularies, typed in Rust (src/domain/vocabulary.rs), checked in the database.
--
-- The hub's queue ordered by an explicit rank instead of by the words' alphabetical order
-- ('urgent' happened to sort after 'normal'). The rank is `Urgency::queue_rank` in
-- src/domain/problem.rs; a test compares this column with it for every urgency.
ALTER TABLE problems
    ADD COLUMN queue_rank SMALLINT NOT NULL GENERATED ALWAYS AS (CASE urgency WHEN 'urgent' THEN 0 ELSE 1 END) STORED;

DROP INDEX problems_queue_idx;
DROP INDEX problems_queue_free_idx;
CREATE INDEX problems_queue_idx ON problems (queue_rank, created_at, id) WHERE status IN ('submitted', 'returned');
CREATE INDEX problems_queue_free_idx ON problems (queue_rank, created_at, id)
    WHERE status IN ('submitted', 'returned') AND lease_holder_id IS NULL;

-- The timeline's words were the only closed vocabularies without a CHECK; each list is the
-- vocabulary's `ALL` in src/domain/lifecycle.rs (tests/api/schema.rs compares them).
ALTER TABLE problem_events
    ADD CONSTRAINT problem_events_type_known CHECK (event_type IN ('submitted', 'triaged', 'merged', 'merged_in',
        'assigned', 'accepted', 'returned', 'responded', 'resolved_on_site', 'evaluated', 'reopened', 'closed',
        'extension_requested', 'extension_approved', 'extension_refused', 'escalated')),
    ADD CONSTRAINT problem_events_actor_role_known CHECK (actor_role IN ('officer', 'enterprise', 'department',
        'unit_admin', 'dispatcher', 'admin', 'system'));
ALTER TABLE problems
    ADD CONSTRAINT problems_reporter_role_known CHECK (reporter_role IN ('officer', 'enterprise'));
