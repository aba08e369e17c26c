-- The tables that grow with every day of use are partitioned by month (PostgreSQL's declarative
-- partitioning): a province's year is ~6 M sign-ins and ~6 M reports, and a month's partition
-- is created ahead of time (`db::partitions::ensure`, the daily `partitions` job), read only by
-- the queries about that month, and detached and archived whole once it is old
-- (docs/scaling.md). Each table keeps every row it had, and a DEFAULT partition takes a row
-- whose month has no partition (a far-future clock in a test, a row written before the job
-- ran), so no write ever fails for want of a partition.
--
-- A partitioned table's unique keys must contain its partition key:
--   sign_ins, daily_reports   (id, day); one per officer, enterprise and day holds as before
--   daily_report_revisions    carries its report's day (partitioned like the reports, so a
--                             month of reports and of their revisions go together), and its
--                             key to the report, (report_id, day), still holds
--   problem_events, audit_log (id, at); ids come from their sequences as before
--   idempotency_records       (user_id, key, created_at); one record per (user, key) is kept by
--                             the transaction-scoped advisory lock every writer of a key takes
--                             before looking it up (idempotency_claim, sign_ins_at_once,
--                             report_first_filing), which already made the key's claim
-- Problems and attachments outlive the month of the report they came from: their reference
-- to it is kept, without a foreign key, so that an archived month can be detached.
--
-- This migration copies each table into its partitioned successor in one transaction: a
-- city's 90 days take about a minute (docs/scaling.md); deploy it in a quiet hour.

ALTER TABLE daily_report_revisions ADD COLUMN day DATE;
UPDATE daily_report_revisions r SET day = d.day FROM daily_reports d WHERE d.id = r.report_id;
ALTER TABLE daily_report_revisions ALTER COLUMN day SET NOT NULL;
COMMENT ON COLUMN daily_report_revisions.day IS
    'The report''s day: the partition key, shared with daily_reports so that their months go together.';

ALTER TABLE daily_report_revisions DROP CONSTRAINT daily_report_revisions_report_id_fkey;
ALTER TABLE problems DROP CONSTRAINT problems_source_report_id_fkey;
ALTER TABLE attachments DROP CONSTRAINT attachments_report_id_fkey;

-- One month's partition, named and bounded as create_month_partition (src/db/sql) makes them.
CREATE FUNCTION pg_temp.month_partition(tbl TEXT, key_column TEXT, instant BOOLEAN, m DATE)
RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    IF instant THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       tbl || '_p' || to_char(m, 'YYYY_MM'), tbl,
                       (m::timestamp AT TIME ZONE 'Asia/Shanghai')::text,
                       ((m + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai')::text);
    ELSE
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       tbl || '_p' || to_char(m, 'YYYY_MM'), tbl, m::text, (m + interval '1 month')::date::text);
    END IF;
END $$;

-- Replaces `tbl` by a table partitioned by month on `key_column`, with the same columns,
-- defaults, checks and comments, a partition for every month it holds rows of (China-local
-- months), a default partition, and its rows. Keys, indexes, foreign keys and triggers are
-- made after, by name.
CREATE FUNCTION pg_temp.partition_by_month(tbl TEXT, key_column TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    old TEXT := tbl || '_unpartitioned';
    instant BOOLEAN;
    m DATE;
    seq RECORD;
BEGIN
    SELECT atttypid = 'timestamptz'::regtype INTO instant
      FROM pg_attribute WHERE attrelid = tbl::regclass AND attname = key_column;
    EXECUTE format('ALTER TABLE %I RENAME TO %I', tbl, old);
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE '
                   'INCLUDING COMMENTS) PARTITION BY RANGE (%I)', tbl, old, key_column);
    FOR m IN EXECUTE format(
        CASE WHEN instant
             THEN 'SELECT DISTINCT date_trunc(''month'', %I AT TIME ZONE ''Asia/Shanghai'')::date FROM %I'
             ELSE 'SELECT DISTINCT date_trunc(''month'', %I)::date FROM %I' END, key_column, old)
    LOOP
        PERFORM pg_temp.month_partition(tbl, key_column, instant, m);
    END LOOP;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', tbl || '_default', tbl);
    EXECUTE format('INSERT INTO %I SELECT * FROM %I', tbl, old);
    -- A serial column's sequence belongs to the old table and would go with it.
    FOR seq IN SELECT a.attname, pg_get_serial_sequence(old, a.attname) AS name
                 FROM pg_attribute a
                WHERE a.attrelid = old::regclass AND a.attnum > 0 AND NOT a.attisdropped
                  AND pg_get_serial_sequence(old, a.attname) IS NOT NULL
    LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNED BY %I.%I', seq.name, tbl, seq.attname);
    END LOOP;
    EXECUTE format('DROP TABLE %I', old);
END $$;

SELECT pg_temp.partition_by_month('sign_ins', 'day');
ALTER TABLE sign_ins ADD CONSTRAINT sign_ins_pkey PRIMARY KEY (id, day);
ALTER TABLE sign_ins ADD CONSTRAINT sign_ins_one_per_day UNIQUE (officer_id, enterprise_id, day);
CREATE INDEX sign_ins_day_region_idx ON sign_ins (day, region_code);

SELECT pg_temp.partition_by_month('daily_reports', 'day');
ALTER TABLE daily_reports ADD CONSTRAINT daily_reports_pkey PRIMARY KEY (id, day);
ALTER TABLE daily_reports ADD CONSTRAINT daily_reports_one_per_day UNIQUE (officer_id, enterprise_id, day);
ALTER TABLE daily_reports ADD CONSTRAINT daily_reports_officer_id_fkey FOREIGN KEY (officer_id) REFERENCES users (id);
ALTER TABLE daily_reports ADD CONSTRAINT daily_reports_enterprise_id_fkey FOREIGN KEY (enterprise_id) REFERENCES enterprises (id);
CREATE INDEX daily_reports_day_region_idx ON daily_reports (day, region_code);
CREATE INDEX daily_reports_enterprise_day_idx ON daily_reports (enterprise_id, day);

SELECT pg_temp.partition_by_month('daily_report_revisions', 'day');
ALTER TABLE daily_report_revisions ADD CONSTRAINT daily_report_revisions_pkey PRIMARY KEY (report_id, revision, day);
ALTER TABLE daily_report_revisions ADD CONSTRAINT daily_report_revisions_report_id_fkey
    FOREIGN KEY (report_id, day) REFERENCES daily_reports (id, day);
ALTER TABLE daily_report_revisions ADD CONSTRAINT daily_report_revisions_author_id_fkey
    FOREIGN KEY (author_id) REFERENCES users (id);

SELECT pg_temp.partition_by_month('problem_events', 'at');
ALTER TABLE problem_events ADD CONSTRAINT problem_events_pkey PRIMARY KEY (id, at);
ALTER TABLE problem_events ADD CONSTRAINT problem_events_problem_id_fkey FOREIGN KEY (problem_id) REFERENCES problems (id);
ALTER TABLE problem_events ADD CONSTRAINT problem_events_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES users (id);
CREATE INDEX problem_events_problem_idx ON problem_events (problem_id, id);
CREATE TRIGGER problem_events_append_only BEFORE UPDATE OR DELETE ON problem_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

SELECT pg_temp.partition_by_month('audit_log', 'at');
ALTER TABLE audit_log ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id, at);
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES users (id);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

SELECT pg_temp.partition_by_month('idempotency_records', 'created_at');
ALTER TABLE idempotency_records ADD CONSTRAINT idempotency_records_pkey PRIMARY KEY (user_id, key, created_at);

ANALYZE sign_ins, daily_reports, daily_report_revisions, problem_events, audit_log, idempotency_records;
