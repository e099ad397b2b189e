//! Where the appliance listens: the web UI + API (HTTP and HTTPS) and the Prometheus metrics.
//! Read at start; a change made through the API is stored and takes effect on the next start.

use crate::Secret;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Address the API, UI and metrics listeners bind.
    #[serde(default = "any_address")]
    pub bind: String,
    /// Plain HTTP: redirects to HTTPS when `tls` is on, serves the API when it is off.
    #[serde(default = "default_http_port")]
    pub http_port: u16,
    #[serde(default = "default_https_port")]
    pub https_port: u16,
    /// Serve the API over HTTPS with the box's certificate (self-signed on first start).
    #[serde(default = "yes")]
    pub tls: bool,
    #[serde(default)]
    pub metrics: Metrics,
}

/// The Prometheus endpoint, on its own listener so a NOC can scrape it without API credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    #[serde(default = "default_metrics_port")]
    pub port: u16,
    /// When set, scrapes must send `Authorization: Bearer <token>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
}

fn any_address() -> String {
    "0.0.0.0".into()
}
fn default_http_port() -> u16 {
    8080
}
fn default_https_port() -> u16 {
    8443
}
fn default_metrics_port() -> u16 {
    9798
}
fn yes() -> bool {
    true
}

impl Default for Server {
    fn default() -> Self {
        Server {
            bind: any_address(),
            http_port: default_http_port(),
            https_port: default_https_port(),
            tls: true,
            metrics: Metrics::default(),
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            port: default_metrics_port(),
            bearer_token: None,
        }
    }
}
