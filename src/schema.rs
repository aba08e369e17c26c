// @generated automatically by Diesel CLI.

diesel::table! {
    assignments (id) {
        id -> Uuid,
        officer_id -> Uuid,
        enterprise_id -> Uuid,
        start_day -> Date,
        end_day -> Nullable<Date>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        actor_id -> Nullable<Uuid>,
        action -> Text,
        object_type -> Text,
        object_id -> Text,
        at -> Timestamptz,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    enterprises (id) {
        id -> Uuid,
        credit_code -> Text,
        name -> Text,
        region_code -> Text,
        industry -> Text,
        address -> Text,
        lat -> Float8,
        lng -> Float8,
        geofence_m -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_records (user_id, key) {
        user_id -> Uuid,
        key -> Text,
        request_hash -> Text,
        status_code -> Nullable<Int2>,
        response_body -> Nullable<Bytea>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        family_id -> Uuid,
        token_hash -> Text,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    regions (code) {
        code -> Text,
        name -> Text,
        parent_code -> Nullable<Text>,
        path -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    units (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        kind -> Text,
        region_code -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        username -> Text,
        name -> Text,
        phone -> Nullable<Text>,
        roles -> Array<Text>,
        unit_id -> Nullable<Uuid>,
        region_code -> Text,
        enterprise_id -> Nullable<Uuid>,
        invite_code_hash -> Nullable<Text>,
        invite_expires_at -> Nullable<Timestamptz>,
        password_hash -> Nullable<Text>,
        wechat_openid -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(assignments -> enterprises (enterprise_id));
diesel::joinable!(assignments -> users (officer_id));
diesel::joinable!(audit_log -> users (actor_id));
diesel::joinable!(enterprises -> regions (region_code));
diesel::joinable!(idempotency_records -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(units -> regions (region_code));
diesel::joinable!(users -> enterprises (enterprise_id));
diesel::joinable!(users -> regions (region_code));
diesel::joinable!(users -> units (unit_id));

diesel::allow_tables_to_appear_in_same_query!(
    assignments,
    audit_log,
    enterprises,
    idempotency_records,
    refresh_tokens,
    regions,
    units,
    users,
);
