DROP FUNCTION sign_ins_at_once(UUID[], UUID[], UUID[], DATE[], TIMESTAMPTZ[], DOUBLE PRECISION[], DOUBLE PRECISION[], DOUBLE PRECISION[], TEXT[], TEXT[], TEXT[], TEXT[]);
DROP FUNCTION idempotency_claim(UUID, TEXT);
-- Records that name their sign-in have no body to fall back to: a replay would be empty.
DELETE FROM idempotency_records WHERE response_row IS NOT NULL;
ALTER TABLE idempotency_records DROP COLUMN response_row;
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

CREATE FUNCTION sign_in_first(
    p_id UUID, p_officer UUID, p_enterprise UUID, p_region TEXT, p_day DATE, p_at TIMESTAMPTZ,
    p_lat DOUBLE PRECISION, p_lng DOUBLE PRECISION, p_accuracy DOUBLE PRECISION,
    p_distance DOUBLE PRECISION, p_within BOOLEAN, p_remark TEXT, p_device TEXT,
    p_new_device BOOLEAN, p_key TEXT, p_hash TEXT, p_response BYTEA)
RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF p_key IS NOT NULL THEN
        INSERT INTO idempotency_records (user_id, key, request_hash, status_code, response_body, created_at)
        VALUES (p_officer, p_key, p_hash, 201, p_response, p_at)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            RETURN FALSE;
        END IF;
    END IF;
    IF p_device IS NOT NULL THEN
        INSERT INTO officer_devices (officer_id, device_id, first_seen_at)
        VALUES (p_officer, p_device, p_at)
        ON CONFLICT DO NOTHING;
    END IF;
    INSERT INTO sign_ins (id, officer_id, enterprise_id, region_code, day, signed_at, lat, lng, accuracy_m,
                          distance_m, within_geofence, remark, device_id, new_device)
    VALUES (p_id, p_officer, p_enterprise, p_region, p_day, p_at, p_lat, p_lng, p_accuracy,
            p_distance, p_within, p_remark, p_device, p_new_device);
    RETURN TRUE;
END $$;
