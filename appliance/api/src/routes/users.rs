//! Users and API tokens (admin only). Hashes never leave the process; a token is shown once.

use super::session::{check_username, hash_blocking};
use crate::auth::secrets::{random_hex, sha256_hex};
use crate::auth::{password, Caller, TOKEN_PREFIX};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use feedline_store::{now_ms, ApiToken, Role, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub username: String,
    pub role: Role,
    pub created_ms: u64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,32}$")]
    pub username: String,
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    pub role: Role,
}

#[derive(Serialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub created_ms: u64,
    pub expires_ms: Option<u64>,
    pub created_by: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. `noc-prometheus`.
    #[schema(pattern = r"^[^\x00-\x1f\x7f]{1,64}$")]
    pub name: String,
    pub role: Role,
    /// Days until it stops working; absent for no expiry.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenView,
    /// The token itself: send as `Authorization: Bearer <token>`. Shown only this once.
    pub token: String,
}

fn view(u: User) -> UserView {
    UserView {
        username: u.name,
        role: u.role,
        created_ms: u.created_ms,
    }
}

fn token_view(t: ApiToken) -> TokenView {
    TokenView {
        id: t.id,
        name: t.name,
        role: t.role,
        created_ms: t.created_ms,
        expires_ms: t.expires_ms,
        created_by: t.created_by,
    }
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Vec<UserView>)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<UserView>>> {
    caller.require(Role::Admin)?;
    Ok(Json(state.store.users()?.into_iter().map(view).collect()))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = UserView)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(req): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    caller.require(Role::Admin)?;
    check_username(&req.username)?;
    if let Some(problem) = password::check(&req.password) {
        return Err(ApiError::invalid_field("password", problem));
    }
    let user = User {
        name: req.username.clone(),
        role: req.role,
        password_hash: hash_blocking(req.password).await?,
        created_ms: now_ms(),
    };
    let audit = caller.audit(
        "user.create",
        format!("user/{}", user.name),
        format!("role {}", user.role.as_str()),
    );
    state.store.put_user(&user, true, &audit)?;
    Ok((StatusCode::CREATED, Json(view(user))))
}

#[utoipa::path(delete, path = "/api/v1/users/{username}", tag = "users",
    params(("username" = String, Path)),
    responses((status = 204, description = "deleted")))]
pub async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    let audit = caller.audit("user.delete", format!("user/{username}"), "");
    if !state.store.delete_user(&username, &audit)? {
        return Err(ApiError::not_found(format!("no user {username:?}")));
    }
    state.sessions().end_user(&username);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "users",
    responses((status = 200, body = Vec<TokenView>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<TokenView>>> {
    caller.require(Role::Admin)?;
    Ok(Json(
        state.store.tokens()?.into_iter().map(token_view).collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "users", request_body = NewToken,
    responses((status = 201, body = CreatedToken)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(req): JsonBody<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    caller.require(Role::Admin)?;
    let name_ok =
        (1..=64).contains(&req.name.chars().count()) && !req.name.chars().any(char::is_control);
    if !name_ok {
        return Err(ApiError::invalid_field(
            "name",
            "must be 1 to 64 printable characters",
        ));
    }
    if let Some(days) = req.expires_in_days {
        if !(1..=3650).contains(&days) {
            return Err(ApiError::invalid_field(
                "expires_in_days",
                "must be between 1 and 3650",
            ));
        }
    }
    let id = random_hex(8);
    let secret = random_hex(32);
    let token = ApiToken {
        id: id.clone(),
        name: req.name,
        role: req.role,
        secret_sha256: sha256_hex(&secret),
        created_ms: now_ms(),
        expires_ms: req
            .expires_in_days
            .map(|d| now_ms() + u64::from(d) * 86_400_000),
        created_by: caller.name.clone(),
    };
    let audit = caller.audit(
        "token.create",
        format!("token/{id}"),
        format!("{} ({})", token.name, token.role.as_str()),
    );
    state.store.put_token(&token, &audit)?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            info: token_view(token),
            token: format!("{TOKEN_PREFIX}{id}_{secret}"),
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "users",
    params(("id" = String, Path)),
    responses((status = 204, description = "revoked")))]
pub async fn delete_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    let audit = caller.audit("token.revoke", format!("token/{id}"), "");
    if !state.store.delete_token(&id, &audit)? {
        return Err(ApiError::not_found(format!("no token {id:?}")));
    }
    Ok(StatusCode::NO_CONTENT)
}
