//! `feedline`: the contribution encoder appliance.

use anyhow::Context;
use clap::{Parser, Subcommand};
use feedline::{cli_check_config, cli_probe, cli_run};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "feedline",
    version,
    about = "Live contribution encoder: capture, timecode, ABR ladder, SRT"
)]
struct Cli {
    /// Log format: "text" for people, "json" for log collectors.
    #[arg(long, global = true, default_value = "text")]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the appliance's channels until SIGTERM/SIGINT (or until file inputs end).
    Run {
        /// Config file; without it the built-in default (test pattern → SRT listener :9000).
        /// With --data-dir it only seeds the store on first start.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Keep the configuration in the crash-safe store in this directory
        /// (the appliance uses /var/lib/feedline).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Validate a config file and make it the stored configuration (offline).
    Import {
        file: PathBuf,
        #[arg(long, default_value = "/var/lib/feedline")]
        data_dir: PathBuf,
    },
    /// Print the stored configuration as TOML (offline). Passphrases are redacted unless asked for.
    Export {
        #[arg(long, default_value = "/var/lib/feedline")]
        data_dir: PathBuf,
        #[arg(long)]
        include_secrets: bool,
    },
    /// Validate a config file; exits 2 and names every bad field if it is invalid.
    CheckConfig { file: PathBuf },
    /// List encoder backends (and why one is unavailable) and capture devices.
    Probe,
}

fn main() -> ExitCode {
    let process_start = Instant::now();
    let cli = Cli::parse();
    feedline::logging::init(&cli.log_format);
    let result = match cli.command {
        Command::Run { config, data_dir } => {
            cli_run(config.as_deref(), data_dir.as_deref(), process_start)
        }
        Command::Import { file, data_dir } => feedline::persist::import(&data_dir, &file)
            .map(|revision| println!("imported {} as revision {revision}", file.display())),
        Command::Export {
            data_dir,
            include_secrets,
        } => feedline::persist::export(&data_dir, include_secrets).map(|text| print!("{text}")),
        Command::CheckConfig { file } => return cli_check_config(&file),
        Command::Probe => cli_probe().context("probe"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("feedline: {e:#}");
            ExitCode::FAILURE
        }
    }
}
