//! Signing in and out: the API's password check and failure budgets, a session cookie, and a
//! double-submit token on the sign-in form.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::{self, Console, COOKIE, LOGIN_COOKIE};
use super::{html, see_other, ConsoleError, Frame};
use crate::auth::client_ip::ClientIp;
use crate::auth::login;
use crate::auth::secrets::new_refresh_token;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    frame: Frame,
    token: String,
    username: String,
    message: Option<String>,
}

fn login_page(
    req: &HttpRequest,
    username: String,
    message: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let token = new_refresh_token();
    let mut response = html(&LoginPage {
        frame: Frame {
            title: "登录".to_owned(),
            user: None,
        },
        token: token.clone(),
        username,
        message,
    })?;
    response
        .add_cookie(&session::cookie(req, LOGIN_COOKIE, token))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("setting a cookie: {e}")))?;
    Ok(response)
}

pub async fn console_login_form(req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    login_page(&req, String::new(), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    token: String,
}

pub async fn console_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    ClientIp(ip): ClientIp,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, ConsoleError> {
    let LoginForm {
        username,
        password,
        token,
    } = form.into_inner();
    let expected = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_owned());
    if !expected.is_some_and(|expected| session::same(&expected, &token)) {
        return Err(ConsoleError::Csrf);
    }
    let username = username.trim().to_owned();
    if username.is_empty() || username.chars().count() > 64 {
        return login_page(&req, username, Some("请输入用户名".to_owned()));
    }
    let user = match login::by_password(&state, ip, username.clone(), password).await {
        Ok(user) if user.active => user,
        Ok(_) => return login_page(&req, username, Some("账号已停用，请联系管理员".to_owned())),
        Err(e) => return login_page(&req, username, Some(e.to_string())),
    };
    let now = state.clock.now();
    let token = db::run(&state.pool, move |conn| Ok(session::open(conn, &user, now)?)).await?;
    let mut response = see_other("/console");
    for cookie in [
        session::cookie(&req, COOKIE, token),
        session::removal(&req, LOGIN_COOKIE),
    ] {
        response
            .add_cookie(&cookie)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("setting a cookie: {e}")))?;
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: Option<String>,
}

pub async fn console_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    console: Console,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, ConsoleError> {
    console.check_csrf(form.csrf.as_deref())?;
    session::close(&state, &req).await?;
    let mut response = see_other("/console/login");
    response
        .add_cookie(&session::removal(&req, COOKIE))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("setting a cookie: {e}")))?;
    Ok(response)
}
