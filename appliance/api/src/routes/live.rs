//! Live status: a snapshot, and a Server-Sent Events stream that sends a `status` event every
//! second and each `event` as it happens.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use crate::status::ApplianceStatus;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Json;
use feedline_store::Role;
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use utoipa::IntoParams;

#[utoipa::path(get, path = "/api/v1/status", tag = "status",
    responses((status = 200, body = ApplianceStatus)))]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<ApplianceStatus>> {
    caller.require(Role::Viewer)?;
    Ok(Json(state.control.status().borrow().as_ref().clone()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Milliseconds between `status` events, 100–10000; 1000 when absent.
    pub interval_ms: Option<u64>,
}

/// `text/event-stream`: `event: status` (an `ApplianceStatus`) every second (or every
/// `interval_ms`), and `event: event` (an `Event`) as things happen.
#[utoipa::path(get, path = "/api/v1/status/stream", tag = "status", params(StreamQuery),
    responses((status = 200, content_type = "text/event-stream", description = "SSE stream")))]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    caller.require(Role::Viewer)?;
    let interval_ms = q.interval_ms.unwrap_or(1000);
    if !(100..=10_000).contains(&interval_ms) {
        return Err(ApiError::bad_request(
            Some("interval_ms".into()),
            "must be between 100 and 10000",
        ));
    }
    let mut ticker = tokio::time::interval(Duration::from_millis(interval_ms));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let status = state.control.status();
    let events = state.events.subscribe();
    let s = stream::unfold(
        (ticker, status, events),
        |(mut ticker, status, mut events)| async move {
            let item = tokio::select! {
                _ = ticker.tick() => {
                    let snapshot = status.borrow().clone();
                    SseEvent::default().event("status").json_data(snapshot.as_ref())
                }
                received = events.recv() => match received {
                    Ok(e) => SseEvent::default().event("event").json_data(e),
                    // A slow client missed events: say so rather than pretend.
                    Err(RecvError::Lagged(n)) => Ok(SseEvent::default().event("lagged").data(n.to_string())),
                    Err(RecvError::Closed) => return None,
                },
            };
            let item = item.unwrap_or_else(|_| SseEvent::default().comment("serialisation failed"));
            Some((Ok(item), (ticker, status, events)))
        },
    );
    Ok(Sse::new(s).keep_alive(KeepAlive::default()))
}

/// The latest program picture of a running channel (JPEG, about 320 pixels wide, refreshed twice
/// a second). `X-Picture-Age-Ms` says how old it is: a frozen input shows as a growing age.
#[utoipa::path(get, path = "/api/v1/channels/{name}/thumbnail", tag = "status",
    params(("name" = String, Path)),
    responses((status = 200, content_type = "image/jpeg", description = "JPEG picture"),
        (status = 404, body = crate::error::ErrorBody, description = "unknown channel, or no picture yet")))]
pub async fn thumbnail(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<axum::response::Response> {
    use axum::http::header;
    use axum::response::IntoResponse;
    caller.require(Role::Viewer)?;
    let picture = state
        .control
        .thumbnail(&name)
        .ok_or_else(|| ApiError::not_found(format!("no picture from channel {name:?} yet")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg".to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (
                header::HeaderName::from_static("x-picture-age-ms"),
                picture.age.as_millis().to_string(),
            ),
        ],
        picture.jpeg.to_vec(),
    )
        .into_response())
}
