-- The hub (驻企办): problem categories, the working-day calendar, the lifecycle columns of a
-- problem (triage, lease, assignment and deadlines, response, rating, closing), deadline
-- extensions, escalations and the notification outbox.

-- 问题类别: what the hub sorts problems into, each with the department that usually handles
-- it and how many working days it gets (normal and urgent).
CREATE TABLE categories (
    code                    TEXT PRIMARY KEY CONSTRAINT categories_code_format CHECK (code ~ '^[a-z][a-z_]{1,31}$'),
    name                    TEXT NOT NULL CONSTRAINT categories_name_not_blank CHECK (btrim(name) <> ''),
    keywords                TEXT[] NOT NULL DEFAULT '{}',
    default_department_id   UUID REFERENCES units (id),
    due_working_days        INTEGER NOT NULL CONSTRAINT categories_due_range CHECK (due_working_days BETWEEN 1 AND 250),
    urgent_due_working_days INTEGER NOT NULL,
    sort_order              INTEGER NOT NULL DEFAULT 0,
    -- Categories are never deleted (problems keep their code); retired ones are inactive.
    active                  BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT categories_urgent_range CHECK (urgent_due_working_days BETWEEN 1 AND due_working_days)
);
CREATE TRIGGER categories_updated_at BEFORE UPDATE ON categories FOR EACH ROW EXECUTE FUNCTION set_updated_at();

INSERT INTO categories (code, name, keywords, due_working_days, urgent_due_working_days, sort_order) VALUES
    ('financing',      '融资贷款', '{贷款,融资,银行,授信,抵押,担保,续贷}',            15, 5, 1),
    ('labor',          '用工人才', '{招工,用工,人才,技工,培训,社保}',                 15, 5, 2),
    ('cost_reduction', '降本减负', '{租金,减免,收费,社保缓缴,降费}',                    15, 5, 3),
    ('policy',         '政策落实', '{补贴,奖补,税收优惠,政策,申报,兑现}',              15, 5, 4),
    ('approval',       '审批办证', '{审批,许可证,办证,环评,用地,消防验收,规划}',        10, 3, 5),
    ('utilities',      '水电气暖', '{用电,供电,停电,供水,燃气,供暖,增容}',             5, 2, 6),
    ('logistics',      '物流交通', '{物流,运输,货车,限行,道路,交通}',                  10, 3, 7),
    ('supply_chain',   '原料供应', '{原材料,原料,供应,断供,涨价,芯片}',                10, 3, 8),
    ('market',         '市场销售', '{订单,销售,市场,展会,出口,销路}',                  15, 5, 9),
    ('epidemic',       '疫情防控', '{疫情,防疫,核酸,隔离,复工}',                        3, 1, 10),
    ('safety',         '安全生产', '{安全,隐患,事故,危化品,消防}',                      5, 2, 11),
    ('dispute',        '矛盾纠纷', '{纠纷,欠款,拖欠,欠薪,合同,侵权,商标}',             15, 5, 12),
    ('other',          '其他',     '{}',                                                15, 5, 13);

-- 工作日历: each year's official schedule. The service installs the schedules it ships
-- (2020–2026, from the State Council notices) for years that are not here yet; an admin
-- uploads later years with PUT /calendar/{year}. Every change takes a new version from the
-- sequence, and each assignment records the version its deadlines were counted with.
CREATE SEQUENCE calendar_version_seq;
CREATE TABLE calendar_years (
    year       INTEGER PRIMARY KEY CONSTRAINT calendar_years_range CHECK (year BETWEEN 2000 AND 2100),
    version    BIGINT NOT NULL DEFAULT nextval('calendar_version_seq'),
    notice     TEXT NOT NULL,
    source     TEXT NOT NULL CONSTRAINT calendar_years_source_known CHECK (source IN ('shipped', 'uploaded')),
    updated_by UUID REFERENCES users (id),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The days that differ from Monday–Friday: holidays and make-up workdays (调休). A schedule may
-- reach into the neighbouring year (元旦 2023 began on 2022-12-31), so days are keyed by the
-- schedule they belong to.
CREATE TABLE calendar_days (
    year INTEGER NOT NULL REFERENCES calendar_years (year) ON DELETE CASCADE,
    day  DATE NOT NULL,
    kind TEXT NOT NULL CONSTRAINT calendar_days_kind_known CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL CONSTRAINT calendar_days_name_not_blank CHECK (btrim(name) <> ''),
    PRIMARY KEY (year, day)
);

-- The lifecycle of a problem. Each column is written by the transition named beside it.
ALTER TABLE problems
    ADD COLUMN triaged_at           TIMESTAMPTZ,                       -- triage
    ADD COLUMN lease_holder_id      UUID REFERENCES users (id),        -- claim
    ADD COLUMN lease_expires_at     TIMESTAMPTZ,
    ADD COLUMN department_id        UUID REFERENCES units (id),        -- assign
    ADD COLUMN assigned_at          TIMESTAMPTZ,
    ADD COLUMN instructions         TEXT,
    ADD COLUMN due_working_days     INTEGER,
    ADD COLUMN contact_due_at       TIMESTAMPTZ,
    ADD COLUMN due_at               TIMESTAMPTZ,
    ADD COLUMN calendar_version     BIGINT,
    ADD COLUMN calendar_provisional BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN contacted_at         TIMESTAMPTZ,                       -- accept (signing for it counts as contact)
    ADD COLUMN responded_at         TIMESTAMPTZ,                       -- respond, resolve on site
    ADD COLUMN outcome              TEXT CONSTRAINT problems_outcome_known
                                        CHECK (outcome IN ('resolved', 'explained', 'long_term', 'resolved_on_site')),
    ADD COLUMN resolution           TEXT,
    ADD COLUMN rating               TEXT CONSTRAINT problems_rating_known
                                        CHECK (rating IN ('satisfied', 'basically_satisfied', 'dissatisfied')),
    ADD COLUMN rating_comment       TEXT,
    ADD COLUMN evaluated_at         TIMESTAMPTZ,
    ADD COLUMN closed_at            TIMESTAMPTZ,                       -- close, resolve on site
    ADD COLUMN merged_into_id       UUID REFERENCES problems (id),     -- merge
    -- How many times the enterprise rated a response dissatisfied.
    ADD COLUMN reopen_count         INTEGER NOT NULL DEFAULT 0,
    -- Each assignment or reopening starts a new round of deadlines, escalated on its own.
    ADD COLUMN deadline_round       INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN escalation_level     SMALLINT NOT NULL DEFAULT 0 CONSTRAINT problems_escalation_range CHECK (escalation_level BETWEEN 0 AND 3),
    ADD CONSTRAINT problems_status_known CHECK (status IN ('submitted', 'triaged', 'assigned', 'in_progress', 'returned',
        'responded', 'evaluated', 'reopened', 'closed', 'merged')),
    ADD CONSTRAINT problems_category_known FOREIGN KEY (category) REFERENCES categories (code),
    ADD CONSTRAINT problems_not_merged_into_itself CHECK (merged_into_id <> id);

-- The hub's queue: urgent first ('urgent' sorts after 'normal', hence DESC), then oldest.
CREATE INDEX problems_queue_idx ON problems (urgency DESC, created_at, id) WHERE status IN ('submitted', 'returned');
-- What a claim scans: queue items nobody holds. Leased items drop out of this index, so a
-- claim never wades through thousands of rows that other dispatchers hold.
CREATE INDEX problems_queue_free_idx ON problems (urgency DESC, created_at, id)
    WHERE status IN ('submitted', 'returned') AND lease_holder_id IS NULL;
-- Leases to hand back once they run out.
CREATE INDEX problems_lease_expiry_idx ON problems (lease_expires_at) WHERE lease_holder_id IS NOT NULL;
-- What the escalation job scans: problems waiting on a department.
CREATE INDEX problems_waiting_idx ON problems (contact_due_at) WHERE status IN ('assigned', 'in_progress', 'reopened');
CREATE INDEX problems_department_idx ON problems (department_id, created_at DESC) WHERE department_id IS NOT NULL;

-- Structured facts of an event (the department, the deadlines, the level), beside the note.
ALTER TABLE problem_events ADD COLUMN details JSONB;

-- 延期: a department asks for a later due date; a dispatcher decides. One pending at a time.
CREATE TABLE problem_extensions (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    problem_id       UUID NOT NULL REFERENCES problems (id),
    requested_by     UUID NOT NULL REFERENCES users (id),
    requested_at     TIMESTAMPTZ NOT NULL,
    previous_due_at  TIMESTAMPTZ NOT NULL,
    requested_due_at TIMESTAMPTZ NOT NULL,
    reason           TEXT NOT NULL CONSTRAINT problem_extensions_reason_not_blank CHECK (btrim(reason) <> ''),
    status           TEXT NOT NULL DEFAULT 'pending' CONSTRAINT problem_extensions_status_known
                         CHECK (status IN ('pending', 'approved', 'refused')),
    decided_by       UUID REFERENCES users (id),
    decided_at       TIMESTAMPTZ,
    decision_note    TEXT,
    CONSTRAINT problem_extensions_later CHECK (requested_due_at > previous_due_at)
);
CREATE UNIQUE INDEX problem_extensions_one_pending ON problem_extensions (problem_id) WHERE status = 'pending';
CREATE INDEX problem_extensions_problem_idx ON problem_extensions (problem_id, requested_at);

-- 督办: one row per problem, deadline round and level — the key is what makes a second
-- run of the job, or a second instance, change nothing.
CREATE TABLE problem_escalations (
    problem_id   UUID NOT NULL REFERENCES problems (id),
    round        INTEGER NOT NULL,
    level        SMALLINT NOT NULL CONSTRAINT problem_escalations_level_range CHECK (level BETWEEN 1 AND 3),
    reason       TEXT NOT NULL CONSTRAINT problem_escalations_reason_known CHECK (reason IN ('contact_overdue', 'response_overdue', 'still_overdue')),
    escalated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (problem_id, round, level)
);

-- Messages to send (WeChat subscribe messages, SMS) written in the same transaction as the
-- change they announce; a later sender delivers them with retries.
CREATE TABLE notification_outbox (
    id                BIGSERIAL PRIMARY KEY,
    kind              TEXT NOT NULL,
    problem_id        UUID REFERENCES problems (id),
    -- Who should hear of it: a unit (a department, its leadership, a dispatching unit, the hub).
    recipient_unit_id UUID REFERENCES units (id),
    audience          TEXT NOT NULL,
    payload           JSONB NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    sent_at           TIMESTAMPTZ,
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT
);
CREATE INDEX notification_outbox_unsent_idx ON notification_outbox (created_at) WHERE sent_at IS NULL;
