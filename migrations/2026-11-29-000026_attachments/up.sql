-- 附件: photos and documents on problems and reports. The bytes live in the object store
-- (`attachments::store`) under `object_key` (and `thumbnail_key` for photos); this row says what
-- they are, who uploaded them and what they belong to. An upload is attached to at most one
-- problem or report, by whom in which role; one never attached within 24 hours is removed by
-- `jobs::prune_attachments`.
CREATE TABLE attachments (
    id             UUID PRIMARY KEY,
    uploaded_by    UUID NOT NULL REFERENCES users (id),
    media_type     TEXT NOT NULL
        CONSTRAINT attachments_media_type_known CHECK (media_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    file_name      TEXT NOT NULL CONSTRAINT attachments_file_name_length CHECK (char_length(file_name) BETWEEN 1 AND 120),
    byte_size      INTEGER NOT NULL CONSTRAINT attachments_byte_size_positive CHECK (byte_size > 0),
    -- SHA-256 of the stored bytes, hex: the download's ETag, and what an operator compares
    -- against the store.
    sha256         TEXT NOT NULL CONSTRAINT attachments_sha256_hex CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    object_key     TEXT NOT NULL UNIQUE,
    thumbnail_key  TEXT UNIQUE,
    width          INTEGER,
    height         INTEGER,
    uploaded_at    TIMESTAMPTZ NOT NULL,
    problem_id     UUID REFERENCES problems (id),
    report_id      UUID REFERENCES daily_reports (id),
    attached_role  TEXT CONSTRAINT attachments_attached_role_known
        CHECK (attached_role IN ('officer', 'enterprise', 'department', 'unit_admin', 'dispatcher', 'admin')),
    attached_at    TIMESTAMPTZ,
    CONSTRAINT attachments_one_target CHECK (problem_id IS NULL OR report_id IS NULL),
    CONSTRAINT attachments_attached_whole CHECK (
        (attached_at IS NULL) = (problem_id IS NULL AND report_id IS NULL)
        AND (attached_at IS NULL) = (attached_role IS NULL)
    ),
    CONSTRAINT attachments_photo_size CHECK ((width IS NULL) = (height IS NULL))
);
CREATE INDEX attachments_problem_idx ON attachments (problem_id, attached_at) WHERE problem_id IS NOT NULL;
CREATE INDEX attachments_report_idx ON attachments (report_id, attached_at) WHERE report_id IS NOT NULL;
-- The uploads still waiting: counted per uploader, pruned by age.
CREATE INDEX attachments_pending_idx ON attachments (uploaded_by, uploaded_at) WHERE attached_at IS NULL;
CREATE INDEX attachments_pending_age_idx ON attachments (uploaded_at) WHERE attached_at IS NULL;
