//! A deterministic stream of distinct, valid configurations: revision n ↦ one config, so a test
//! can tell exactly which write a store holds after a crash.

use feedline_config::Config;

pub fn config_for(revision: u64) -> Config {
    let mut config = Config::default();
    let channel = &mut config.channels[0];
    channel.ladder[0].bitrate_kbps = 1000 + (revision % 90_000) as u32;
    channel.ladder[2].bitrate_kbps = 100 + (revision % 1_000) as u32;
    if let feedline_config::OutputTransport::Srt { latency_ms, .. } =
        &mut channel.outputs[0].transport
    {
        *latency_ms = 20 + (revision % 9_000) as u32;
    }
    config
}
