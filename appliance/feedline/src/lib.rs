//! The `feedline` binary's library: CLI commands, logging and the supervisor that owns the
//! running configuration and the media handles.

pub mod logging;
pub mod persist;
mod supervisor;

use feedline_config::{read_file, Config, LoadError};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

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

/// `feedline run`. With `--data-dir` the configuration lives in the store (the file only seeds
/// the first start); without it, the file (or the built-in default) is used as is.
pub fn cli_run(
    config_path: Option<&Path>,
    data_dir: Option<&Path>,
    process_start: Instant,
) -> anyhow::Result<()> {
    let config = match data_dir {
        Some(dir) => match persist::load_for_run(dir, config_path)? {
            persist::Startup::Normal(config) => config,
            persist::Startup::SafeMode(reason) => {
                persist::safe_mode_alarm(&reason);
                Config {
                    channels: Vec::new(),
                    ..Config::default()
                }
            }
        },
        None => match config_path {
            Some(path) => persist::read_config_file(path)?,
            None => Config::default(),
        },
    };
    supervisor::run(config, process_start)
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
