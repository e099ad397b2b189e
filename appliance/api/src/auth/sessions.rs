//! Browser sessions, in memory: a restart logs browsers out, which is the safe side. The cookie
//! holds a random id; only its SHA-256 is kept, so a memory dump yields no usable cookie.

use super::secrets::{random_hex, sha256_hex};
use feedline_store::Role;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const COOKIE: &str = "feedline_session";
/// A session unused for this long ends (the operator logs in again).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(12 * 3600);

#[derive(Clone)]
pub struct Session {
    pub user: String,
    pub role: Role,
    pub csrf_token: String,
    last_seen: Instant,
}

#[derive(Default)]
pub struct Sessions {
    by_hash: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Returns (cookie value, CSRF token).
    pub fn create(&self, user: &str, role: Role) -> (String, String) {
        let id = random_hex(32);
        let csrf = random_hex(32);
        let mut map = self.by_hash.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.last_seen.elapsed() < IDLE_TIMEOUT);
        map.insert(
            sha256_hex(&id),
            Session {
                user: user.into(),
                role,
                csrf_token: csrf.clone(),
                last_seen: Instant::now(),
            },
        );
        (id, csrf)
    }

    pub fn get(&self, cookie: &str) -> Option<Session> {
        let mut map = self.by_hash.lock().unwrap_or_else(|p| p.into_inner());
        let key = sha256_hex(cookie);
        let session = map.get_mut(&key)?;
        if session.last_seen.elapsed() >= IDLE_TIMEOUT {
            map.remove(&key);
            return None;
        }
        session.last_seen = Instant::now();
        Some(session.clone())
    }

    pub fn end(&self, cookie: &str) {
        let mut map = self.by_hash.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&sha256_hex(cookie));
    }

    /// A deleted user or a changed role must not keep an open session.
    pub fn end_user(&self, user: &str) {
        let mut map = self.by_hash.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.user != user);
    }
}
