-- The morning peak's sign-ins, checked and (when plain first sign-ins of the day) written, a
-- batch at a time: one call, one transaction, one WAL flush for all of them. The attempts come
-- as parallel arrays; one row comes back per attempt (`attempt`, 1-based) saying what happened:
--   no_enterprise     no such enterprise (nothing else is set)
--   stored            the key was used before: its record (the caller compares the fingerprint)
--   not_assigned      the officer is not assigned to the enterprise that day
--   out_of_range      outside the geofence without a remark
--   key_taken         another request holds the key (or an earlier attempt of this batch)
--   signed_in_before  the officer already signed in there that day
--   written           the sign-in, the device and the key's record are written
-- Only `written` leaves rows behind; the caller answers out_of_range, key_taken and
-- signed_in_before in a transaction of their own. No attempt can fail the others: conflicts
-- are settled with ON CONFLICT, not exceptions (an error would roll back the whole batch, and
-- the caller then writes each attempt alone).
--
-- The distance is the haversine formula of `GeoPoint::distance_m` (src/domain/geo.rs), the
-- same operations in the same order, so both give the same metres to the bit (a test checks).
--
-- The living definition: `db::migrate` installs this file after the migrations (CREATE OR
-- REPLACE); a change of its body is made here. A change of its arguments or of its result
-- columns also needs a migration that drops the old function. `signin::batch` calls it.
CREATE OR REPLACE FUNCTION sign_ins_at_once(
    p_ids UUID[], p_officers UUID[], p_enterprises UUID[], p_days DATE[], p_ats TIMESTAMPTZ[],
    p_lats DOUBLE PRECISION[], p_lngs DOUBLE PRECISION[], p_accuracies DOUBLE PRECISION[],
    p_remarks TEXT[], p_devices TEXT[], p_keys TEXT[], p_hashes TEXT[])
RETURNS TABLE (attempt INTEGER, outcome TEXT, at_region TEXT, at_region_path TEXT,
               distance DOUBLE PRECISION, inside BOOLEAN, device_is_new BOOLEAN,
               stored_hash TEXT, stored_status SMALLINT, stored_body BYTEA, stored_row UUID)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    e_lat DOUBLE PRECISION;
    e_lng DOUBLE PRECISION;
    geofence INTEGER;
    a DOUBLE PRECISION;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        attempt := i;
        outcome := NULL; at_region := NULL; at_region_path := NULL; distance := NULL;
        inside := NULL; device_is_new := NULL;
        stored_hash := NULL; stored_status := NULL; stored_body := NULL; stored_row := NULL;
        SELECT e.lat, e.lng, e.geofence_m, e.region_code, r.path
          INTO e_lat, e_lng, geofence, at_region, at_region_path
          FROM enterprises e JOIN regions r ON r.code = e.region_code
         WHERE e.id = p_enterprises[i];
        IF NOT FOUND THEN
            outcome := 'no_enterprise';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF p_keys[i] IS NOT NULL THEN
            -- The key's lock, as idempotency_claim takes it: the lock (not a unique index, which
            -- a table partitioned by month cannot have on the key alone) keeps one record per
            -- key. A simultaneous resend waits for it, as it waited for the key's index entry
            -- before, and the lookup after it sees the record the first one committed.
            PERFORM pg_advisory_xact_lock(hashtextextended('idempotency:' || p_officers[i] || ':' || p_keys[i], 7411));
            SELECT k.request_hash, k.status_code, k.response_body, k.response_row
              INTO stored_hash, stored_status, stored_body, stored_row
              FROM idempotency_records k
             WHERE k.user_id = p_officers[i] AND k.key = p_keys[i];
            IF FOUND THEN
                outcome := 'stored';
                RETURN NEXT;
                CONTINUE;
            END IF;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM assignments s
                        WHERE s.officer_id = p_officers[i] AND s.enterprise_id = p_enterprises[i]
                          AND s.start_day <= p_days[i] AND (s.end_day IS NULL OR s.end_day >= p_days[i])) THEN
            outcome := 'not_assigned';
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- From the phone (1) to the enterprise (2), as GeoPoint::distance_m(phone, enterprise).
        a := sin(radians(e_lat - p_lats[i]) / 2.0) * sin(radians(e_lat - p_lats[i]) / 2.0)
             + (cos(radians(p_lats[i])) * cos(radians(e_lat)))
               * (sin(radians(e_lng - p_lngs[i]) / 2.0) * sin(radians(e_lng - p_lngs[i]) / 2.0));
        distance := (2.0::float8 * 6371008.8::float8) * atan2(sqrt(a), sqrt(1.0::float8 - a));
        inside := distance <= geofence;
        IF NOT inside AND p_remarks[i] IS NULL THEN
            outcome := 'out_of_range';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF p_keys[i] IS NOT NULL THEN
            INSERT INTO idempotency_records (user_id, key, request_hash, status_code, response_row, created_at)
            VALUES (p_officers[i], p_keys[i], p_hashes[i], 201, p_ids[i], p_ats[i])
            ON CONFLICT DO NOTHING;
            IF NOT FOUND THEN
                outcome := 'key_taken';
                RETURN NEXT;
                CONTINUE;
            END IF;
        END IF;
        -- New to the officer: not used before, while other devices were (the first device an
        -- officer ever uses is their baseline, not a warning).
        device_is_new := p_devices[i] IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM officer_devices d
                             WHERE d.officer_id = p_officers[i] AND d.device_id = p_devices[i])
            AND EXISTS (SELECT 1 FROM officer_devices d WHERE d.officer_id = p_officers[i]);
        INSERT INTO sign_ins (id, officer_id, enterprise_id, region_code, day, signed_at, lat, lng,
                              accuracy_m, distance_m, within_geofence, remark, device_id, new_device)
        VALUES (p_ids[i], p_officers[i], p_enterprises[i], at_region, p_days[i], p_ats[i], p_lats[i],
                p_lngs[i], p_accuracies[i], distance, inside, p_remarks[i], p_devices[i], device_is_new)
        ON CONFLICT ON CONSTRAINT sign_ins_one_per_day DO NOTHING;
        IF NOT FOUND THEN
            -- The key's record goes with the sign-in it would have named.
            DELETE FROM idempotency_records WHERE user_id = p_officers[i] AND key = p_keys[i];
            outcome := 'signed_in_before';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF p_devices[i] IS NOT NULL THEN
            INSERT INTO officer_devices (officer_id, device_id, first_seen_at)
            VALUES (p_officers[i], p_devices[i], p_ats[i])
            ON CONFLICT DO NOTHING;
        END IF;
        outcome := 'written';
        RETURN NEXT;
    END LOOP;
END $$;
