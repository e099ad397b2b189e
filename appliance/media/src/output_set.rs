//! The outputs a running channel feeds, by name. The supervisor edits the set; the channel's
//! worker brings the playing pipeline in line with it (attaching and detaching mux branches),
//! so an output can be added, removed or re-shaped without touching the others.

use crate::output::OutputSlot;
use feedline_config::Output;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct OutputEntry {
    pub config: Output,
    pub slot: OutputSlot,
}

pub struct OutputSet {
    entries: Mutex<Vec<OutputEntry>>,
    /// Bumped on every edit; the worker compares it with what its pipeline was last shaped to.
    generation: AtomicU64,
    /// The generation the playing pipeline has been shaped to.
    applied: AtomicU64,
}

impl OutputSet {
    pub fn new(entries: Vec<OutputEntry>) -> Self {
        OutputSet {
            entries: Mutex::new(entries),
            generation: AtomicU64::new(0),
            applied: AtomicU64::new(0),
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The entries and the generation they belong to.
    pub fn snapshot(&self) -> (u64, Vec<OutputEntry>) {
        let entries = self.lock();
        (self.generation(), entries.clone())
    }

    /// Installs the next set; returns its generation.
    pub fn replace(&self, next: Vec<OutputEntry>) -> u64 {
        let mut entries = self.lock();
        *entries = next;
        self.generation.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// The worker's pipeline now feeds the outputs of `generation`.
    pub fn mark_applied(&self, generation: u64) {
        self.applied.fetch_max(generation, Ordering::AcqRel);
    }

    /// Waits (polling, bounded) until the pipeline feeds the outputs of `generation`; false when
    /// it did not within `limit` (the channel is between pipelines, e.g. restarting).
    pub fn wait_applied(&self, generation: u64, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.applied.load(Ordering::Acquire) < generation {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<OutputEntry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What one edit of a channel's outputs does to each output, by name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OutputChanges {
    /// New outputs: a new transport and a new mux branch.
    pub added: Vec<String>,
    /// Gone: the branch is detached and the transport stopped.
    pub removed: Vec<String>,
    /// The destination or SRT settings changed: the transport is restarted.
    pub transport: Vec<String>,
    /// What it carries changed (its renditions, or which output's TS it copies): it gets a new
    /// muxer (or a new original), the transport stays connected.
    pub content: Vec<String>,
}

impl OutputChanges {
    pub fn between(old: &[Output], new: &[Output]) -> Self {
        let mut changes = OutputChanges::default();
        for o in old {
            if !new.iter().any(|n| n.name == o.name) {
                changes.removed.push(o.name.clone());
            }
        }
        for n in new {
            match old.iter().find(|o| o.name == n.name) {
                None => changes.added.push(n.name.clone()),
                Some(o) => {
                    if o.transport != n.transport {
                        changes.transport.push(n.name.clone());
                    }
                    if o.renditions != n.renditions || o.copy_of != n.copy_of {
                        changes.content.push(n.name.clone());
                    }
                }
            }
        }
        changes
    }

    pub fn is_empty(&self) -> bool {
        *self == OutputChanges::default()
    }

    /// Outputs whose receivers see a restart (a new transport or a new TS), each named once.
    pub fn restarted(&self) -> Vec<String> {
        let mut names = self.transport.clone();
        for n in &self.content {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use feedline_config::{OutputTransport, SrtMode};

    fn srt(name: &str, port: u16, renditions: Option<&[&str]>) -> Output {
        Output {
            name: name.into(),
            renditions: renditions.map(|r| r.iter().map(|s| s.to_string()).collect()),
            copy_of: None,
            transport: OutputTransport::Srt {
                mode: SrtMode::Listener,
                address: "0.0.0.0".into(),
                port,
                latency_ms: 120,
                passphrase: None,
                encryption: Default::default(),
                stream_id: None,
                fec: None,
            },
        }
    }

    #[test]
    fn each_output_is_matched_by_name_whatever_its_position() {
        let old = [srt("a", 9000, None), srt("b", 9001, None)];
        let new = [srt("b", 9001, None), srt("a", 9000, None)];
        assert!(OutputChanges::between(&old, &new).is_empty());
    }

    #[test]
    fn added_removed_transport_and_renditions_are_told_apart() {
        let old = [
            srt("a", 9000, None),
            srt("b", 9001, None),
            srt("c", 9002, None),
        ];
        let new = [
            srt("a", 9000, None),
            srt("b", 9011, Some(&["360p"])),
            srt("d", 9003, None),
        ];
        let changes = OutputChanges::between(&old, &new);
        assert_eq!(changes.added, ["d"]);
        assert_eq!(changes.removed, ["c"]);
        assert_eq!(changes.transport, ["b"]);
        assert_eq!(changes.content, ["b"]);
        assert_eq!(changes.restarted(), ["b"]);
    }
}
