// @generated automatically by Diesel CLI.

pub mod sql_types {
    /// PostgreSQL's `tsvector` (full-text search), for `policies.search`; written by the
    /// database from `search_terms`, never read by the server.
    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector"))]
    pub struct Tsvector;
}

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
    calendar_days (year, day) {
        year -> Int4,
        day -> Date,
        kind -> Text,
        name -> Text,
    }
}

diesel::table! {
    calendar_years (year) {
        year -> Int4,
        version -> Int8,
        notice -> Text,
        source -> Text,
        updated_by -> Nullable<Uuid>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    categories (code) {
        code -> Text,
        name -> Text,
        keywords -> Array<Text>,
        default_department_id -> Nullable<Uuid>,
        due_working_days -> Int4,
        urgent_due_working_days -> Int4,
        sort_order -> Int4,
        active -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    console_sessions (token_hash) {
        token_hash -> Text,
        user_id -> Uuid,
        csrf -> Text,
        generation -> Int8,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
    }
}

diesel::table! {
    console_uploads (id) {
        id -> Uuid,
        user_id -> Uuid,
        kind -> Text,
        file_name -> Text,
        bytes -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    daily_summaries (region_code, day) {
        region_code -> Text,
        day -> Date,
        as_of -> Timestamptz,
        frozen_at -> Timestamptz,
        body -> Jsonb,
    }
}

diesel::table! {
    daily_report_revisions (report_id, revision) {
        report_id -> Uuid,
        revision -> Int4,
        author_id -> Uuid,
        at -> Timestamptz,
        body -> Jsonb,
        changed_fields -> Array<Text>,
        day -> Date,
    }
}

diesel::table! {
    daily_reports (id) {
        id -> Uuid,
        officer_id -> Uuid,
        enterprise_id -> Uuid,
        region_code -> Text,
        day -> Date,
        revision -> Int4,
        work_done -> Text,
        production_status -> Text,
        capacity_pct -> Int2,
        staff_on_duty -> Int4,
        staff_total -> Int4,
        staff_shortage -> Int4,
        difficulties -> Nullable<Text>,
        submitted_at -> Timestamptz,
        updated_at -> Timestamptz,
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
        size -> Nullable<Text>,
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
        response_row -> Nullable<Uuid>,
    }
}

diesel::table! {
    job_openings (id) {
        id -> Uuid,
        enterprise_id -> Uuid,
        region_code -> Text,
        job_type -> Text,
        title -> Nullable<Text>,
        positions -> Int4,
        filled -> Int4,
        wage_min -> Nullable<Int4>,
        wage_max -> Nullable<Int4>,
        deadline -> Nullable<Date>,
        withdrawn -> Bool,
        note -> Nullable<Text>,
        created_by -> Uuid,
        created_at -> Timestamptz,
        updated_by -> Uuid,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    monthly_freezes (month) {
        month -> Date,
        frozen_at -> Timestamptz,
    }
}

diesel::table! {
    monthly_officer_figures (month, officer_id) {
        month -> Date,
        officer_id -> Uuid,
        officer_name -> Text,
        unit_id -> Nullable<Uuid>,
        unit_name -> Nullable<Text>,
        region_code -> Text,
        region_path -> Text,
        working_days -> Int4,
        days_on_site -> Int4,
        signed_in_days -> Int4,
        reported_days -> Int4,
        sign_ins -> Int4,
        reports -> Int4,
        problems_raised -> Int4,
        problems_solved -> Int4,
        problems_overdue -> Int4,
        rated_satisfied -> Int4,
        rated_basically_satisfied -> Int4,
        rated_dissatisfied -> Int4,
        benefit_problems -> Int4,
        benefit_loan_yuan -> Int8,
        benefit_fees_reduced_yuan -> Int8,
        benefit_subsidies_yuan -> Int8,
        benefit_positions_filled -> Int8,
        benefit_with_other -> Int4,
        enterprise_ratings -> Int4,
        enterprise_presence_sum -> Int4,
        enterprise_responsiveness_sum -> Int4,
        enterprise_help_sum -> Int4,
    }
}

diesel::table! {
    notification_outbox (id) {
        id -> Int8,
        kind -> Text,
        problem_id -> Nullable<Uuid>,
        recipient_unit_id -> Nullable<Uuid>,
        audience -> Text,
        payload -> Jsonb,
        created_at -> Timestamptz,
        expanded_at -> Nullable<Timestamptz>,
        recipient_user_id -> Nullable<Uuid>,
        region_code -> Nullable<Text>,
        dedupe_key -> Nullable<Text>,
    }
}

diesel::table! {
    notification_deliveries (id) {
        id -> Int8,
        event_id -> Int8,
        notification_id -> Nullable<Uuid>,
        channel -> Text,
        user_id -> Nullable<Uuid>,
        unit_id -> Nullable<Uuid>,
        kind -> Text,
        message -> Jsonb,
        urgent -> Bool,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        leased_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notification_kinds (kind) {
        kind -> Text,
    }
}

diesel::table! {
    notification_runs (job, day, region_code) {
        job -> Text,
        day -> Date,
        region_code -> Text,
        ran_at -> Timestamptz,
    }
}

diesel::table! {
    notification_settings (region_code) {
        region_code -> Text,
        disabled_kinds -> Array<Text>,
        sign_in_reminder_at -> Time,
        report_reminder_at -> Time,
        digest_at -> Time,
        figures_at -> Time,
        updated_at -> Timestamptz,
        updated_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    notification_templates (kind) {
        kind -> Text,
        template_id -> Text,
        page -> Nullable<Text>,
        fields -> Jsonb,
        long_term -> Bool,
        enabled -> Bool,
        updated_at -> Timestamptz,
        updated_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Uuid,
        user_id -> Uuid,
        event_id -> Int8,
        kind -> Text,
        title -> Text,
        body -> Text,
        link -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        read_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    officer_days (day, officer_id) {
        day -> Date,
        officer_id -> Uuid,
        on_duty -> Bool,
        sign_ins -> Int4,
        reports -> Int4,
    }
}

diesel::table! {
    officer_months (month, officer_id) {
        month -> Date,
        officer_id -> Uuid,
        working_days -> Int4,
        days_on_site -> Int4,
        signed_in_days -> Int4,
        reported_days -> Int4,
        sign_ins -> Int4,
        reports -> Int4,
    }
}

diesel::table! {
    officer_rollup (only_row) {
        only_row -> Bool,
        rolled_from -> Nullable<Date>,
        rolled_through -> Nullable<Date>,
        rolled_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    officer_ratings (id) {
        id -> Uuid,
        officer_id -> Uuid,
        enterprise_id -> Uuid,
        rater_id -> Uuid,
        month -> Date,
        presence -> Int2,
        responsiveness -> Int2,
        help -> Int2,
        comment -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    attachments (id) {
        id -> Uuid,
        uploaded_by -> Uuid,
        media_type -> Text,
        file_name -> Text,
        byte_size -> Int4,
        sha256 -> Text,
        object_key -> Text,
        thumbnail_key -> Nullable<Text>,
        width -> Nullable<Int4>,
        height -> Nullable<Int4>,
        uploaded_at -> Timestamptz,
        problem_id -> Nullable<Uuid>,
        report_id -> Nullable<Uuid>,
        attached_role -> Nullable<Text>,
        attached_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    officer_devices (officer_id, device_id) {
        officer_id -> Uuid,
        device_id -> Text,
        first_seen_at -> Timestamptz,
    }
}

diesel::table! {
    problem_escalations (problem_id, round, level) {
        problem_id -> Uuid,
        round -> Int4,
        level -> Int2,
        reason -> Text,
        escalated_at -> Timestamptz,
    }
}

diesel::table! {
    problem_events (id) {
        id -> Int8,
        problem_id -> Uuid,
        event_type -> Text,
        actor_id -> Nullable<Uuid>,
        actor_role -> Nullable<Text>,
        at -> Timestamptz,
        note -> Nullable<Text>,
        details -> Nullable<Jsonb>,
    }
}

diesel::table! {
    assignment_batches (id) {
        id -> Uuid,
        region_code -> Text,
        title -> Text,
        created_by -> Uuid,
        created_at -> Timestamptz,
        item_count -> Int4,
    }
}

diesel::table! {
    assignment_batch_items (batch_id, position) {
        batch_id -> Uuid,
        position -> Int4,
        problem_id -> Uuid,
        number -> Text,
        department_id -> Uuid,
        co_handler_ids -> Array<Uuid>,
        instructions -> Nullable<Text>,
        contact_due_at -> Timestamptz,
        due_at -> Timestamptz,
    }
}

diesel::table! {
    problem_number_counters (region_code, year) {
        region_code -> Text,
        year -> Int4,
        last -> Int4,
    }
}

diesel::table! {
    task_forces (id) {
        id -> Uuid,
        region_code -> Text,
        name -> Text,
        leader_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    task_force_departments (task_force_id, unit_id) {
        task_force_id -> Uuid,
        unit_id -> Uuid,
    }
}

diesel::table! {
    task_force_officers (task_force_id, officer_id) {
        task_force_id -> Uuid,
        officer_id -> Uuid,
    }
}

diesel::table! {
    task_force_enterprises (task_force_id, enterprise_id) {
        task_force_id -> Uuid,
        enterprise_id -> Uuid,
    }
}

diesel::table! {
    policy_checkoff_events (id) {
        id -> Int8,
        enterprise_id -> Uuid,
        policy_id -> Uuid,
        region_code -> Text,
        status -> Text,
        day -> Date,
        amount_yuan -> Nullable<Int8>,
        note -> Nullable<Text>,
        recorded_by -> Uuid,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    policy_checkoffs (enterprise_id, policy_id) {
        enterprise_id -> Uuid,
        policy_id -> Uuid,
        region_code -> Text,
        status -> Text,
        day -> Date,
        amount_yuan -> Nullable<Int8>,
        note -> Nullable<Text>,
        recorded_by -> Uuid,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    policies (id) {
        id -> Uuid,
        region_code -> Text,
        title -> Text,
        issuer -> Text,
        doc_number -> Nullable<Text>,
        level -> Text,
        effective_from -> Date,
        effective_to -> Nullable<Date>,
        industries -> Array<Text>,
        sizes -> Array<Text>,
        regions -> Array<Text>,
        benefit_kind -> Text,
        summary -> Text,
        full_text -> Nullable<Text>,
        search_terms -> Text,
        search -> Nullable<Tsvector>,
        created_by -> Uuid,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    problem_co_handlers (id) {
        id -> Uuid,
        problem_id -> Uuid,
        department_id -> Uuid,
        position -> Int2,
        status -> Text,
        active -> Bool,
        assigned_at -> Timestamptz,
        contact_working_days -> Int4,
        contact_due_at -> Timestamptz,
        due_at -> Timestamptz,
        contacted_at -> Nullable<Timestamptz>,
        opinion -> Nullable<Text>,
        opined_at -> Nullable<Timestamptz>,
        return_reason -> Nullable<Text>,
        returned_at -> Nullable<Timestamptz>,
        escalation_level -> Int2,
    }
}

diesel::table! {
    problem_extensions (id) {
        id -> Uuid,
        problem_id -> Uuid,
        requested_by -> Uuid,
        requested_at -> Timestamptz,
        previous_due_at -> Timestamptz,
        requested_due_at -> Timestamptz,
        reason -> Text,
        status -> Text,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        decision_note -> Nullable<Text>,
    }
}

diesel::table! {
    problems (id) {
        id -> Uuid,
        enterprise_id -> Uuid,
        region_code -> Text,
        reporter_id -> Uuid,
        reporter_role -> Text,
        source_report_id -> Nullable<Uuid>,
        description_hash -> Text,
        title -> Text,
        description -> Text,
        category -> Nullable<Text>,
        urgency -> Text,
        departments_requested -> Array<Uuid>,
        status -> Text,
        suggested_category -> Nullable<Text>,
        confidence -> Nullable<Float8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        triaged_at -> Nullable<Timestamptz>,
        lease_holder_id -> Nullable<Uuid>,
        lease_expires_at -> Nullable<Timestamptz>,
        department_id -> Nullable<Uuid>,
        assigned_at -> Nullable<Timestamptz>,
        instructions -> Nullable<Text>,
        due_working_days -> Nullable<Int4>,
        contact_due_at -> Nullable<Timestamptz>,
        due_at -> Nullable<Timestamptz>,
        calendar_version -> Nullable<Int8>,
        calendar_provisional -> Bool,
        contacted_at -> Nullable<Timestamptz>,
        responded_at -> Nullable<Timestamptz>,
        outcome -> Nullable<Text>,
        resolution -> Nullable<Text>,
        rating -> Nullable<Text>,
        rating_comment -> Nullable<Text>,
        evaluated_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        merged_into_id -> Nullable<Uuid>,
        reopen_count -> Int4,
        deadline_round -> Int4,
        escalation_level -> Int2,
        queue_rank -> Int2,
        number -> Nullable<Text>,
        benefit_loan_yuan -> Nullable<Int8>,
        benefit_fees_reduced_yuan -> Nullable<Int8>,
        benefit_subsidies_yuan -> Nullable<Int8>,
        benefit_positions_filled -> Nullable<Int4>,
        benefit_other -> Nullable<Text>,
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
        family_started_at -> Timestamptz,
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
    sign_ins (id) {
        id -> Uuid,
        officer_id -> Uuid,
        enterprise_id -> Uuid,
        region_code -> Text,
        day -> Date,
        signed_at -> Timestamptz,
        lat -> Float8,
        lng -> Float8,
        accuracy_m -> Nullable<Float8>,
        distance_m -> Float8,
        within_geofence -> Bool,
        remark -> Nullable<Text>,
        device_id -> Nullable<Text>,
        new_device -> Bool,
    }
}

diesel::table! {
    subscription_credits (user_id, template_id) {
        user_id -> Uuid,
        template_id -> Text,
        remaining -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    unit_robots (unit_id) {
        unit_id -> Uuid,
        platform -> Text,
        webhook_sealed -> Bytea,
        webhook_hint -> Text,
        secret_sealed -> Nullable<Bytea>,
        enabled -> Bool,
        updated_at -> Timestamptz,
        updated_by -> Nullable<Uuid>,
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
        session_generation -> Int8,
        muted_kinds -> Array<Text>,
    }
}

diesel::joinable!(attachments -> daily_reports (report_id));
diesel::joinable!(attachments -> problems (problem_id));
diesel::joinable!(attachments -> users (uploaded_by));
diesel::joinable!(assignments -> enterprises (enterprise_id));
diesel::joinable!(assignments -> users (officer_id));
diesel::joinable!(audit_log -> users (actor_id));
diesel::joinable!(console_sessions -> users (user_id));
diesel::joinable!(console_uploads -> users (user_id));
diesel::joinable!(calendar_days -> calendar_years (year));
diesel::joinable!(calendar_years -> users (updated_by));
diesel::joinable!(categories -> units (default_department_id));
diesel::joinable!(daily_report_revisions -> daily_reports (report_id));
diesel::joinable!(daily_report_revisions -> users (author_id));
diesel::joinable!(daily_reports -> enterprises (enterprise_id));
diesel::joinable!(daily_reports -> users (officer_id));
diesel::joinable!(daily_summaries -> regions (region_code));
diesel::joinable!(enterprises -> regions (region_code));
diesel::joinable!(idempotency_records -> users (user_id));
diesel::joinable!(job_openings -> enterprises (enterprise_id));
diesel::joinable!(monthly_officer_figures -> monthly_freezes (month));
diesel::joinable!(notification_outbox -> problems (problem_id));
diesel::joinable!(notification_outbox -> units (recipient_unit_id));
diesel::joinable!(officer_devices -> users (officer_id));
diesel::joinable!(officer_ratings -> enterprises (enterprise_id));
diesel::joinable!(policy_checkoffs -> enterprises (enterprise_id));
diesel::joinable!(policy_checkoffs -> policies (policy_id));
diesel::joinable!(problem_escalations -> problems (problem_id));
diesel::joinable!(problem_events -> problems (problem_id));
diesel::joinable!(problem_events -> users (actor_id));
diesel::joinable!(assignment_batch_items -> assignment_batches (batch_id));
diesel::joinable!(assignment_batch_items -> problems (problem_id));
diesel::joinable!(assignment_batch_items -> units (department_id));
diesel::joinable!(problem_co_handlers -> problems (problem_id));
diesel::joinable!(task_force_departments -> task_forces (task_force_id));
diesel::joinable!(task_force_officers -> task_forces (task_force_id));
diesel::joinable!(task_force_enterprises -> task_forces (task_force_id));
diesel::joinable!(task_force_enterprises -> enterprises (enterprise_id));
diesel::joinable!(task_forces -> users (leader_id));
diesel::joinable!(problem_co_handlers -> units (department_id));
diesel::joinable!(problem_extensions -> problems (problem_id));
diesel::joinable!(problems -> categories (category));
diesel::joinable!(problems -> daily_reports (source_report_id));
diesel::joinable!(problems -> enterprises (enterprise_id));
diesel::joinable!(problems -> units (department_id));
diesel::joinable!(problems -> users (reporter_id));
diesel::joinable!(refresh_tokens -> users (user_id));
// sign_ins and idempotency_records keep no foreign keys (migration 000003), but join all the same.
diesel::joinable!(sign_ins -> enterprises (enterprise_id));
diesel::joinable!(sign_ins -> users (officer_id));
diesel::joinable!(units -> regions (region_code));
diesel::joinable!(users -> enterprises (enterprise_id));
diesel::joinable!(users -> regions (region_code));
diesel::joinable!(users -> units (unit_id));

diesel::allow_tables_to_appear_in_same_query!(
    assignment_batch_items,
    assignment_batches,
    assignments,
    attachments,
    audit_log,
    calendar_days,
    calendar_years,
    categories,
    console_sessions,
    console_uploads,
    daily_report_revisions,
    daily_reports,
    daily_summaries,
    enterprises,
    idempotency_records,
    job_openings,
    monthly_freezes,
    monthly_officer_figures,
    notification_deliveries,
    notification_kinds,
    notification_outbox,
    notification_runs,
    notification_settings,
    notification_templates,
    notifications,
    officer_devices,
    officer_days,
    officer_months,
    officer_ratings,
    officer_rollup,
    policies,
    policy_checkoff_events,
    policy_checkoffs,
    problem_escalations,
    problem_events,
    problem_co_handlers,
    problem_number_counters,
    problem_extensions,
    problems,
    refresh_tokens,
    regions,
    sign_ins,
    subscription_credits,
    unit_robots,
    units,
    users,
    task_force_departments,
    task_force_enterprises,
    task_force_officers,
    task_forces,
);
