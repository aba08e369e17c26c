-- Back to one table each, with the keys they had before.
DROP FUNCTION IF EXISTS create_month_partition(TEXT, DATE);

CREATE FUNCTION pg_temp.unpartition(tbl TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    old TEXT := tbl || '_partitioned';
    seq RECORD;
BEGIN
    EXECUTE format('ALTER TABLE %I RENAME TO %I', tbl, old);
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE '
                   'INCLUDING COMMENTS)', tbl, old);
    EXECUTE format('INSERT INTO %I SELECT * FROM %I', tbl, old);
    FOR seq IN SELECT a.attname, pg_get_serial_sequence(old, a.attname) AS name
                 FROM pg_attribute a
                WHERE a.attrelid = old::regclass AND a.attnum > 0 AND NOT a.attisdropped
                  AND pg_get_serial_sequence(old, a.attname) IS NOT NULL
    LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNED BY %I.%I', seq.name, tbl, seq.attname);
    END LOOP;
    EXECUTE format('DROP TABLE %I', old);
END $$;

ALTER TABLE daily_report_revisions DROP CONSTRAINT daily_report_revisions_report_id_fkey;

SELECT pg_temp.unpartition('sign_ins');
ALTER TABLE sign_ins ADD CONSTRAINT sign_ins_pkey PRIMARY KEY (id);
ALTER TABLE sign_ins ADD CONSTRAINT sign_ins_one_per_day UNIQUE (officer_id, enterprise_id, day);
CREATE INDEX sign_ins_day_region_idx ON sign_ins (day, region_code);

SELECT pg_temp.unpartition('daily_reports');
ALTER TABLE daily_reports ADD CONSTRAINT daily_reports_pkey PRIMARY KEY (id);
ALTER TABLE daily_reports ADD CONSTRAINT daily_reports_one_per_day UNIQUE (officer_id, enterprise_id, day);
ALTER TABLE daily_reports ADD CONSTRAINT daily_reports_officer_id_fkey FOREIGN KEY (officer_id) REFERENCES users (id);
ALTER TABLE daily_reports ADD CONSTRAINT daily_reports_enterprise_id_fkey FOREIGN KEY (enterprise_id) REFERENCES enterprises (id);
CREATE INDEX daily_reports_day_region_idx ON daily_reports (day, region_code);
CREATE INDEX daily_reports_enterprise_day_idx ON daily_reports (enterprise_id, day);

SELECT pg_temp.unpartition('daily_report_revisions');
ALTER TABLE daily_report_revisions DROP COLUMN day;
ALTER TABLE daily_report_revisions ADD CONSTRAINT daily_report_revisions_pkey PRIMARY KEY (report_id, revision);
ALTER TABLE daily_report_revisions ADD CONSTRAINT daily_report_revisions_report_id_fkey
    FOREIGN KEY (report_id) REFERENCES daily_reports (id);
ALTER TABLE daily_report_revisions ADD CONSTRAINT daily_report_revisions_author_id_fkey
    FOREIGN KEY (author_id) REFERENCES users (id);
ALTER TABLE problems ADD CONSTRAINT problems_source_report_id_fkey
    FOREIGN KEY (source_report_id) REFERENCES daily_reports (id);
ALTER TABLE attachments ADD CONSTRAINT attachments_report_id_fkey
    FOREIGN KEY (report_id) REFERENCES daily_reports (id);

SELECT pg_temp.unpartition('problem_events');
ALTER TABLE problem_events ADD CONSTRAINT problem_events_pkey PRIMARY KEY (id);
ALTER TABLE problem_events ADD CONSTRAINT problem_events_problem_id_fkey FOREIGN KEY (problem_id) REFERENCES problems (id);
ALTER TABLE problem_events ADD CONSTRAINT problem_events_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES users (id);
CREATE INDEX problem_events_problem_idx ON problem_events (problem_id, id);
CREATE TRIGGER problem_events_append_only BEFORE UPDATE OR DELETE ON problem_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

SELECT pg_temp.unpartition('audit_log');
ALTER TABLE audit_log ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES users (id);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

SELECT pg_temp.unpartition('idempotency_records');
ALTER TABLE idempotency_records ADD CONSTRAINT idempotency_records_pkey PRIMARY KEY (user_id, key);
