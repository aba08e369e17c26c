CREATE OR REPLACE FUNCTION idempotency_claim(p_user UUID, p_key TEXT)
RETURNS TABLE (locked BOOLEAN, request_hash TEXT, status_code SMALLINT, response_body BYTEA)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended('idempotency:' || p_user || ':' || p_key, 7411)) THEN
        RETURN QUERY SELECT FALSE, NULL::TEXT, NULL::SMALLINT, NULL::BYTEA;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT TRUE, r.request_hash, r.status_code, r.response_body
          FROM (SELECT 1) AS one
          LEFT JOIN idempotency_records r ON r.user_id = p_user AND r.key = p_key;
END $$;
