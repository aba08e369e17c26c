//! `ErrorCode`: every code the server answers with, and the HTTP status each one always has.
//!
//! The list is `api-spec/error-codes.yaml` (the catalogue the spec is generated from) in Rust:
//! the same codes, statuses and order, which `tests::the_codes_are_the_catalogue` checks. A new
//! code is added to both (see the catalogue's header for the spec side).

use actix_web::http::StatusCode;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = ($word:literal, $status:literal), )+) => {
    /// A stable, dotted error code; clients switch on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )+
        }

        impl ErrorCode {
                /// Every code, in the catalogue's order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

                /// The code on the wire, e.g. `auth.role_required`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $word, )+
                }
            }

                /// The HTTP status every answer with this code has.
            pub fn status(self) -> StatusCode {
                let status: u16 = match self {
                    $( ErrorCode::$variant => $status, )+
                };
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    };
}

error_codes! {
    /// The body is not JSON (or cannot be read).
    RequestMalformedJson = ("request.malformed_json", 400),
    /// The JSON does not fit the operation's body — a wrong type, a missing or unknown field,
    /// an unknown enum value.
    RequestInvalidBody = ("request.invalid_body", 400),
    /// A query parameter does not parse, is given blank, holds U+0000, is not in the shape of
    /// what it filters by (a region code, a credit code, a username), or is out of range (a day
    /// outside 2020–2099, a period too long, `from` after `to`).
    RequestInvalidQuery = ("request.invalid_query", 400),
    /// `limit` is outside 1–100.
    RequestInvalidLimit = ("request.invalid_limit", 400),
    /// `cursor` is not a `next_cursor` this list handed out.
    RequestInvalidCursor = ("request.invalid_cursor", 400),
    /// `Idempotency-Key` is blank or longer than 255 characters.
    IdempotencyKeyInvalid = ("idempotency.key_invalid", 400),
    /// The upload is empty, not CSV or XLSX, not UTF-8, has no sheet, or a multipart form has
    /// no `file` part.
    ImportUnreadable = ("import.unreadable", 400),
    /// The header lacks a column this kind requires (named in `message`).
    ImportMissingColumns = ("import.missing_columns", 400),
    /// The header has a column this kind does not know (named in `message`).
    ImportUnknownColumns = ("import.unknown_columns", 400),
    /// No `Authorization: Bearer` access token was sent.
    AuthTokenMissing = ("auth.token_missing", 401),
    /// The access token does not verify (malformed, wrong signature).
    AuthTokenInvalid = ("auth.token_invalid", 401),
    /// The access token has expired: refresh and retry.
    AuthTokenExpired = ("auth.token_expired", 401),
    /// The token's session has ended (logout, new password, deactivation, changed roles or
    /// scope, a rebind or a new invite code): sign in again.
    AuthSessionEnded = ("auth.session_ended", 401),
    /// Wrong username or password (not told apart).
    AuthInvalidCredentials = ("auth.invalid_credentials", 401),
    /// The bind token does not verify: start again with `wx.login()`.
    AuthBindTokenInvalid = ("auth.bind_token_invalid", 401),
    /// The bind token is older than 10 minutes: start again with `wx.login()`.
    AuthBindTokenExpired = ("auth.bind_token_expired", 401),
    /// The refresh token is unknown, expired or revoked, or its user is deactivated: sign in
    /// again.
    AuthRefreshInvalid = ("auth.refresh_invalid", 401),
    /// A refresh token spent more than 30 s ago came back: it leaked, and its whole session is
    /// now revoked.
    AuthRefreshReused = ("auth.refresh_reused", 401),
    /// WeChat refused the `wx.login()` code (errcode 40029/40163: invalid or already used):
    /// call `wx.login()` again.
    WechatCodeInvalid = ("wechat.code_invalid", 401),
    /// The caller holds none of the roles this operation needs.
    AuthRoleRequired = ("auth.role_required", 403),
    /// The account is deactivated.
    AuthUserDisabled = ("auth.user_disabled", 403),
    /// Only an admin of a top region (one without a parent) may change settings the whole
    /// deployment shares (categories, the calendar).
    AdminTopRegionRequired = ("admin.top_region_required", 403),
    /// `old_password` is missing or wrong.
    PasswordOldMismatch = ("password.old_mismatch", 403),
    /// WeChat flags the user as high-risk (errcode 40226).
    WechatUserBlocked = ("wechat.user_blocked", 403),
    /// The enterprise is not assigned to the calling officer today.
    SigninNotAssigned = ("signin.not_assigned", 403),
    /// The enterprise is not assigned to the calling officer on that day.
    ReportNotAssigned = ("report.not_assigned", 403),
    /// The enterprise is neither assigned to the calling officer today nor the calling
    /// contact's own.
    ProblemNotYourEnterprise = ("problem.not_your_enterprise", 403),
    /// You see the problem, but none of your roles toward it may take this action (checked
    /// before the state).
    ProblemNotAllowed = ("problem.not_allowed", 403),
    /// Statistics and monthly reports are open only to dispatchers, admins and unit admins (and
    /// officers for their own month).
    StatsForbidden = ("stats.forbidden", 403),
    /// Absent, or outside your scope (the two look the same on purpose); also a path id that
    /// does not parse.
    NotFound = ("not_found", 404),
    /// No such route (also `/metrics` for a caller it is not served to, and an unknown import
    /// kind).
    RouteNotFound = ("route.not_found", 404),
    /// The path exists, the method does not.
    RequestMethodNotAllowed = ("request.method_not_allowed", 405),
    /// The first request with this `Idempotency-Key` is still running: retry shortly.
    IdempotencyInProgress = ("idempotency.in_progress", 409),
    /// This `Idempotency-Key` already completed a request whose answer carried a secret
    /// (tokens, an invite code), which is never stored: it cannot be sent again.
    IdempotencyNotReplayable = ("idempotency.not_replayable", 409),
    /// The database refused a duplicate that no more specific code names.
    ConflictDuplicate = ("conflict.duplicate", 409),
    /// A region with this code exists.
    RegionCodeTaken = ("region.code_taken", 409),
    /// A unit with this code exists.
    UnitCodeTaken = ("unit.code_taken", 409),
    /// An enterprise with this credit code exists.
    EnterpriseCreditCodeTaken = ("enterprise.credit_code_taken", 409),
    /// The username is in use.
    UserUsernameTaken = ("user.username_taken", 409),
    /// Another user took this phone number at the same moment (normally `validation.failed` on
    /// `phone`).
    UserPhoneTaken = ("user.phone_taken", 409),
    /// This WeChat user is already bound to another account.
    WechatAlreadyBound = ("wechat.already_bound", 409),
    /// This officer, enterprise and `start_day` are already assigned.
    AssignmentExists = ("assignment.exists", 409),
    /// The password changed while this request was checking the old one: type the current one
    /// again.
    PasswordChangedMeanwhile = ("password.changed_meanwhile", 409),
    /// Another request is filing this report's first revision at this moment: refresh and
    /// retry.
    ReportInProgress = ("report.in_progress", 409),
    /// The action is not allowed from the problem's current state.
    ProblemInvalidTransition = ("problem.invalid_transition", 409),
    /// Another dispatcher's lease on the queue item is running: wait for it to end.
    ProblemLeased = ("problem.leased", 409),
    /// The lead department responds for all once every co-handling department has filed its
    /// opinion or returned its part; `details.departments` names those still owing one.
    ProblemCoOpinionsPending = ("problem.co_opinions_pending", 409),
    /// An extension request is already pending.
    ExtensionPending = ("extension.pending", 409),
    /// There is no pending extension request to decide.
    ExtensionNonePending = ("extension.none_pending", 409),
    /// The body exceeds the operation's limit (64 KiB for JSON bodies, 20 MiB for roster
    /// files).
    RequestTooLarge = ("request.too_large", 413),
    /// The uploaded file exceeds 10 MiB (`details.max_bytes`).
    AttachmentTooLarge = ("attachment.too_large", 413),
    /// The body's `Content-Type` is not one the operation reads (`application/json` for JSON
    /// bodies).
    RequestUnsupportedMediaType = ("request.unsupported_media_type", 415),
    /// The file's content is not a JPEG, PNG or PDF (`details.found`, `details.accepted`).
    AttachmentUnsupportedType = ("attachment.unsupported_type", 415),
    /// This `Idempotency-Key` was used for a different request (method, path, query or body).
    IdempotencyKeyReused = ("idempotency.key_reused", 422),
    /// Fields break rules: `details.errors` lists them as `{field, code, message}`; for a rule
    /// only the database states, `field` is the name of its constraint; text in a body holding
    /// U+0000 is refused the same way.
    ValidationFailed = ("validation.failed", 422),
    /// The database refused a reference to an object that does not exist.
    ReferenceNotFound = ("reference.not_found", 422),
    /// A body field is blank or too long (`details.errors`, one `{field, code, message}`).
    RequestFieldInvalid = ("request.field_invalid", 422),
    /// Not a mainland mobile number (`details.errors`, one `{field, code, message}` on `phone`).
    BindPhoneInvalid = ("bind.phone_invalid", 422),
    /// Phone number and invite code do not match a rostered user.
    BindInviteInvalid = ("bind.invite_invalid", 422),
    /// The invite code has expired: an admin reissues it.
    BindInviteExpired = ("bind.invite_expired", 422),
    /// The new password is shorter than 8 or longer than 128 characters.
    PasswordTooWeak = ("password.too_weak", 422),
    /// Officers, department users and unit admins must belong to a unit (a database rule).
    UserUnitRequired = ("user.unit_required", 422),
    /// Enterprise contacts must be linked to an enterprise (a database rule).
    UserEnterpriseRequired = ("user.enterprise_required", 422),
    /// `end_day` lies before `start_day` (a database rule).
    AssignmentDaysOutOfOrder = ("assignment.days_out_of_order", 422),
    /// Outside the enterprise's geofence without a `remark` (`details.distance_m`,
    /// `details.geofence_m`).
    SigninOutOfRange = ("signin.out_of_range", 422),
    /// `accuracy_m` above 1000 (`details.accuracy_m`, `details.max_accuracy_m`): move into the
    /// open and try again.
    SigninInaccurate = ("signin.inaccurate", 422),
    /// The day is neither today nor (before 10:00) yesterday (`details.day`).
    ReportClosed = ("report.closed", 422),
    /// The month lies in the future (Asia/Shanghai).
    ReportMonthNotStarted = ("report.month_not_started", 422),
    /// 日总结: the day lies in the future (Asia/Shanghai; `details.day`).
    ReportDayNotStarted = ("report.day_not_started", 422),
    /// 日总结: the day is not an official working day, so it has no summary (`details.day`).
    ReportNotWorkingDay = ("report.not_working_day", 422),
    /// `category` names no active category.
    ProblemUnknownCategory = ("problem.unknown_category", 422),
    /// `department_id` is not a department unit serving the problem's region or your subtree.
    ProblemUnknownDepartment = ("problem.unknown_department", 422),
    /// `into_id` is this problem, does not exist, is `closed` or `merged`, or lies outside your
    /// region subtree.
    ProblemMergeTargetInvalid = ("problem.merge_target_invalid", 422),
    /// Items of an assignment meeting were refused: `details.items` lists each with its index,
    /// problem and the error it would have had alone; with `all_or_nothing` nothing was saved.
    AssignmentItemsInvalid = ("assignment.items_invalid", 422),
    /// Nothing was written: `details.errors` lists every bad row as `{row, field, code, message}`.
    ImportInvalidRows = ("import.invalid_rows", 422),
    /// More than 100,000 data rows or 64 columns, or an XLSX archive declaring more than 256
    /// MiB uncompressed or more than 1,000 entries (`details.max_rows`, `details.max_columns`,
    /// `details.max_uncompressed_bytes`).
    ImportTooLarge = ("import.too_large", 422),
    /// The file's name claims one type and its content is another.
    AttachmentTypeMismatch = ("attachment.type_mismatch", 422),
    /// The file is empty, or a photo that cannot be read.
    AttachmentUnreadable = ("attachment.unreadable", 422),
    /// The caller holds 30 uploads not yet attached.
    AttachmentTooManyPending = ("attachment.too_many_pending", 422),
    /// An id of `attachment_ids` is unknown, another's, or attached elsewhere (`details.ids`).
    AttachmentUnavailable = ("attachment.unavailable", 422),
    /// The target would carry more than 20 attachments.
    AttachmentTooMany = ("attachment.too_many", 422),
    /// The problem is closed or merged, or the report's day is closed.
    AttachmentTargetClosed = ("attachment.target_closed", 422),
    /// Too many failed attempts in 15 minutes; wait `Retry-After` seconds (also
    /// `details.retry_after_s`).
    AuthTooManyAttempts = ("auth.too_many_attempts", 429),
    /// WeChat's own frequency limit (errcode 45011); `Retry-After` is 60.
    WechatRateLimited = ("wechat.rate_limited", 429),
    /// An unexpected failure; the cause is logged under the `X-Request-Id`, never returned.
    Internal = ("internal", 500),
    /// WeChat answered with an unexpected error code (configuration or WeChat changed;
    /// operators must look).
    WechatError = ("wechat.error", 502),
    /// PostgreSQL does not answer, or no database connection came free within 5 s; retry after
    /// `Retry-After` seconds.
    DatabaseUnavailable = ("database.unavailable", 503),
    /// No turn to hash a password came free within 10 s (too many sign-ins at once); retry
    /// after `Retry-After` seconds.
    AuthBusy = ("auth.busy", 503),
    /// The sign-in writer is too far behind the database; retry after `Retry-After` seconds
    /// (with the same `Idempotency-Key`).
    SigninBusy = ("signin.busy", 503),
    /// WeChat is busy (errcode -1), times out or answers unreadably; retry after `Retry-After`
    /// seconds.
    WechatUnavailable = ("wechat.unavailable", 503),
    /// The object store that keeps attachments' files does not answer; retry after
    /// `Retry-After` seconds.
    StorageUnavailable = ("storage.unavailable", 503),
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_are_the_catalogue() {
        let catalogue: serde_yaml::Mapping =
            serde_yaml::from_str(include_str!("../../api-spec/error-codes.yaml")).expect("catalogue");
        let listed: Vec<(String, u16)> = catalogue
            .iter()
            .map(|(code, entry)| {
                let status = entry["status"].as_u64().expect("status") as u16;
                (code.as_str().expect("code").to_owned(), status)
            })
            .collect();
        let ours: Vec<(String, u16)> = ErrorCode::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), c.status().as_u16()))
            .collect();
        assert_eq!(ours, listed);
    }
}
