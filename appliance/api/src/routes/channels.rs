//! Channels: list, get, create, replace, patch (JSON merge patch), delete, start, stop.
//! Reads show secrets redacted; a write that sends the redaction placeholder back keeps the
//! stored secret. Validation errors name fields relative to the channel (`ladder[1].bitrate_kbps`).

use crate::auth::Caller;
use crate::control::{Applied, ControlError};
use crate::error::{ApiError, ApiResult};
use crate::extract::{has_content_type, parse_json, read_body, ApiPath, JsonBody};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::Json;
use feedline_config::{Channel, Config};
use feedline_store::Role;

#[utoipa::path(get, path = "/api/v1/channels", tag = "channels",
    responses((status = 200, body = Vec<Channel>)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Channel>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(state.control.config().redacted().channels))
}

#[utoipa::path(get, path = "/api/v1/channels/{name}", tag = "channels",
    params(("name" = String, Path)),
    responses((status = 200, body = Channel)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Channel>> {
    caller.require(Role::Viewer)?;
    state
        .control
        .config()
        .redacted()
        .channels
        .into_iter()
        .find(|c| c.name == name)
        .map(Json)
        .ok_or_else(|| no_channel(&name))
}

fn no_channel(name: &str) -> ApiError {
    ApiError::not_found(format!("no channel {name:?}"))
}

/// Runs a config edit through the supervisor (off the async threads: it may restart media).
/// Validation errors name fields relative to the channel (`ladder[1].bitrate_kbps`): a refused
/// edit changed nothing, so the channel's index is its place in the current config (or the end,
/// for one being created).
async fn edit_channel(
    state: &AppState,
    caller: &Caller,
    action: &str,
    name: &str,
    mut edit: impl FnMut(&mut Config) -> Result<(), ControlError> + Send + 'static,
) -> ApiResult<Applied> {
    caller.require(Role::Admin)?;
    let control = state.control.clone();
    let audit = caller.audit(action, format!("channel/{name}"), "");
    let result = tokio::task::spawn_blocking(move || control.update_config(&mut edit, audit))
        .await
        .map_err(ApiError::internal)?;
    result.map_err(|e| {
        let channels = state.control.config().channels;
        let index = channels
            .iter()
            .position(|c| c.name == name)
            .unwrap_or(channels.len());
        ApiError::from(e).relative_to_channel(index)
    })
}

#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", request_body = Channel,
    responses((status = 201, body = Applied)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(channel): JsonBody<Channel>,
) -> ApiResult<(StatusCode, Json<Applied>)> {
    let name = channel.name.clone();
    let applied = edit_channel(&state, &caller, "channel.create", &name, move |config| {
        if config.channels.iter().any(|c| c.name == channel.name) {
            return Err(ControlError::Conflict(format!(
                "channel {:?} already exists",
                channel.name
            )));
        }
        config.channels.push(channel.clone());
        Ok(())
    })
    .await?;
    Ok((StatusCode::CREATED, Json(applied)))
}

#[utoipa::path(put, path = "/api/v1/channels/{name}", tag = "channels", request_body = Channel,
    params(("name" = String, Path)),
    responses((status = 200, body = Applied)))]
pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    JsonBody(channel): JsonBody<Channel>,
) -> ApiResult<Json<Applied>> {
    if channel.name != name {
        return Err(ApiError::invalid_field(
            "name",
            format!("must be {name:?}, the channel in the path (renaming is delete + create)"),
        ));
    }
    let target = name.clone();
    edit_channel(&state, &caller, "channel.replace", &target, move |config| {
        let i = position(config, &name)?;
        config.channels[i] = channel.clone();
        Ok(())
    })
    .await
    .map(Json)
}

fn position(config: &Config, name: &str) -> Result<usize, ControlError> {
    config
        .channels
        .iter()
        .position(|c| c.name == name)
        .ok_or_else(|| ControlError::NotFound(format!("no channel {name:?}")))
}

/// Changes part of a channel with a JSON merge patch (RFC 7396): objects merge, `null` removes a
/// key, arrays (ladder, outputs) are replaced whole.
#[utoipa::path(patch, path = "/api/v1/channels/{name}", tag = "channels",
    params(("name" = String, Path)),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses((status = 200, body = Applied)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    request: Request,
) -> ApiResult<Json<Applied>> {
    let headers = request.headers();
    if !has_content_type(headers, "application/merge-patch+json")
        && !has_content_type(headers, "application/json")
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send a JSON merge patch as Content-Type: application/merge-patch+json",
        ));
    }
    let body = read_body(request, &()).await?;
    let patch: serde_json::Value = parse_json(&body)?;
    if !patch.is_object() {
        return Err(ApiError::invalid_field(
            "body",
            "a merge patch must be a JSON object",
        ));
    }
    if patch
        .get("name")
        .is_some_and(|n| n.as_str() != Some(name.as_str()))
    {
        return Err(ApiError::invalid_field(
            "name",
            "cannot be changed by a patch (renaming is delete + create)",
        ));
    }
    let target = name.clone();
    edit_channel(&state, &caller, "channel.patch", &target, move |config| {
        let i = position(config, &name)?;
        let mut value = serde_json::to_value(&config.channels[i])
            .map_err(|e| ControlError::Internal(e.to_string()))?;
        merge_patch(&mut value, &patch);
        let channel: Channel = serde_path_to_error::deserialize(&value).map_err(|e| {
            let field = e.path().to_string();
            let message = e.into_inner().to_string();
            // An input or output is read whole: name the key inside it.
            let field =
                feedline_config::field_path::locate(&value, &field, &message).unwrap_or(field);
            ControlError::Invalid(vec![feedline_config::FieldError {
                path: format!("channels[{i}].{field}"),
                message,
            }])
        })?;
        config.channels[i] = channel;
        Ok(())
    })
    .await
    .map(Json)
}

/// RFC 7396.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let serde_json::Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(Default::default());
    }
    if let serde_json::Value::Object(map) = target {
        for (key, value) in patch_map {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(
                    map.entry(key.clone()).or_insert(serde_json::Value::Null),
                    value,
                );
            }
        }
    }
}

#[utoipa::path(delete, path = "/api/v1/channels/{name}", tag = "channels",
    params(("name" = String, Path)),
    responses((status = 200, body = Applied)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Applied>> {
    let target = name.clone();
    edit_channel(&state, &caller, "channel.delete", &target, move |config| {
        let i = position(config, &name)?;
        config.channels.remove(i);
        Ok(())
    })
    .await
    .map(Json)
}

async fn set_running(
    state: AppState,
    caller: Caller,
    name: String,
    running: bool,
) -> ApiResult<StatusCode> {
    caller.require(Role::Operator)?;
    let action = if running {
        "channel.start"
    } else {
        "channel.stop"
    };
    let audit = caller.audit(action, format!("channel/{name}"), "");
    let control = state.control.clone();
    tokio::task::spawn_blocking(move || control.set_running(&name, running, audit))
        .await
        .map_err(ApiError::internal)??;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts the channel (operator). It stays started across restarts.
#[utoipa::path(post, path = "/api/v1/channels/{name}/start", tag = "channels",
    params(("name" = String, Path)),
    responses((status = 204, description = "started")))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    set_running(state, caller, name, true).await
}

/// Stops the channel (operator). It stays stopped across restarts.
#[utoipa::path(post, path = "/api/v1/channels/{name}/stop", tag = "channels",
    params(("name" = String, Path)),
    responses((status = 204, description = "stopped")))]
pub async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    set_running(state, caller, name, false).await
}

/// Takes a failover channel back to its primary input now, without waiting for the revert
/// time (operator). 409 when the channel has no failover, is not running, or its primary input
/// is not healthy.
#[utoipa::path(post, path = "/api/v1/channels/{name}/input/revert", tag = "channels",
    params(("name" = String, Path)),
    responses((status = 204, description = "the primary input is on air (from the next frame)"),
        (status = 409, description = "no failover, not running, or primary input unhealthy")))]
pub async fn revert_input(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Operator)?;
    let audit = caller.audit("channel.input.revert", format!("channel/{name}"), "");
    let control = state.control.clone();
    tokio::task::spawn_blocking(move || control.revert_input(&name, audit))
        .await
        .map_err(ApiError::internal)??;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]});
        super::merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}, "list": [3]}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}, "list": [3]}));
    }
}
