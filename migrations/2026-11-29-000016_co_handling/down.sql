ALTER TABLE problem_events DISABLE TRIGGER problem_events_append_only;
DELETE FROM problem_events WHERE event_type IN ('co_accepted', 'co_opinion', 'co_returned');
ALTER TABLE problem_events ENABLE TRIGGER problem_events_append_only;
ALTER TABLE problem_events DROP CONSTRAINT problem_events_type_known;
ALTER TABLE problem_events ADD CONSTRAINT problem_events_type_known CHECK (event_type IN (
    'submitted', 'triaged', 'merged', 'merged_in', 'assigned', 'accepted', 'returned', 'responded',
    'resolved_on_site', 'evaluated', 'reopened', 'closed', 'extension_requested',
    'extension_approved', 'extension_refused', 'escalated'));
DROP TABLE problem_co_handlers;
