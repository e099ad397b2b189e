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
        #[arg(long)]
        config: Option<PathBuf>,
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
        Command::Run { config } => cli_run(config.as_deref(), process_start),
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
