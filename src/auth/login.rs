//! Username and password, for the API's login and the console's: the failure budgets (per
//! username and address, per address) are taken before the work, and the hash is compared
//! between two database hops, holding no connection.

use std::net::IpAddr;

use crate::cache::limiter::within_budgets;
use crate::db;
use crate::db::models::user::User;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

/// The user whose password this is, or 401 `auth.invalid_credentials` (429 once a budget is
/// spent). Whether the user is active is the caller's to check.
pub async fn by_password(
    state: &AppState,
    ip: IpAddr,
    username: String,
    password: String,
) -> Result<User, AppError> {
    let (ip, account) = (ip.to_string(), format!("{username}|{ip}"));
    let budgets = [
        (&state.ip_failures, ip.as_str()),
        (&state.login_failures, account.as_str()),
    ];
    within_budgets(&budgets, ErrorCode::AuthInvalidCredentials, async {
        let user = db::run(&state.pool, move |conn| {
            Ok(User::find_by_username(conn, &username)?)
        })
        .await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        match (state.hasher.verify(password, stored).await?, user) {
            (true, Some(user)) => Ok(user),
            _ => Err(AppError::new(
                ErrorCode::AuthInvalidCredentials,
                "用户名或密码错误 (wrong username or password)",
            )),
        }
    })
    .await
}
