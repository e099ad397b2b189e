//! The whole configuration, in the schema of the TOML file: export (JSON, or TOML with
//! `Accept: application/toml`) and import (either content type).

use crate::auth::Caller;
use crate::control::{Applied, ControlError};
use crate::error::{ApiError, ApiResult};
use crate::extract::{has_content_type, parse_json, read_body, ApiQuery};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use feedline_config::Config;
use feedline_store::Role;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// Include SRT passphrases and the metrics token (admin only).
    #[serde(default)]
    pub include_secrets: bool,
}

#[utoipa::path(get, path = "/api/v1/config", tag = "config", params(ExportQuery),
    responses((status = 200, content((Config = "application/json"), (String = "application/toml")))))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    caller.require(Role::Viewer)?;
    let config = if query.include_secrets {
        caller.require(Role::Admin)?;
        state.store.append_audit(&caller.audit(
            "config.export_secrets",
            "config",
            "exported with secrets",
        ))?;
        state.control.config()
    } else {
        state.control.config().redacted()
    };
    let wants_toml = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/toml"));
    if wants_toml {
        let text = toml::to_string(&config).map_err(ApiError::internal)?;
        Ok(([(header::CONTENT_TYPE, "application/toml")], text).into_response())
    } else {
        Ok(Json(config).into_response())
    }
}

/// Replaces the whole configuration (admin). Placeholders keep the stored secrets.
#[utoipa::path(put, path = "/api/v1/config", tag = "config",
    request_body(content((Config = "application/json"), (String = "application/toml"))),
    responses((status = 200, body = Applied)))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> ApiResult<Json<Applied>> {
    caller.require(Role::Admin)?;
    let is_toml = has_content_type(request.headers(), "application/toml");
    if !is_toml && !has_content_type(request.headers(), "application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the configuration as application/json or application/toml",
        ));
    }
    let body = read_body(request, &()).await?;
    let incoming: Config = if is_toml {
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::bad_request(None, "TOML must be UTF-8"))?;
        feedline_config::parse(text).map_err(|e| match e {
            feedline_config::LoadError::Invalid(errors) => ControlError::Invalid(errors.0).into(),
            feedline_config::LoadError::Field { path, message } => {
                ApiError::invalid_field(path, message)
            }
            other => ApiError::invalid_field("body", other.to_string()),
        })?
    } else {
        parse_json(&body)?
    };
    let audit = caller.audit(
        "config.import",
        "config",
        format!("{} channel(s)", incoming.channels.len()),
    );
    let control = state.control.clone();
    let applied = tokio::task::spawn_blocking(move || {
        let mut replace = |config: &mut Config| {
            *config = incoming.clone();
            Ok(())
        };
        control.update_config(&mut replace, audit)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(applied))
}
