-- Claims an Idempotency-Key for the calling transaction and returns what is stored under it,
-- in one round trip (`IdempotencyRecord::claim`): the stored record if there is one;
-- `locked = FALSE` while another transaction holds the key (the same request still running);
-- else one row of NULLs with `locked = TRUE`, and the key stays claimed (a transaction-scoped
-- advisory lock) until this transaction ends.
--
-- The living definition: `db::migrate` installs this file after the migrations (CREATE OR
-- REPLACE); a change of its body is made here. A change of its arguments or of its result
-- columns also needs a migration that drops the old function.
CREATE OR REPLACE FUNCTION idempotency_claim(p_user UUID, p_key TEXT)
RETURNS TABLE (locked BOOLEAN, request_hash TEXT, status_code SMALLINT, response_body BYTEA, response_row UUID)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN QUERY
        SELECT TRUE, r.request_hash, r.status_code, r.response_body, r.response_row
          FROM idempotency_records r
         WHERE r.user_id = p_user AND r.key = p_key;
    IF FOUND THEN
        RETURN;
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtextextended('idempotency:' || p_user || ':' || p_key, 7411)) THEN
        RETURN QUERY SELECT FALSE, NULL::TEXT, NULL::SMALLINT, NULL::BYTEA, NULL::UUID;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT TRUE, r.request_hash, r.status_code, r.response_body, r.response_row
          FROM (SELECT 1) AS one
          LEFT JOIN idempotency_records r ON r.user_id = p_user AND r.key = p_key;
END $$;
