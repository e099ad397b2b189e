//! The event log (what happened, paged, filterable) and the audit log (who changed what).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use feedline_store::{AuditEntry, Event, EventQuery, Role, Severity};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const MAX_PAGE: usize = 500;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only this channel's events.
    pub channel: Option<String>,
    /// Only events at least this severe.
    pub severity: Option<Severity>,
    /// Events older than this sequence number (the `next_before` of the previous page).
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub before: Option<u64>,
    /// Page size, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<u64>,
}

/// The cursor of the next page: the oldest sequence number of a full page.
fn next_before(oldest: Option<u64>, found: usize, limit: usize) -> Option<u64> {
    oldest.filter(|_| found == limit)
}

/// Sequence numbers are within JSON's safe signed range; larger cursors are a client error.
fn cursor(before: Option<u64>) -> ApiResult<Option<u64>> {
    match before {
        Some(0) => Err(ApiError::bad_request(
            Some("before".into()),
            "must be at least 1",
        )),
        Some(b) if b > i64::MAX as u64 => Err(ApiError::bad_request(
            Some("before".into()),
            format!("must be at most {}", i64::MAX),
        )),
        other => Ok(other),
    }
}

fn page_size(limit: Option<usize>) -> ApiResult<usize> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request(
            Some("limit".into()),
            format!("must be between 1 and {MAX_PAGE}"),
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery),
    responses((status = 200, body = EventPage)))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<EventPage>> {
    caller.require(Role::Viewer)?;
    let limit = page_size(q.limit)?;
    let found = state.store.events(&EventQuery {
        before: cursor(q.before)?,
        limit,
        channel: q.channel,
        min_severity: q.severity,
    })?;
    Ok(Json(EventPage {
        next_before: next_before(found.last().map(|e| e.seq), found.len(), limit),
        events: found,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[param(minimum = 1, maximum = 9223372036854775807_i64)]
    pub before: Option<u64>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_before: Option<u64>,
}

/// Who changed what, when, from where (admin).
#[utoipa::path(get, path = "/api/v1/audit", tag = "events", params(AuditQuery),
    responses((status = 200, body = AuditPage)))]
pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    caller.require(Role::Admin)?;
    let limit = page_size(q.limit)?;
    let found = state.store.audit(cursor(q.before)?, limit)?;
    Ok(Json(AuditPage {
        next_before: next_before(found.last().map(|e| e.seq), found.len(), limit),
        entries: found,
    }))
}
