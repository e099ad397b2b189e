//! First-start setup, login, logout and "who am I".

use crate::auth::sessions::{COOKIE, IDLE_TIMEOUT};
use crate::auth::{cookie_value, password, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use feedline_store::{now_ms, AuditEntry, Role, User};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The one-time code the appliance logged at start.
    pub code: String,
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,32}$")]
    pub username: String,
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionInfo {
    pub username: String,
    pub role: Role,
    /// Send as `X-CSRF-Token` on every write made with the session cookie.
    pub csrf_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SetupState {
    /// True until the first admin has been created.
    pub setup_required: bool,
}

/// Whether the first admin still has to be created (no authentication).
#[utoipa::path(get, path = "/api/v1/setup", tag = "session",
    responses((status = 200, body = SetupState)))]
pub async fn setup_state(State(state): State<AppState>) -> ApiResult<Json<SetupState>> {
    Ok(Json(SetupState {
        setup_required: state.store.user_count()? == 0,
    }))
}

/// Creates the first admin with the one-time setup code from the log.
#[utoipa::path(post, path = "/api/v1/setup", tag = "session", request_body = SetupRequest,
    responses((status = 201, body = SessionInfo)))]
pub async fn setup(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(req): JsonBody<SetupRequest>,
) -> ApiResult<Response> {
    let address = peer.ip();
    state
        .limiter
        .check(address)
        .map_err(ApiError::too_many_requests)?;
    let expected = state
        .setup_code
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let Some(expected) = expected else {
        return Err(ApiError::conflict("setup is already done; log in"));
    };
    if !crate::auth::secrets::constant_time_eq(req.code.trim(), &expected) {
        state.limiter.failed(address);
        return Err(ApiError::invalid_field(
            "code",
            "does not match the setup code in the appliance log",
        ));
    }
    check_username(&req.username)?;
    if let Some(problem) = password::check(&req.password) {
        return Err(ApiError::invalid_field("password", problem));
    }
    let hash = hash_blocking(req.password).await?;
    let user = User {
        name: req.username.clone(),
        role: Role::Admin,
        password_hash: hash,
        created_ms: now_ms(),
    };
    let audit = AuditEntry {
        seq: 0,
        time_ms: now_ms(),
        actor: req.username.clone(),
        source: address.to_string(),
        action: "setup".into(),
        target: format!("user/{}", req.username),
        detail: "first admin created with the setup code".into(),
    };
    state.store.create_first_user(&user, &audit)?;
    *state.setup_code.lock().unwrap_or_else(|p| p.into_inner()) = None;
    tracing::info!(user = %req.username, from = %address, "setup done: first admin created");
    Ok(session_response(
        &state,
        &user.name,
        user.role,
        StatusCode::CREATED,
    ))
}

pub fn check_username(name: &str) -> ApiResult<()> {
    let ok = (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            "username",
            "must be 1 to 32 characters of A-Z, a-z, 0-9, '-', '_' or '.'",
        ))
    }
}

pub async fn hash_blocking(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Logs in with a username and password; sets the session cookie. Five failures a minute from
/// one address are answered 429.
#[utoipa::path(post, path = "/api/v1/login", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = SessionInfo)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(req): JsonBody<LoginRequest>,
) -> ApiResult<Response> {
    let address = peer.ip();
    state
        .limiter
        .check(address)
        .map_err(ApiError::too_many_requests)?;
    let user = state.store.user(&req.username)?;
    let password = req.password.clone();
    let ok_user = tokio::task::spawn_blocking(move || match user {
        Some(u) if password::verify(&password, &u.password_hash) => Some(u),
        Some(_) => None,
        None => {
            password::burn_time(&password);
            None
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let Some(user) = ok_user else {
        state.limiter.failed(address);
        tracing::warn!(user = %req.username, from = %address, "login failed");
        return Err(ApiError::unauthorized("wrong username or password"));
    };
    state.limiter.succeeded(address);
    tracing::info!(user = %user.name, from = %address, "login");
    Ok(session_response(
        &state,
        &user.name,
        user.role,
        StatusCode::OK,
    ))
}

fn session_response(state: &AppState, user: &str, role: Role, status: StatusCode) -> Response {
    let (cookie, csrf) = state.sessions().create(user, role);
    let secure = if state.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let set_cookie = format!(
        "{COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        IDLE_TIMEOUT.as_secs()
    );
    let mut response = (
        status,
        Json(SessionInfo {
            username: user.into(),
            role,
            csrf_token: Some(csrf),
        }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// Ends the browser session.
#[utoipa::path(post, path = "/api/v1/logout", tag = "session",
    responses((status = 204, description = "logged out")))]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(cookie) = cookie_value(&headers, COOKIE) {
        state.sessions().end(cookie);
    }
    tracing::info!(user = %caller.name, "logout");
    let mut response = StatusCode::NO_CONTENT.into_response();
    let secure = if state.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
    )) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// Who is calling, and the CSRF token of a cookie session.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses((status = 200, body = SessionInfo)))]
pub async fn session(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Json<SessionInfo>> {
    let csrf = cookie_value(&headers, COOKIE)
        .and_then(|c| state.sessions().get(c))
        .map(|s| s.csrf_token);
    Ok(Json(SessionInfo {
        username: caller.name,
        role: caller.role,
        csrf_token: csrf,
    }))
}
