//! The `/api/v1` router.

pub mod channels;
pub mod config_io;
pub mod events;
pub mod live;
pub mod session;
pub mod system;
pub mod users;

use crate::error::ApiError;
use crate::extract::MAX_BODY_BYTES;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub fn api(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(crate::openapi::serve))
        .route("/api/v1/health", get(system::health))
        .route(
            "/api/v1/setup",
            get(session::setup_state).post(session::setup),
        )
        .route("/api/v1/login", post(session::login))
        .route("/api/v1/logout", post(session::logout))
        .route("/api/v1/session", get(session::session))
        .route("/api/v1/system", get(system::system))
        .route(
            "/api/v1/system/tls",
            get(system::tls_info).put(system::tls_upload),
        )
        .route("/api/v1/alarms", get(system::alarms))
        .route("/api/v1/status", get(live::status))
        .route("/api/v1/status/stream", get(live::stream))
        .route("/api/v1/events", get(events::events))
        .route("/api/v1/audit", get(events::audit))
        .route(
            "/api/v1/config",
            get(config_io::export).put(config_io::import),
        )
        .route(
            "/api/v1/channels",
            get(channels::list).post(channels::create),
        )
        .route(
            "/api/v1/channels/{name}",
            get(channels::get)
                .put(channels::replace)
                .patch(channels::patch)
                .delete(channels::delete),
        )
        .route("/api/v1/channels/{name}/start", post(channels::start))
        .route("/api/v1/channels/{name}/stop", post(channels::stop))
        .route(
            "/api/v1/channels/{name}/input/revert",
            post(channels::revert_input),
        )
        .route("/api/v1/channels/{name}/thumbnail", get(live::thumbnail))
        .route(
            "/api/v1/users",
            get(users::list_users).post(users::create_user),
        )
        .route(
            "/api/v1/users/{username}",
            axum::routing::delete(users::delete_user),
        )
        .route(
            "/api/v1/tokens",
            get(users::list_tokens).post(users::create_token),
        )
        .route(
            "/api/v1/tokens/{id}",
            axum::routing::delete(users::delete_token),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(
            crate::extract::receive_body_first,
        ))
        // Outermost, so the limit applies when the middleware above reads the body.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Unknown API paths get a JSON 404; everything else is the browser UI.
async fn not_found(method: axum::http::Method, uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") || method != axum::http::Method::GET {
        return ApiError::not_found("no such endpoint; see /api/v1/openapi.json").into_response();
    }
    crate::ui::serve(uri).await
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this endpoint; see /api/v1/openapi.json",
    )
}
