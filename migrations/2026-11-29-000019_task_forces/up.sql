-- 专班 ("1+2+N"): a named team — one leader (a county leader), member departments (the heads
-- of two or more) and member officers — owning a set of key enterprises end to end. An
-- enterprise belongs to at most one task force; its problems show it, and its leader reads and
-- dispatches them as the hub does.
CREATE TABLE task_forces (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    region_code TEXT NOT NULL REFERENCES regions (code),
    name        TEXT NOT NULL CONSTRAINT task_forces_name_not_blank CHECK (btrim(name) <> ''),
    leader_id   UUID NOT NULL REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT task_forces_name_key UNIQUE (region_code, name)
);
CREATE INDEX task_forces_leader_idx ON task_forces (leader_id);
CREATE TABLE task_force_departments (
    task_force_id UUID NOT NULL REFERENCES task_forces (id),
    unit_id       UUID NOT NULL REFERENCES units (id),
    PRIMARY KEY (task_force_id, unit_id)
);
CREATE TABLE task_force_officers (
    task_force_id UUID NOT NULL REFERENCES task_forces (id),
    officer_id    UUID NOT NULL REFERENCES users (id),
    PRIMARY KEY (task_force_id, officer_id)
);
CREATE INDEX task_force_officers_officer_idx ON task_force_officers (officer_id);
CREATE TABLE task_force_enterprises (
    task_force_id UUID NOT NULL REFERENCES task_forces (id),
    enterprise_id UUID NOT NULL CONSTRAINT task_force_enterprises_one_each UNIQUE REFERENCES enterprises (id),
    PRIMARY KEY (task_force_id, enterprise_id)
);
