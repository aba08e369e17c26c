-- The morning peak's write: a first sign-in of the day, the device and the idempotency record
-- with its 201 response, in one call. Being one statement it is its own transaction: either
-- all of it is written or none. Returns FALSE (writing nothing) when another request already
-- holds the key; a second sign-in of the day fails `sign_ins_one_per_day` and so rolls the
-- whole call back. A function rather than a statement sent as text: its plans are cached per
-- connection, where a text statement would be parsed and planned on every sign-in.
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
