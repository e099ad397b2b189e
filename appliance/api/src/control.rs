//! What the API asks of the appliance. The supervisor (in the `feedline` crate) implements it; the
//! API never touches the media side directly, and every change goes through the supervisor,
//! which validates, persists and applies it.

use crate::status::ApplianceStatus;
use feedline_config::{Config, FieldError};
use feedline_store::AuditEntry;
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::watch;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("invalid configuration")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The store cannot be used; configuration changes are refused until it is fixed.
    #[error("safe mode: {0}")]
    SafeMode(String),
    #[error("{0}")]
    Internal(String),
}

/// A change to the configuration, run by the supervisor under its lock so that concurrent
/// requests cannot lose each other's updates.
pub type ConfigEdit<'a> = &'a mut (dyn FnMut(&mut Config) -> Result<(), ControlError> + Send);

/// What a configuration change did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Applied {
    /// The store's revision after the change.
    pub revision: u64,
    /// Channels rebuilt because their input, timecode, ladder or audio changed.
    pub restarted_channels: Vec<String>,
    /// Outputs restarted (`channel/output`) because their transport or the renditions they carry
    /// changed; the channel's encoders and other outputs were not touched.
    pub restarted_outputs: Vec<String>,
    /// Outputs added to a running channel (`channel/output`), nothing else touched.
    pub added_outputs: Vec<String>,
    /// Outputs removed from a running channel (`channel/output`), nothing else touched.
    pub removed_outputs: Vec<String>,
    pub started_channels: Vec<String>,
    pub removed_channels: Vec<String>,
    /// `[server]` settings changed: they apply on the next start.
    pub restart_required: bool,
}

pub trait Control: Send + Sync + 'static {
    /// The running configuration, secrets included (the API redacts what it shows).
    fn config(&self) -> Config;
    /// Edit → keep the stored secrets where the edit holds the redaction placeholder → validate →
    /// persist (with the audit entry, its detail saying what changed, atomically) → apply what
    /// changed.
    fn update_config(
        &self,
        edit: ConfigEdit<'_>,
        audit: AuditEntry,
    ) -> Result<Applied, ControlError>;
    /// Starts or stops a configured channel and remembers it across restarts.
    fn set_running(
        &self,
        channel: &str,
        running: bool,
        audit: AuditEntry,
    ) -> Result<(), ControlError>;
    /// Live status, refreshed at least once a second.
    fn status(&self) -> watch::Receiver<Arc<ApplianceStatus>>;
    /// Encoder backends, capture devices, network interfaces (probed on call).
    fn system(&self) -> crate::status::Hardware;
    /// The latest program picture of a running channel, as a small JPEG.
    fn thumbnail(&self, channel: &str) -> Option<ProgramThumbnail>;
    /// Takes a failover channel back to its primary input now (it must be healthy).
    fn revert_input(&self, channel: &str, audit: AuditEntry) -> Result<(), ControlError>;
}

/// A small JPEG of what a channel is encoding, for confidence monitoring.
pub struct ProgramThumbnail {
    pub jpeg: std::sync::Arc<[u8]>,
    /// How long ago the picture was taken: a frozen input shows as a growing age.
    pub age: std::time::Duration,
}
