-- Notifications that leave the server (issue 13). Three stages, each its own table:
--   notification_outbox      what happened, written in the transaction of the change (an event);
--   notifications            the inbox: one row per recipient, made from an event;
--   notification_deliveries  one row per push (a WeChat subscribe message, a group robot post),
--                            sent and retried by the delivery worker.

-- The kinds, once, for the tables that name one.
CREATE TABLE notification_kinds (kind TEXT PRIMARY KEY);
INSERT INTO notification_kinds (kind) VALUES
    ('problem.assigned'), ('problem.contact_due'), ('problem.due_soon'), ('problem.escalated'),
    ('problem.responded'), ('problem.returned'), ('extension.requested'), ('extension.decided'),
    ('officer.sign_in_missing'), ('officer.report_missing'), ('unit.missing_digest'), ('region.daily_figures');

-- The outbox's events: addressed to a unit (with an audience), a user, or the hub over a region.
ALTER TABLE notification_outbox RENAME COLUMN sent_at TO expanded_at;
ALTER TABLE notification_outbox DROP COLUMN attempts, DROP COLUMN last_error;
ALTER TABLE notification_outbox
    ADD COLUMN recipient_user_id UUID REFERENCES users (id),
    ADD COLUMN region_code TEXT,
    -- A job's event carries the key of what it announces (one reminder per officer and day),
    -- so a second run, or a second instance, adds nothing.
    ADD COLUMN dedupe_key TEXT UNIQUE;
UPDATE notification_outbox o SET region_code = p.region_code FROM problems p WHERE p.id = o.problem_id;
-- Events written before anything delivered them: a day old or more is news nobody needs now.
UPDATE notification_outbox SET expanded_at = now() WHERE created_at < now() - interval '1 day';
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_audience_known CHECK (audience IN (
    'department', 'department_leadership', 'dispatching_unit', 'hub_leadership', 'hub',
    'enterprise_side', 'user', 'unit_admins'));
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_kind_known
    FOREIGN KEY (kind) REFERENCES notification_kinds (kind);
DROP INDEX notification_outbox_unsent_idx;
CREATE INDEX notification_outbox_pending_idx ON notification_outbox (id) WHERE expanded_at IS NULL;

-- The inbox.
CREATE TABLE notifications (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id),
    event_id    BIGINT NOT NULL REFERENCES notification_outbox (id),
    kind        TEXT NOT NULL REFERENCES notification_kinds (kind),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    -- What it is about: {"type": "problem", "id": …} or {"type": "daily_report", "day": …}.
    link        JSONB,
    created_at  TIMESTAMPTZ NOT NULL,
    read_at     TIMESTAMPTZ,
    UNIQUE (event_id, user_id)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id, created_at DESC, id DESC) WHERE read_at IS NULL;

-- Pushes. `id` is also the idempotency id the receiver can see (at-least-once delivery).
CREATE TABLE notification_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    event_id        BIGINT NOT NULL REFERENCES notification_outbox (id),
    notification_id UUID REFERENCES notifications (id),
    channel         TEXT NOT NULL CONSTRAINT notification_deliveries_channel_known CHECK (channel IN ('wechat', 'robot')),
    user_id         UUID REFERENCES users (id),
    unit_id         UUID REFERENCES units (id),
    kind            TEXT NOT NULL REFERENCES notification_kinds (kind),
    -- What is sent, rendered when the event was expanded: for WeChat the template id, page
    -- and data; for a robot the title and markdown.
    message         JSONB NOT NULL,
    urgent          BOOLEAN NOT NULL DEFAULT false,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CONSTRAINT notification_deliveries_status_known
                    CHECK (status IN ('pending', 'sent', 'dead', 'unsubscribed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    -- Claimed by a sender until then; a sender that died gives it back when it passes.
    leased_until    TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    CHECK ((channel = 'wechat') = (user_id IS NOT NULL)),
    CHECK ((channel = 'robot') = (unit_id IS NOT NULL))
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX notification_deliveries_event_idx ON notification_deliveries (event_id);

-- Which WeChat subscribe-message template carries each kind, and how its fields are filled.
CREATE TABLE notification_templates (
    kind        TEXT PRIMARY KEY REFERENCES notification_kinds (kind),
    template_id TEXT NOT NULL,
    -- The mini-program page the message opens (`{problem_id}` and `{day}` are filled in).
    page        TEXT,
    -- Template key → the message's value that fills it: {"thing1": "title", "time2": "due_at"}.
    fields      JSONB NOT NULL,
    -- Long-term subscriptions (government service mini-programs) need no acceptance per send.
    long_term   BOOLEAN NOT NULL DEFAULT false,
    enabled     BOOLEAN NOT NULL DEFAULT true,
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  UUID REFERENCES users (id)
);

-- One-time subscriptions: each acceptance of `wx.requestSubscribeMessage` allows one send.
CREATE TABLE subscription_credits (
    user_id     UUID NOT NULL REFERENCES users (id),
    template_id TEXT NOT NULL,
    remaining   INTEGER NOT NULL CHECK (remaining >= 0),
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, template_id)
);

-- A unit's group robot. The webhook and secret are sealed (AES-256-GCM) and never answered.
CREATE TABLE unit_robots (
    unit_id        UUID PRIMARY KEY REFERENCES units (id),
    platform       TEXT NOT NULL CONSTRAINT unit_robots_platform_known CHECK (platform IN ('dingtalk', 'wecom')),
    webhook_sealed BYTEA NOT NULL,
    -- Shown to admins instead of the webhook: its host and the last four characters.
    webhook_hint   TEXT NOT NULL,
    secret_sealed  BYTEA,
    enabled        BOOLEAN NOT NULL DEFAULT true,
    updated_at     TIMESTAMPTZ NOT NULL,
    updated_by     UUID REFERENCES users (id)
);

-- Per-region switches and times; a region without a row takes its nearest ancestor's.
CREATE TABLE notification_settings (
    region_code        TEXT PRIMARY KEY REFERENCES regions (code),
    disabled_kinds     TEXT[] NOT NULL DEFAULT '{}',
    sign_in_reminder_at TIME NOT NULL DEFAULT '10:00',
    report_reminder_at TIME NOT NULL DEFAULT '19:00',
    digest_at          TIME NOT NULL DEFAULT '10:30',
    figures_at         TIME NOT NULL DEFAULT '18:00',
    updated_at         TIMESTAMPTZ NOT NULL,
    updated_by         UUID REFERENCES users (id)
);

-- What a user chose not to be pushed (non-mandatory kinds only; the inbox still gets them).
ALTER TABLE users ADD COLUMN muted_kinds TEXT[] NOT NULL DEFAULT '{}';

-- Which scheduled runs were made (a reminder, a digest, the figures) for a region and day:
-- the first instance to insert the row makes the run, any later one skips it.
CREATE TABLE notification_runs (
    job         TEXT NOT NULL,
    day         DATE NOT NULL,
    region_code TEXT NOT NULL,
    ran_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (job, day, region_code)
);
