-- 协办: the departments that help a problem's lead department (牵头部门, `problems.department_id`).
-- Each has its own contact deadline, accepts (签收), files its opinion (会办意见) for the lead,
-- or returns its part (not its remit). A row stays for the record when the assignment ends
-- (the lead returned the problem to the hub): `active` is then false, and a new assignment
-- may name the same department again.
CREATE TABLE problem_co_handlers (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    problem_id       UUID NOT NULL REFERENCES problems (id),
    department_id    UUID NOT NULL REFERENCES units (id),
    -- Where the dispatcher named it among the co-handlers (0 first): the order they are shown in.
    position         SMALLINT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'assigned' CONSTRAINT problem_co_handlers_status_known
                         CHECK (status IN ('assigned', 'accepted', 'opined', 'returned')),
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    assigned_at      TIMESTAMPTZ NOT NULL,
    contact_working_days INTEGER NOT NULL CONSTRAINT problem_co_handlers_contact_days_range
                         CHECK (contact_working_days BETWEEN 1 AND 250),
    contact_due_at   TIMESTAMPTZ NOT NULL,
    -- The opinion is due with the lead's response.
    due_at           TIMESTAMPTZ NOT NULL,
    contacted_at     TIMESTAMPTZ,
    opinion          TEXT,
    opined_at        TIMESTAMPTZ,
    return_reason    TEXT,
    returned_at      TIMESTAMPTZ,
    escalation_level SMALLINT NOT NULL DEFAULT 0 CONSTRAINT problem_co_handlers_level_range
                         CHECK (escalation_level BETWEEN 0 AND 3),
    CONSTRAINT problem_co_handlers_opinion_when_opined CHECK ((status = 'opined') = (opinion IS NOT NULL))
);
CREATE UNIQUE INDEX problem_co_handlers_one_active ON problem_co_handlers (problem_id, department_id) WHERE active;
-- A department's co-handled problems (its scope and its to-do list).
CREATE INDEX problem_co_handlers_department_idx ON problem_co_handlers (department_id, problem_id) WHERE active;
-- What the escalation job looks at: active co-handlers that still owe contact or an opinion.
CREATE INDEX problem_co_handlers_waiting_idx ON problem_co_handlers (contact_due_at)
    WHERE active AND status IN ('assigned', 'accepted');

ALTER TABLE problem_events DROP CONSTRAINT problem_events_type_known;
ALTER TABLE problem_events ADD CONSTRAINT problem_events_type_known CHECK (event_type IN (
    'submitted', 'triaged', 'merged', 'merged_in', 'assigned', 'accepted', 'returned', 'responded',
    'resolved_on_site', 'evaluated', 'reopened', 'closed', 'extension_requested',
    'extension_approved', 'extension_refused', 'escalated',
    'co_accepted', 'co_opinion', 'co_returned')) NOT VALID;
-- Checked apart from the swap: the table is only read while it is checked.
ALTER TABLE problem_events VALIDATE CONSTRAINT problem_events_type_known;
