//! The event log: persisted in the store, and pushed to live-status subscribers as it happens.

use feedline_store::{now_ms, Event, Severity, Store};
use std::sync::Arc;
use tokio::sync::broadcast;

#[derive(Clone)]
pub struct EventLog {
    store: Arc<Store>,
    live: broadcast::Sender<Event>,
}

impl EventLog {
    pub fn new(store: Arc<Store>) -> Self {
        let (live, _) = broadcast::channel(256);
        EventLog { store, live }
    }

    /// Records an event; a store failure is logged, never propagated (an event about a problem
    /// must not become a second problem).
    pub fn record(&self, severity: Severity, channel: Option<&str>, kind: &str, message: String) {
        let event = Event {
            seq: 0,
            time_ms: now_ms(),
            severity,
            channel: channel.map(str::to_string),
            kind: kind.into(),
            message,
        };
        match self.store.append_event(&event) {
            Ok(stored) => {
                let _ = self.live.send(stored);
            }
            Err(e) => {
                tracing::error!(error = %e, kind, "event could not be stored");
                let _ = self.live.send(event);
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.live.subscribe()
    }
}
