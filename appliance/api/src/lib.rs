//! Feedline's control plane over HTTP: the REST API under `/api/v1` (OpenAPI at
//! `/api/v1/openapi.json`), authentication (setup code, argon2id passwords, cookie sessions with
//! CSRF, API tokens, roles, login rate limiting), the audit and event logs, live status over SSE,
//! Prometheus metrics on their own listener, and HTTPS.
//!
//! HTTP types stay in this crate. The appliance is reached only through the `Control` trait,
//! which the supervisor implements: the API never touches the media side.

pub mod auth;
pub mod control;
pub mod error;
pub mod events;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod server;
pub mod state;
pub mod status;
pub mod tls;
pub mod ui;

pub use control::{Applied, ConfigEdit, Control, ControlError, ProgramThumbnail};
pub use events::EventLog;
pub use server::{spawn, ServeError, Settings};
