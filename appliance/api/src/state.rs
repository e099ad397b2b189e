//! Everything a handler may use, shared behind one `Arc`.

use crate::auth::rate_limit::LoginLimiter;
use crate::auth::secrets::{constant_time_eq, sha256_hex};
use crate::auth::sessions::Sessions;
use crate::auth::{Caller, TOKEN_PREFIX};
use crate::control::Control;
use crate::error::ApiError;
use crate::events::EventLog;
use crate::tls::TlsState;
use feedline_store::{now_ms, Store};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub control: Arc<dyn Control>,
    pub store: Arc<Store>,
    pub events: EventLog,
    pub sessions: Sessions,
    pub limiter: LoginLimiter,
    /// Present until the first admin is created.
    pub setup_code: Mutex<Option<String>>,
    pub tls: Option<TlsState>,
    pub started: Instant,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        control: Arc<dyn Control>,
        store: Arc<Store>,
        events: EventLog,
        setup_code: Option<String>,
        tls: Option<TlsState>,
    ) -> Self {
        AppState(Arc::new(Inner {
            control,
            store,
            events,
            sessions: Sessions::default(),
            limiter: LoginLimiter::default(),
            setup_code: Mutex::new(setup_code),
            tls,
            started: Instant::now(),
        }))
    }

    pub fn sessions(&self) -> &Sessions {
        &self.0.sessions
    }

    /// Cookies get `Secure` when the API is served over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.0.tls.is_some()
    }

    pub fn token_caller(&self, token: &str, address: IpAddr) -> Result<Caller, ApiError> {
        let refused = || ApiError::unauthorized("unknown, revoked or expired API token");
        let rest = token.strip_prefix(TOKEN_PREFIX).ok_or_else(refused)?;
        let (id, secret) = rest.split_once('_').ok_or_else(refused)?;
        let stored = self.store.token(id)?;
        let valid = stored.filter(|t| {
            constant_time_eq(&t.secret_sha256, &sha256_hex(secret))
                && t.expires_ms.is_none_or(|e| e > now_ms())
        });
        match valid {
            Some(t) => Ok(Caller {
                name: t.name,
                role: t.role,
                address,
                via_token: true,
            }),
            // Not rate limited: a token's secret is 256 random bits, beyond guessing, and one
            // misconfigured scraper must not lock out every other token on its host.
            None => Err(refused()),
        }
    }
}
