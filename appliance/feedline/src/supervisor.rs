//! The one owner of the running configuration and the media handles.

use feedline_config::Config;
use feedline_media::ChannelRunner;
use gstreamer::glib;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::info;

pub fn run(config: Config, process_start: Instant) -> anyhow::Result<()> {
    feedline_media::init()?;
    let main_loop = glib::MainLoop::new(None, false);

    let remaining = Arc::new(AtomicUsize::new(config.channels.len()));
    let mut runners = Vec::new();
    for channel in config.channels {
        let remaining = remaining.clone();
        let ml = main_loop.clone();
        let name = channel.name.clone();
        info!(channel = %name, input = channel.input.kind(), renditions = channel.ladder.len(),
            outputs = channel.outputs.len(), "starting channel");
        runners.push(ChannelRunner::start(
            channel,
            process_start,
            Box::new(move || {
                info!(channel = %name, "channel finished");
                if remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
                    ml.quit();
                }
            }),
        ));
    }
    if runners.is_empty() {
        info!("no channels configured; idle");
    }

    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    let ml = main_loop.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                info!(signal, "stopping");
                ml.quit();
            }
        })?;
    main_loop.run();

    let stopping = Instant::now();
    for runner in runners {
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
