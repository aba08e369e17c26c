-- The evening's common case, in one statement: an officer's first filing of the day's report
-- for an enterprise, with the problems it raises and the key's record (`reports::first_filing`).
-- The caller has made the ids and the 201's body; this checks and writes, or writes nothing and
-- says why, and the caller then takes the transactional path (`reports::file`), which answers
-- every other case (a revision, a refusal, a replay) as before:
--   no_enterprise   no such enterprise
--   not_assigned    the officer is not assigned to the enterprise that day
--   stored          the key was used before (the transactional path replays or refuses)
--   key_taken       another request holds the key right now
--   filed_before    the officer's report of that day exists (the transactional path revises it)
--   filed <path>    the report, its first revision, its problems, their timelines and the
--                   key's record are written; <path> is the enterprise's region path
-- Only `filed` leaves rows behind. Called as one statement, so it is one transaction; it answers
-- one word (not a row) so that the call is a prepared statement the connection keeps.
--
-- p_problems is a JSON array of the problems to file, distinct by description_hash, each
-- {id, title, description, description_hash, category, urgency, departments_requested,
-- suggested_category, confidence}.
--
-- The living definition: `db::migrate` installs this file after the migrations (CREATE OR
-- REPLACE); a change of its body is made here. A change of its arguments or of its result
-- columns also needs a migration that drops the old function.
CREATE OR REPLACE FUNCTION report_first_filing(
    p_id UUID, p_officer UUID, p_enterprise UUID, p_day DATE, p_at TIMESTAMPTZ,
    p_work_done TEXT, p_status TEXT, p_capacity SMALLINT, p_on_duty INTEGER, p_total INTEGER,
    p_shortage INTEGER, p_difficulties TEXT, p_body JSONB, p_problems JSONB,
    p_key TEXT, p_hash TEXT, p_response BYTEA)
RETURNS TEXT
LANGUAGE plpgsql VOLATILE
-- One plan per statement for the connection's life: pruned to the day's partition when it runs.
-- Left to choose, PostgreSQL planned the revision's foreign-key check against the partitioned
-- daily_reports again at every call (a plan by `day` prunes at planning, so it always looked
-- cheaper than the generic one); 0.2 ms of planning a report (issue 18's morning on partitions).
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    at_region TEXT;
    at_region_path TEXT;
BEGIN
    SELECT e.region_code, r.path INTO at_region, at_region_path
      FROM enterprises e JOIN regions r ON r.code = e.region_code
     WHERE e.id = p_enterprise;
    IF NOT FOUND THEN
        RETURN 'no_enterprise';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM assignments s
                    WHERE s.officer_id = p_officer AND s.enterprise_id = p_enterprise
                      AND s.start_day <= p_day AND (s.end_day IS NULL OR s.end_day >= p_day)) THEN
        RETURN 'not_assigned';
    END IF;
    IF p_key IS NOT NULL THEN
        -- The transactional path's claim (idempotency_claim): a request with the same key that
        -- is running there or here makes this one step aside.
        IF NOT pg_try_advisory_xact_lock(hashtextextended('idempotency:' || p_officer || ':' || p_key, 7411)) THEN
            RETURN 'key_taken';
        END IF;
        IF EXISTS (SELECT 1 FROM idempotency_records k WHERE k.user_id = p_officer AND k.key = p_key) THEN
            RETURN 'stored';
        END IF;
        INSERT INTO idempotency_records (user_id, key, request_hash, status_code, response_body, created_at)
        VALUES (p_officer, p_key, p_hash, 201, p_response, p_at)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            RETURN 'key_taken';
        END IF;
    END IF;
    INSERT INTO daily_reports (id, officer_id, enterprise_id, region_code, day, revision, work_done,
                               production_status, capacity_pct, staff_on_duty, staff_total,
                               staff_shortage, difficulties, submitted_at, updated_at)
    VALUES (p_id, p_officer, p_enterprise, at_region, p_day, 1, p_work_done, p_status, p_capacity,
            p_on_duty, p_total, p_shortage, p_difficulties, p_at, p_at)
    ON CONFLICT ON CONSTRAINT daily_reports_one_per_day DO NOTHING;
    IF NOT FOUND THEN
        -- The key's record goes with the report it would have answered.
        DELETE FROM idempotency_records WHERE user_id = p_officer AND key = p_key;
        RETURN 'filed_before';
    END IF;
    INSERT INTO daily_report_revisions (report_id, day, revision, author_id, at, body, changed_fields)
    VALUES (p_id, p_day, 1, p_officer, p_at, p_body, '{}');
    INSERT INTO problems (id, enterprise_id, region_code, reporter_id, reporter_role, source_report_id,
                          description_hash, title, description, category, urgency,
                          departments_requested, status, suggested_category, confidence,
                          created_at, updated_at)
    SELECT x.id, p_enterprise, at_region, p_officer, 'officer', p_id, x.description_hash, x.title,
           x.description, x.category, x.urgency, x.departments_requested, 'submitted',
           x.suggested_category, x.confidence, p_at, p_at
      FROM jsonb_to_recordset(p_problems) AS x(id UUID, title TEXT, description TEXT,
           description_hash TEXT, category TEXT, urgency TEXT, departments_requested UUID[],
           suggested_category TEXT, confidence DOUBLE PRECISION);
    INSERT INTO problem_events (problem_id, event_type, actor_id, actor_role, at)
    SELECT x.id, 'submitted', p_officer, 'officer', p_at
      FROM jsonb_to_recordset(p_problems) AS x(id UUID)
     ORDER BY x.id;
    RETURN 'filed ' || at_region_path;
END $$;
