//! What the store keeps besides the configuration. Values are JSON inside redb, so a field can be
//! added later (with `#[serde(default)]`) without a migration.

use serde::{Deserialize, Serialize};

/// What a user or token may do. Ordered: each role can do everything the ones before it can.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads status, config (without secrets), events.
    Viewer,
    /// Viewer, plus start/stop and other operational actions.
    Operator,
    /// Operator, plus configuration, users and tokens.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// argon2id PHC string; never leaves the process.
    pub password_hash: String,
    pub created_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Public identifier, also the prefix of the token text (so a token can be revoked by id).
    pub id: String,
    pub name: String,
    pub role: Role,
    /// SHA-256 of the token's secret part, hex; the token itself is shown once and never stored.
    pub secret_sha256: String,
    pub created_ms: u64,
    pub expires_ms: Option<u64>,
    pub created_by: String,
}

/// One change made to the appliance: who, when, from where, what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Assigned by the store, increasing.
    #[serde(default)]
    pub seq: u64,
    pub time_ms: u64,
    /// User name, or `token:<name>` for an API token.
    pub actor: String,
    /// The client address the change came from.
    pub source: String,
    pub action: String,
    pub target: String,
    /// What changed, field by field (secrets named, never shown).
    pub detail: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Something that happened to the media side or the appliance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    #[serde(default)]
    pub seq: u64,
    pub time_ms: u64,
    pub severity: Severity,
    pub channel: Option<String>,
    /// Machine-readable kind, e.g. `output_state`, `channel_started`.
    pub kind: String,
    pub message: String,
}

/// Which page of a log to read: entries with `seq < before` (newest first), at most `limit`.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub before: Option<u64>,
    pub limit: usize,
    pub channel: Option<String>,
    pub min_severity: Option<Severity>,
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
