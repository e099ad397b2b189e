//! Live status: a snapshot, and a Server-Sent Events stream that sends a `status` event every
//! second and each `event` as it happens.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::status::ApplianceStatus;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Json;
use feedline_store::Role;
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

#[utoipa::path(get, path = "/api/v1/status", tag = "status",
    responses((status = 200, body = ApplianceStatus)))]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<ApplianceStatus>> {
    caller.require(Role::Viewer)?;
    Ok(Json(state.control.status().borrow().as_ref().clone()))
}

/// `text/event-stream`: `event: status` (an `ApplianceStatus`) every second, and
/// `event: event` (an `Event`) as things happen.
#[utoipa::path(get, path = "/api/v1/status/stream", tag = "status",
    responses((status = 200, content_type = "text/event-stream", description = "SSE stream")))]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    caller.require(Role::Viewer)?;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
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
