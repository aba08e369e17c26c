-- The morning peak's sign-in in one round trip (was two: a read of the enterprise, the
-- assignment and the key's record, then `sign_in_first`). Each round trip costs both sides a
-- loopback send, a wake-up and a task switch, which on two shared cores cost more than the
-- statements themselves (docs/performance.md).
--
-- Doing the read and the write in one call means the response cannot be computed before the
-- write (the distance needs the enterprise's position). So a sign-in's idempotency record
-- names the sign-in it answered instead of holding its JSON: a replay renders that row again
-- with the same code that rendered the first answer, so it is the same answer. It also keeps
-- ~400 bytes of JSON per sign-in out of the table and the WAL.
ALTER TABLE idempotency_records ADD COLUMN response_row UUID;
ALTER TABLE idempotency_records ADD CONSTRAINT idempotency_records_one_response
    CHECK (response_row IS NULL OR response_body IS NULL);
COMMENT ON COLUMN idempotency_records.response_row IS
    'The row whose rendering is the response (a sign-in written by sign_in_once); the endpoint that stored it renders it on replay. NULL when response_body holds the response.';

-- The claim returns the row reference as well.
DROP FUNCTION idempotency_claim(UUID, TEXT);
CREATE FUNCTION idempotency_claim(p_user UUID, p_key TEXT)
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

DROP FUNCTION sign_in_first(UUID, UUID, UUID, TEXT, DATE, TIMESTAMPTZ, DOUBLE PRECISION, DOUBLE PRECISION, DOUBLE PRECISION, DOUBLE PRECISION, BOOLEAN, TEXT, TEXT, BOOLEAN, TEXT, TEXT, BYTEA);

-- One sign-in attempt, checked and (when it is a plain first sign-in of the day) written.
-- Being one statement it is one transaction: all of it is written or none. `outcome` says
-- what happened:
--   no_enterprise  no such enterprise (nothing else is set)
--   stored         the key was used before: its record (the caller compares the fingerprint)
--   not_assigned   the officer is not assigned to the enterprise that day
--   out_of_range   outside the geofence without a remark
--   key_taken      another request holds the key right now
--   written        the sign-in, the device and the key's record are written
-- A second sign-in of the day fails `sign_ins_one_per_day` and rolls the whole call back.
-- Everything but `written` and `stored` writes nothing; the caller answers those that are
-- not plain refusals (out of range, key taken, already signed in) in one transaction.
--
-- The distance is the haversine formula of `GeoPoint::distance_m` (src/domain/geo.rs),
-- term for term, so both give the same metres; a test compares them.
CREATE FUNCTION sign_in_once(
    p_id UUID, p_officer UUID, p_enterprise UUID, p_day DATE, p_at TIMESTAMPTZ,
    p_lat DOUBLE PRECISION, p_lng DOUBLE PRECISION, p_accuracy DOUBLE PRECISION,
    p_remark TEXT, p_device TEXT, p_key TEXT, p_hash TEXT)
RETURNS TABLE (outcome TEXT, at_region TEXT, at_region_path TEXT, distance DOUBLE PRECISION, inside BOOLEAN, device_is_new BOOLEAN,
               stored_hash TEXT, stored_status SMALLINT, stored_body BYTEA, stored_row UUID)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    e_lat DOUBLE PRECISION;
    e_lng DOUBLE PRECISION;
    geofence INTEGER;
    a DOUBLE PRECISION;
BEGIN
    SELECT e.lat, e.lng, e.geofence_m, e.region_code, r.path
      INTO e_lat, e_lng, geofence, at_region, at_region_path
      FROM enterprises e JOIN regions r ON r.code = e.region_code
     WHERE e.id = p_enterprise;
    IF NOT FOUND THEN
        outcome := 'no_enterprise';
        RETURN NEXT;
        RETURN;
    END IF;
    IF p_key IS NOT NULL THEN
        SELECT k.request_hash, k.status_code, k.response_body, k.response_row
          INTO stored_hash, stored_status, stored_body, stored_row
          FROM idempotency_records k
         WHERE k.user_id = p_officer AND k.key = p_key;
        IF FOUND THEN
            outcome := 'stored';
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM assignments s
                    WHERE s.officer_id = p_officer AND s.enterprise_id = p_enterprise
                      AND s.start_day <= p_day AND (s.end_day IS NULL OR s.end_day >= p_day)) THEN
        outcome := 'not_assigned';
        RETURN NEXT;
        RETURN;
    END IF;
    -- From the phone (1) to the enterprise (2), as GeoPoint::distance_m(phone, enterprise).
    -- The same operations in the same order as the Rust, so the same rounding.
    a := sin(radians(e_lat - p_lat) / 2.0) * sin(radians(e_lat - p_lat) / 2.0)
         + (cos(radians(p_lat)) * cos(radians(e_lat)))
           * (sin(radians(e_lng - p_lng) / 2.0) * sin(radians(e_lng - p_lng) / 2.0));
    distance := (2.0::float8 * 6371008.8::float8) * atan2(sqrt(a), sqrt(1.0::float8 - a));
    inside := distance <= geofence;
    IF NOT inside AND p_remark IS NULL THEN
        outcome := 'out_of_range';
        RETURN NEXT;
        RETURN;
    END IF;
    IF p_key IS NOT NULL THEN
        INSERT INTO idempotency_records (user_id, key, request_hash, status_code, response_row, created_at)
        VALUES (p_officer, p_key, p_hash, 201, p_id, p_at)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            outcome := 'key_taken';
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;
    -- New to the officer: not used before, while other devices were (the first device an
    -- officer ever uses is their baseline, not a warning).
    device_is_new := FALSE;
    IF p_device IS NOT NULL THEN
        INSERT INTO officer_devices (officer_id, device_id, first_seen_at)
        VALUES (p_officer, p_device, p_at)
        ON CONFLICT DO NOTHING;
        IF FOUND THEN
            device_is_new := EXISTS (SELECT 1 FROM officer_devices d
                                      WHERE d.officer_id = p_officer AND d.device_id <> p_device);
        END IF;
    END IF;
    INSERT INTO sign_ins (id, officer_id, enterprise_id, region_code, day, signed_at, lat, lng, accuracy_m,
                          distance_m, within_geofence, remark, device_id, new_device)
    VALUES (p_id, p_officer, p_enterprise, at_region, p_day, p_at, p_lat, p_lng, p_accuracy,
            distance, inside, p_remark, p_device, device_is_new);
    outcome := 'written';
    RETURN NEXT;
END $$;
