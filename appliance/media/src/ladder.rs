//! Per-rendition chains: scale and pace the channel's video to the rung, then encode it.

use crate::encoder::{encoder_chain, Backend, EncoderSettings};
use crate::spec::ElementSpec;
use feedline_config::{Channel, Rendition};

/// TS PID of the rendition at `index` in the ladder: stable across outputs, so a receiver sees
/// the same PID for a rung whichever output it takes.
pub fn video_pid(index: usize) -> u32 {
    0x100 + index as u32
}

/// TS PID of the channel's audio.
pub const AUDIO_PID: u32 = 0x120;

pub fn rung_settings(channel: &Channel, rung: &Rendition) -> EncoderSettings {
    let divisor = rung
        .frame_rate
        .divisor_of(&channel.channel_frame_rate())
        .unwrap_or(1)
        .max(1);
    EncoderSettings {
        codec: rung.codec,
        bitrate_kbps: rung.bitrate_kbps,
        rate_control: channel.video.rate_control,
        gop_frames: (channel.video.gop_frames / divisor).max(1),
        b_frames: channel.video.b_frames,
        profile: rung.effective_profile(),
        latency: channel.video.latency,
    }
}

/// `queue ! videoscale ! [videorate] ! caps ! encoder ! caps ! parser` for one rung.
pub fn rendition_chain(
    channel: &Channel,
    rung: &Rendition,
    backend: Backend,
    prefix: &str,
) -> Vec<ElementSpec> {
    let p = format!("{prefix}-{}", rung.name);
    let mut chain = vec![
        ElementSpec::new("queue", format!("{p}-queue")),
        ElementSpec::new("videoscale", format!("{p}-scale")),
    ];
    if rung.frame_rate != channel.channel_frame_rate() {
        chain.push(ElementSpec::new("videorate", format!("{p}-rate")));
    }
    chain.push(ElementSpec::caps(
        format!("{p}-caps"),
        format!(
            "video/x-raw,format=I420,width={},height={},framerate={}/{},pixel-aspect-ratio=1/1",
            rung.width, rung.height, rung.frame_rate.num, rung.frame_rate.den
        ),
    ));
    chain.extend(encoder_chain(backend, &rung_settings(channel, rung), &p));
    chain
}
