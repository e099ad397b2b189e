//! The appliance itself: version, uptime, hardware, health, TLS certificate.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;
use crate::status::{Alarm, Hardware};
use crate::tls::TlsError;
use axum::extract::State;
use axum::Json;
use feedline_store::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct SystemInfo {
    pub version: String,
    pub uptime_s: f64,
    pub safe_mode: Option<String>,
    #[serde(flatten)]
    pub hardware: Hardware,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `degraded` (alarms active) or `safe_mode`.
    pub status: String,
    pub version: String,
    pub setup_required: bool,
    /// Why the appliance is in safe mode, readable without logging in.
    pub safe_mode: Option<String>,
}

/// Liveness and safe-mode state for load balancers and the login page (no authentication; no
/// detail beyond what the login page needs).
#[utoipa::path(get, path = "/api/v1/health", tag = "system",
    responses((status = 200, body = Health)))]
pub async fn health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    let status = state.control.status().borrow().clone();
    let word = if status.safe_mode.is_some() {
        "safe_mode"
    } else if status.alarms.is_empty() {
        "ok"
    } else {
        "degraded"
    };
    Ok(Json(Health {
        status: word.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        setup_required: state.store.user_count()? == 0,
        safe_mode: status.safe_mode.clone(),
    }))
}

#[utoipa::path(get, path = "/api/v1/system", tag = "system",
    responses((status = 200, body = SystemInfo)))]
pub async fn system(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<SystemInfo>> {
    caller.require(Role::Viewer)?;
    let control = state.control.clone();
    let hardware = tokio::task::spawn_blocking(move || control.system())
        .await
        .map_err(ApiError::internal)?;
    let status = state.control.status().borrow().clone();
    Ok(Json(SystemInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_s: state.started.elapsed().as_secs_f64(),
        safe_mode: status.safe_mode.clone(),
        hardware,
    }))
}

/// The alarms active now.
#[utoipa::path(get, path = "/api/v1/alarms", tag = "events",
    responses((status = 200, body = Vec<Alarm>)))]
pub async fn alarms(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Alarm>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(state.control.status().borrow().alarms.clone()))
}

#[derive(Serialize, ToSchema)]
pub struct TlsInfo {
    /// Whether the API is served over HTTPS.
    pub enabled: bool,
    /// SHA-256 fingerprint of the certificate served.
    pub fingerprint_sha256: Option<String>,
    /// True while the certificate is the one generated on first start.
    pub self_signed: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsUpload {
    /// The certificate chain, PEM, leaf first.
    pub certificate_pem: String,
    /// The private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub private_key_pem: String,
}

#[utoipa::path(get, path = "/api/v1/system/tls", tag = "system",
    responses((status = 200, body = TlsInfo)))]
pub async fn tls_info(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<TlsInfo>> {
    caller.require(Role::Viewer)?;
    Ok(Json(match &state.tls {
        Some(tls) => {
            let (fingerprint_sha256, self_signed) = tls.info();
            TlsInfo {
                enabled: true,
                fingerprint_sha256,
                self_signed,
            }
        }
        None => TlsInfo {
            enabled: false,
            fingerprint_sha256: None,
            self_signed: false,
        },
    }))
}

/// Replaces the HTTPS certificate; served from the next connection, kept across restarts.
#[utoipa::path(put, path = "/api/v1/system/tls", tag = "system", request_body = TlsUpload,
    responses((status = 200, body = TlsInfo)))]
pub async fn tls_upload(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(upload): JsonBody<TlsUpload>,
) -> ApiResult<Json<TlsInfo>> {
    caller.require(Role::Admin)?;
    let Some(tls) = &state.tls else {
        return Err(ApiError::conflict(
            "TLS is off in [server]; turn it on to serve a certificate",
        ));
    };
    let fingerprint = tls
        .replace(&upload.certificate_pem, &upload.private_key_pem)
        .await
        .map_err(|e| match e {
            TlsError::Invalid { field, message } => ApiError::invalid_field(field, message),
            other => ApiError::internal(other),
        })?;
    state.store.append_audit(&caller.audit(
        "tls.replace",
        "system/tls",
        format!("certificate {fingerprint}"),
    ))?;
    Ok(Json(TlsInfo {
        enabled: true,
        fingerprint_sha256: Some(fingerprint),
        self_signed: false,
    }))
}
