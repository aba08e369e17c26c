-- 交办编号: each problem gets a number at its first assignment, per region and year, without
-- gaps: the counter row is taken with the assignment's transaction (and given back by its
-- rollback), so concurrent assignments wait for each other here and none skips a number.
CREATE TABLE problem_number_counters (
    region_code TEXT NOT NULL REFERENCES regions (code),
    year        INTEGER NOT NULL,
    last        INTEGER NOT NULL CONSTRAINT problem_number_counters_positive CHECK (last > 0),
    PRIMARY KEY (region_code, year)
);
ALTER TABLE problems ADD COLUMN number TEXT;
CREATE UNIQUE INDEX problems_number_key ON problems (number);

-- 交办会: many problems assigned in one sitting; each department receives its 交办单 listing
-- what the meeting gave it, as the meeting gave it (the items keep the assignment as made).
CREATE TABLE assignment_batches (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    region_code TEXT NOT NULL REFERENCES regions (code),
    title       TEXT NOT NULL CONSTRAINT assignment_batches_title_not_blank CHECK (btrim(title) <> ''),
    created_by  UUID NOT NULL REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL,
    item_count  INTEGER NOT NULL
);
CREATE INDEX assignment_batches_region_created_idx ON assignment_batches (region_code, created_at DESC, id DESC);

CREATE TABLE assignment_batch_items (
    batch_id        UUID NOT NULL REFERENCES assignment_batches (id),
    position        INTEGER NOT NULL,
    problem_id      UUID NOT NULL REFERENCES problems (id),
    number          TEXT NOT NULL,
    department_id   UUID NOT NULL REFERENCES units (id),
    co_handler_ids  UUID[] NOT NULL DEFAULT '{}',
    instructions    TEXT,
    contact_due_at  TIMESTAMPTZ NOT NULL,
    due_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (batch_id, position)
);
CREATE INDEX assignment_batch_items_problem_idx ON assignment_batch_items (problem_id);
