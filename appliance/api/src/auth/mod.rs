//! Who is calling: a browser session (cookie + CSRF header on writes) or an API token (bearer).
//! `Caller` is an extractor, so a handler that takes one cannot run unauthenticated; it then
//! asks for the role it needs with `caller.require(Role::…)`.

pub mod password;
pub mod rate_limit;
pub mod secrets;
pub mod sessions;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, Method};
use feedline_store::{now_ms, AuditEntry, Role};
use std::net::{IpAddr, SocketAddr};

pub const CSRF_HEADER: &str = "x-csrf-token";
/// API tokens read `fl_<id>_<secret>`.
pub const TOKEN_PREFIX: &str = "fl_";

#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    pub address: IpAddr,
    pub via_token: bool,
}

impl Caller {
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {} role; {} has {}",
                role.as_str(),
                self.name,
                self.role.as_str()
            )))
        }
    }

    /// An audit entry for a change this caller makes.
    pub fn audit(
        &self,
        action: &str,
        target: impl Into<String>,
        detail: impl Into<String>,
    ) -> AuditEntry {
        AuditEntry {
            seq: 0,
            time_ms: now_ms(),
            actor: if self.via_token {
                format!("token:{}", self.name)
            } else {
                self.name.clone()
            },
            source: self.address.to_string(),
            action: action.into(),
            target: target.into(),
            detail: detail.into(),
        }
    }
}

pub fn client_address(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

pub fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let address = client_address(parts);
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let text = auth
                .to_str()
                .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
            let token = text
                .strip_prefix("Bearer ")
                .ok_or_else(|| ApiError::unauthorized("use Authorization: Bearer <token>"))?;
            return state.token_caller(token.trim(), address);
        }
        let cookie = cookie_value(&parts.headers, sessions::COOKIE)
            .ok_or_else(|| ApiError::unauthorized("log in or send an API token"))?;
        let session = state
            .sessions()
            .get(cookie)
            .ok_or_else(|| ApiError::unauthorized("session expired; log in again"))?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !secrets::constant_time_eq(sent, &session.csrf_token) {
                return Err(ApiError::forbidden(
                    "missing or wrong X-CSRF-Token header (from the login response or GET /api/v1/session)",
                ));
            }
        }
        Ok(Caller {
            name: session.user,
            role: session.role,
            address,
            via_token: false,
        })
    }
}
