-- Roster files the console checked (a dry run) and holds until the admin confirms the import,
-- so the file is not chosen and sent twice. Only the admin who checked it may import it; the
-- pruning job deletes what is older than an hour.
CREATE TABLE console_uploads (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL,
    file_name  TEXT NOT NULL,
    bytes      BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_uploads_created_idx ON console_uploads (created_at);
