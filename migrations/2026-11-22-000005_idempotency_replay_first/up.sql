-- A stored response is final: it is written in the same transaction as the work it answers.
-- So a repeat that finds one replays it at once, without the key's lock; only a key with no
-- response yet is locked (and reported busy while another request holds it). This lets a
-- burst of resends of a sign-in, written in one statement outside this lock, all replay the
-- first answer instead of some being told to retry.
CREATE OR REPLACE FUNCTION idempotency_claim(p_user UUID, p_key TEXT)
RETURNS TABLE (locked BOOLEAN, request_hash TEXT, status_code SMALLINT, response_body BYTEA)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN QUERY
        SELECT TRUE, r.request_hash, r.status_code, r.response_body
          FROM idempotency_records r
         WHERE r.user_id = p_user AND r.key = p_key;
    IF FOUND THEN
        RETURN;
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtextextended('idempotency:' || p_user || ':' || p_key, 7411)) THEN
        RETURN QUERY SELECT FALSE, NULL::TEXT, NULL::SMALLINT, NULL::BYTEA;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT TRUE, r.request_hash, r.status_code, r.response_body
          FROM (SELECT 1) AS one
          LEFT JOIN idempotency_records r ON r.user_id = p_user AND r.key = p_key;
END $$;
