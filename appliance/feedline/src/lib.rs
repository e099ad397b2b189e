//! The `feedline` binary's library: CLI commands, logging and the supervisor that owns the
//! running configuration and the media handles.

mod diff;
mod group_links;
mod hardware;
mod input_sound;
mod ladder_overload;
pub mod logging;
pub mod persist;
mod sampler;
mod supervisor;
pub mod systemd;

use feedline_config::{read_file, Config, LoadError};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use supervisor::Supervisor;
use tracing::info;

/// Exit status of `check-config` for an invalid file, so scripts can tell it from I/O errors.
pub const EXIT_INVALID_CONFIG: u8 = 2;

pub fn cli_check_config(path: &Path) -> ExitCode {
    match read_file(path) {
        Ok(config) => {
            let rungs: usize = config.channels.iter().map(|c| c.ladder.len()).sum();
            let outputs: usize = config.channels.iter().map(|c| c.outputs.len()).sum();
            println!(
                "{}: OK ({} channel(s), {rungs} rendition(s), {outputs} output(s))",
                path.display(),
                config.channels.len()
            );
            ExitCode::SUCCESS
        }
        Err(e @ LoadError::Read { .. }) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{}: invalid configuration", path.display());
            for line in e.to_string().lines() {
                eprintln!("  {line}");
            }
            ExitCode::from(EXIT_INVALID_CONFIG)
        }
    }
}

/// `feedline run`. With `--data-dir` the box runs as an appliance: the configuration lives in the
/// store (the file only seeds the first start) and the API, metrics and HTTPS listeners start.
/// Without it, the file (or the built-in default) is run as is, with no API: a scripting mode.
pub fn cli_run(
    config_path: Option<&Path>,
    data_dir: Option<&Path>,
    process_start: Instant,
) -> anyhow::Result<()> {
    feedline_media::init()?;
    let Some(dir) = data_dir else {
        let config = match config_path {
            Some(path) => persist::read_config_file(path)?,
            None => Config::default(),
        };
        info!("file mode (no --data-dir): no API, no store");
        let supervisor =
            Supervisor::new(config, Default::default(), None, None, None, process_start);
        supervisor.start_channels();
        supervisor.announce_ready();
        return supervisor.run_until_signalled();
    };
    let (config, store, safe_mode) = match persist::load_for_run(dir, config_path)? {
        persist::Startup::Normal(config, store) => (config, store, None),
        persist::Startup::SafeMode(reason) => {
            persist::safe_mode_alarm(&reason);
            // The API must still be reachable where the operator expects it: listen as the
            // seed file says, if there is one.
            let server = config_path
                .and_then(|p| persist::read_config_file(p).ok())
                .map(|c| c.server)
                .unwrap_or_default();
            let config = Config {
                channels: Vec::new(),
                server,
            };
            (config, feedline_store::Store::in_memory()?, Some(reason))
        }
    };
    let store = Arc::new(store);
    let stopped = store.stopped_channels()?;
    let events = feedline_api::EventLog::new(store.clone());
    if let Some(reason) = &safe_mode {
        events.record(
            feedline_store::Severity::Error,
            None,
            "safe_mode",
            format!("SAFE MODE: {reason}"),
        );
    }
    let server = config.server.clone();
    let supervisor = Supervisor::new(
        config,
        stopped,
        Some(store.clone()),
        Some(events.clone()),
        safe_mode,
        process_start,
    );
    // Media first: after a power cut the feed is back before anyone can log in.
    supervisor.start_channels();
    supervisor.spawn_sampler()?;
    let settings = feedline_api::Settings {
        bind: server
            .bind
            .parse()
            .map_err(|_| anyhow::anyhow!("server.bind: not an IP address"))?,
        http_port: server.http_port,
        https_port: server.https_port,
        tls: server.tls,
        metrics_port: server.metrics.port,
        metrics_token: server.metrics.bearer_token.map(|t| t.expose().to_string()),
        data_dir: dir.to_path_buf(),
    };
    let control: Arc<dyn feedline_api::Control> =
        Arc::new(supervisor::SupervisorControl(supervisor.clone()));
    feedline_api::spawn(settings, control, store, events)?;
    supervisor.announce_ready();
    supervisor.run_until_signalled()
}

pub fn cli_probe() -> anyhow::Result<()> {
    feedline_media::init()?;
    println!("Encoder backends (in the order `encoder = \"auto\"` tries them):");
    for r in feedline_media::probe::encoder_backends() {
        let state = if r.available {
            "available"
        } else {
            "unavailable"
        };
        let codec = match r.codec {
            feedline_config::Codec::H264 => "H.264",
            feedline_config::Codec::Hevc => "HEVC",
        };
        print!(
            "  {:<9} {:<6} {:<11} {state}",
            r.backend.name(),
            codec,
            r.element
        );
        match r.reason {
            Some(why) => println!(": {why}"),
            None => println!(),
        }
    }
    println!("Video decoders for file and network inputs (the first of each codec is used):");
    let decoders = feedline_media::probe::video_decoders();
    for codec in [feedline_config::Codec::H264, feedline_config::Codec::Hevc] {
        let names: Vec<String> = decoders
            .iter()
            .filter(|d| d.codec == codec)
            .map(|d| {
                let runs_on = if d.hardware { "hardware" } else { "CPU" };
                format!("{} ({}, {runs_on})", d.element, d.description)
            })
            .collect();
        let codec = match codec {
            feedline_config::Codec::H264 => "H.264",
            feedline_config::Codec::Hevc => "HEVC",
        };
        match names.is_empty() {
            true => println!("  {codec:<6} none: install gstreamer1.0-libav"),
            false => println!("  {codec:<6} {}", names.join(", ")),
        }
    }
    println!("Capture devices:");
    let devices = feedline_media::probe::capture_devices();
    if devices.is_empty() {
        println!("  none found (V4L2 and DeckLink providers searched)");
    }
    for d in devices {
        println!(
            "  {} [{}] {}",
            d.name,
            d.kind,
            d.path.unwrap_or_else(|| "-".into())
        );
    }
    Ok(())
}
