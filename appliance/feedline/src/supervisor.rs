//! The one owner of the running configuration, the store and the media handles. Every change:
//! validate → persist (with its audit entry) → diff → restart only what changed.

use crate::diff;
use crate::sampler::{transitions, ChannelSample, Sampler};
use feedline_api::status::{ApplianceStatus, Hardware};
use feedline_api::{Applied, ConfigEdit, Control, ControlError, EventLog, ProgramThumbnail};
use feedline_config::{Channel, Config, FieldError};
use feedline_media::ChannelRunner;
use feedline_store::{AuditEntry, Severity, Store, StoreError};
use gstreamer::glib;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tracing::{error, info, warn};

/// How often the live status is refreshed (events are detected at this pace too).
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

struct Running {
    config: Config,
    /// Channels an operator stopped.
    stopped: BTreeSet<String>,
    runners: BTreeMap<String, ChannelRunner>,
}

pub struct Supervisor {
    running: Mutex<Running>,
    store: Option<Arc<Store>>,
    events: Option<EventLog>,
    safe_mode: Option<String>,
    status_tx: watch::Sender<Arc<ApplianceStatus>>,
    process_start: Instant,
    main_loop: glib::MainLoop,
    /// File mode (no data directory, no API): the process ends when every channel has.
    quit_when_all_finished: bool,
    /// Channels started and not yet finished; counted only for file mode's exit.
    unfinished: AtomicUsize,
    shutting_down: AtomicBool,
}

impl Supervisor {
    pub fn new(
        config: Config,
        stopped: BTreeSet<String>,
        store: Option<Arc<Store>>,
        events: Option<EventLog>,
        safe_mode: Option<String>,
        process_start: Instant,
    ) -> Arc<Self> {
        let quit_when_all_finished = store.is_none();
        let (status_tx, _) = watch::channel(Arc::new(ApplianceStatus::default()));
        Arc::new(Supervisor {
            running: Mutex::new(Running {
                config,
                stopped,
                runners: BTreeMap::new(),
            }),
            store,
            events,
            safe_mode,
            status_tx,
            process_start,
            main_loop: glib::MainLoop::new(None, false),
            quit_when_all_finished,
            unfinished: AtomicUsize::new(0),
            shutting_down: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Running> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn event(&self, severity: Severity, channel: Option<&str>, kind: &str, message: String) {
        if let Some(events) = &self.events {
            events.record(severity, channel, kind, message);
        }
    }

    /// Starts every configured channel an operator has not stopped.
    pub fn start_channels(self: &Arc<Self>) {
        let mut running = self.lock();
        let channels: Vec<Channel> = running.config.channels.clone();
        for channel in channels {
            if running.stopped.contains(&channel.name) {
                info!(channel = %channel.name, "channel left stopped, as the operator set it");
                continue;
            }
            self.start_channel(&mut running, channel);
        }
        if running.runners.is_empty() {
            info!("no channels running; idle");
        }
    }

    fn start_channel(self: &Arc<Self>, running: &mut Running, channel: Channel) {
        self.unfinished.fetch_add(1, Ordering::SeqCst);
        let name = channel.name.clone();
        info!(channel = %name, input = channel.input.kind(), renditions = channel.ladder.len(),
            outputs = channel.outputs.len(), "starting channel");
        let me = Arc::downgrade(self);
        let finished_name = name.clone();
        let runner = ChannelRunner::start(
            channel,
            self.process_start,
            Box::new(move || {
                info!(channel = %finished_name, "channel finished");
                if let Some(me) = me.upgrade() {
                    me.channel_finished();
                }
            }),
        );
        if let Some(old) = running.runners.insert(name, runner) {
            old.stop();
        }
    }

    /// File mode ends when every channel it started has played its input to the end.
    fn channel_finished(&self) {
        if self.quit_when_all_finished && self.unfinished.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.main_loop.quit();
        }
    }

    /// Samples the media side into the live status, and records what changed as events.
    pub fn spawn_sampler(self: &Arc<Self>) -> std::io::Result<()> {
        let me = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("status".into())
            .spawn(move || {
                let mut sampler = Sampler::default();
                let mut previous: Option<Arc<ApplianceStatus>> = None;
                loop {
                    let Some(me) = me.upgrade() else { break };
                    if me.shutting_down.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Some(samples) = me.samples() {
                        let status = Arc::new(sampler.sample(
                            samples,
                            me.safe_mode.clone(),
                            me.process_start.elapsed(),
                        ));
                        if let Some(prev) = &previous {
                            for (severity, channel, kind, message) in transitions(prev, &status) {
                                // Some of these have no log line of their own on the media side
                                // (a ladder starting to shed frames): the journal gets the same
                                // timeline as the event log.
                                match severity {
                                    Severity::Info => info!(kind, channel, "{message}"),
                                    Severity::Warning => warn!(kind, channel, "{message}"),
                                    Severity::Error => error!(kind, channel, "{message}"),
                                }
                                me.event(severity, channel.as_deref(), kind, message);
                            }
                        }
                        me.status_tx.send_replace(status.clone());
                        previous = Some(status);
                    }
                    drop(me);
                    std::thread::sleep(SAMPLE_EVERY);
                }
            })
            .map(|_| ())
    }

    /// `None` while a change holds the lock (the previous snapshot stays published).
    fn samples(&self) -> Option<Vec<ChannelSample>> {
        let running = self.running.try_lock().ok()?;
        Some(
            running
                .config
                .channels
                .iter()
                .map(|c| ChannelSample {
                    name: c.name.clone(),
                    enabled: !running.stopped.contains(&c.name),
                    input_kind: c.input.kind().to_string(),
                    outputs: c
                        .outputs
                        .iter()
                        .map(|o| (o.name.clone(), o.transport.kind().to_string()))
                        .collect(),
                    media: running.runners.get(&c.name).map(ChannelRunner::status),
                })
                .collect(),
        )
    }

    /// Whether every running channel's media threads are alive (see
    /// `ChannelRunner::liveness`); the first problem found otherwise.
    pub fn liveness(&self) -> Result<(), String> {
        let running = self.lock();
        running
            .runners
            .values()
            .map(|r| r.liveness())
            .find(Result::is_err)
            .unwrap_or(Ok(()))
    }

    /// Tells systemd the service is ready and, if it asked for a watchdog, keeps sending the
    /// heartbeat from the main loop while the media threads are alive: a stalled pipeline or a
    /// stuck main loop stops it, and systemd restarts the service.
    pub fn announce_ready(self: &Arc<Self>) {
        let channels = self.lock().runners.len();
        crate::systemd::notify(&format!("READY=1\nSTATUS={channels} channel(s) running"));
        let Some(period) = crate::systemd::watchdog_period() else {
            return;
        };
        info!(
            period_ms = period.as_millis() as u64,
            "systemd watchdog armed"
        );
        let me = self.clone();
        let mut reported = false;
        glib::timeout_add(period, move || {
            match me.liveness() {
                Ok(()) => {
                    crate::systemd::notify("WATCHDOG=1");
                    reported = false;
                }
                Err(problem) => {
                    if !reported {
                        error!(%problem, "media stalled: withholding the systemd watchdog heartbeat");
                        crate::systemd::notify(&format!("STATUS=stalled: {problem}"));
                        reported = true;
                    }
                }
            }
            glib::ControlFlow::Continue
        });
    }

    /// Runs until SIGTERM/SIGINT (or, in file mode, until every channel has finished), then
    /// stops every channel.
    pub fn run_until_signalled(self: &Arc<Self>) -> anyhow::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
        let ml = self.main_loop.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    info!(signal, "stopping");
                    ml.quit();
                }
            })?;
        if self.quit_when_all_finished {
            // A quit() before run() is lost; channels that finished before the loop started are
            // caught here, once it runs.
            let me = self.clone();
            glib::idle_add_once(move || {
                if me.unfinished.load(Ordering::SeqCst) == 0 {
                    me.main_loop.quit();
                }
            });
        }
        self.main_loop.run();
        crate::systemd::notify("STOPPING=1");
        self.shutting_down.store(true, Ordering::SeqCst);
        let stopping = Instant::now();
        let runners = std::mem::take(&mut self.lock().runners);
        for runner in runners.into_values() {
            runner.stop();
        }
        info!(
            stop_ms = stopping.elapsed().as_millis() as u64,
            "all channels stopped"
        );
        // Leave a moment for the log line to reach the journal before the process ends.
        std::thread::sleep(Duration::from_millis(10));
        Ok(())
    }
}

fn store_error(e: StoreError) -> ControlError {
    match e {
        StoreError::Invalid(errors) => ControlError::Invalid(errors.0),
        StoreError::Conflict(m) => ControlError::Conflict(m),
        other => ControlError::Internal(other.to_string()),
    }
}

impl Supervisor {
    /// The store a change is persisted to; none in safe mode (it cannot be used) or file mode.
    fn writable_store(&self) -> Result<&Arc<Store>, ControlError> {
        if let Some(reason) = &self.safe_mode {
            return Err(ControlError::SafeMode(reason.clone()));
        }
        self.store
            .as_ref()
            .ok_or_else(|| ControlError::Internal("no store in file mode".into()))
    }
}

/// The supervisor as the API sees it.
pub struct SupervisorControl(pub Arc<Supervisor>);

impl std::ops::Deref for SupervisorControl {
    type Target = Arc<Supervisor>;
    fn deref(&self) -> &Arc<Supervisor> {
        &self.0
    }
}

impl Control for SupervisorControl {
    fn config(&self) -> Config {
        self.lock().config.clone()
    }

    fn update_config(
        &self,
        edit: ConfigEdit<'_>,
        mut audit: AuditEntry,
    ) -> Result<Applied, ControlError> {
        let store = self.writable_store()?;
        let mut running = self.lock();
        let mut next = running.config.clone();
        edit(&mut next)?;
        // Every writer (channel endpoints, config import) gets the same rule: a secret read back
        // as the placeholder and sent again keeps its stored value.
        next.keep_secrets_from(&running.config).map_err(|path| {
            ControlError::Invalid(vec![FieldError {
                path,
                message:
                    "is the redaction placeholder but no secret is stored here; send the real value"
                        .into(),
            }])
        })?;
        next.validate().map_err(|e| ControlError::Invalid(e.0))?;
        audit.detail = diff::describe(&running.config, &next);
        // Persisted before anything is applied: after a power cut the box comes back with what
        // the client was told succeeded.
        let revision = store
            .save_config_audited(&next, Some(&audit))
            .map_err(store_error)?;
        let plan = diff::plan(&running.config, &next);
        running.config = next.clone();
        let mut applied = Applied {
            revision,
            restarted_channels: Vec::new(),
            restarted_outputs: Vec::new(),
            added_outputs: Vec::new(),
            removed_outputs: Vec::new(),
            started_channels: Vec::new(),
            removed_channels: Vec::new(),
            restart_required: plan.server_changed,
        };
        for name in &plan.removed {
            if let Some(runner) = running.runners.remove(name) {
                runner.stop();
            }
            if running.stopped.remove(name) {
                let _ = store.set_channel_running(name, true, None);
            }
            applied.removed_channels.push(name.clone());
        }
        let channel = |name: &str| next.channels.iter().find(|c| c.name == name).cloned();
        for name in plan.added.iter().chain(&plan.restart) {
            if running.stopped.contains(name) {
                continue;
            }
            if let Some(c) = channel(name) {
                self.0.start_channel(&mut running, c);
                if plan.added.contains(name) {
                    applied.started_channels.push(name.clone());
                } else {
                    applied.restarted_channels.push(name.clone());
                }
            }
        }
        for name in &plan.reshape_outputs {
            let (Some(runner), Some(c)) = (running.runners.get(name), channel(name)) else {
                continue;
            };
            let changes = runner.set_outputs(&c.outputs);
            let qualified = |list: &[String]| -> Vec<String> {
                list.iter().map(|o| format!("{name}/{o}")).collect()
            };
            applied.added_outputs.extend(qualified(&changes.added));
            applied.removed_outputs.extend(qualified(&changes.removed));
            applied
                .restarted_outputs
                .extend(qualified(&changes.restarted()));
        }
        drop(running);
        info!(revision, actor = %audit.actor, action = %audit.action, restarted = ?applied.restarted_channels,
            outputs = ?applied.restarted_outputs, added = ?applied.added_outputs,
            removed = ?applied.removed_outputs, "configuration changed");
        self.event(
            Severity::Info,
            None,
            "config_changed",
            format!("{} by {} (revision {revision})", audit.action, audit.actor),
        );
        if plan.server_changed {
            warn!("[server] settings changed: they take effect on the next start");
        }
        Ok(applied)
    }

    fn set_running(
        &self,
        channel: &str,
        want: bool,
        audit: AuditEntry,
    ) -> Result<(), ControlError> {
        let store = self.writable_store()?;
        let mut running = self.lock();
        let config = running
            .config
            .channels
            .iter()
            .find(|c| c.name == channel)
            .cloned()
            .ok_or_else(|| ControlError::NotFound(format!("no channel {channel:?}")))?;
        store
            .set_channel_running(channel, want, Some(&audit))
            .map_err(store_error)?;
        if want {
            running.stopped.remove(channel);
            let active = running.runners.get(channel).is_some_and(|r| {
                !matches!(
                    r.status().state,
                    feedline_media::ChannelState::Finished | feedline_media::ChannelState::Stopped
                )
            });
            if !active {
                self.0.start_channel(&mut running, config);
            }
        } else {
            running.stopped.insert(channel.to_string());
            if let Some(runner) = running.runners.remove(channel) {
                runner.stop();
            }
        }
        drop(running);
        let verb = if want { "started" } else { "stopped" };
        info!(channel, actor = %audit.actor, "channel {verb} by operator");
        self.event(
            Severity::Info,
            Some(channel),
            if want {
                "channel_started"
            } else {
                "channel_stopped"
            },
            format!("channel {channel} {verb} by {}", audit.actor),
        );
        Ok(())
    }

    fn status(&self) -> watch::Receiver<Arc<ApplianceStatus>> {
        self.status_tx.subscribe()
    }

    fn system(&self) -> Hardware {
        crate::hardware::probe()
    }

    fn revert_input(&self, channel: &str, audit: AuditEntry) -> Result<(), ControlError> {
        let running = self.0.lock();
        let runner = running.runners.get(channel).ok_or_else(|| {
            if running.config.channels.iter().any(|c| c.name == channel) {
                ControlError::Conflict(format!("channel {channel:?} is not running"))
            } else {
                ControlError::NotFound(format!("no channel {channel:?}"))
            }
        })?;
        runner.revert_input().map_err(ControlError::Conflict)?;
        drop(running);
        if let Some(store) = &self.0.store {
            if let Err(e) = store.append_audit(&audit) {
                warn!(channel, error = %e, "cannot record the revert in the audit log");
            }
        }
        info!(channel, actor = %audit.actor, "input reverted to primary by operator");
        Ok(())
    }

    fn thumbnail(&self, channel: &str) -> Option<ProgramThumbnail> {
        let running = self.0.lock();
        let picture = running.runners.get(channel)?.thumbnail()?;
        Some(ProgramThumbnail {
            jpeg: picture.jpeg,
            age: picture.captured.elapsed(),
        })
    }
}
