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

/// The machine's cores, as the thread plan counts them.
pub fn cores() -> u32 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1)
}

/// Threads for a rung's software encoder: its share of the ladder's pixel rate times the cores,
/// at least one.
///
/// Why not x264's own choice: with `zerolatency` it cuts every frame into one slice per core,
/// and every encoder of the ladder does so at once, so a 4-rung ladder on 2 cores runs 8 slice
/// threads that wait on each other while the rungs already keep every core busy. Measured on the
/// benchmark ladder (2 cores): 4 % less CPU with one thread per rung, same SSIM. A large rung on
/// a many-core box still gets its slices, so its frame time stays short.
pub fn encoder_threads(channel: &Channel, rung: &Rendition, cores: u32) -> u32 {
    let pixel_rate =
        |r: &Rendition| f64::from(r.width) * f64::from(r.height) * r.frame_rate.as_f64();
    let ladder: f64 = channel.ladder.iter().map(pixel_rate).sum();
    if ladder <= 0.0 {
        return 1;
    }
    let share = pixel_rate(rung) / ladder;
    ((share * f64::from(cores)).round() as u32).clamp(1, cores.max(1))
}

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
        threads: encoder_threads(channel, rung, cores()),
    }
}

/// Where a rung's picture comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalePlan {
    /// The rung (index in the ladder) whose picture this one is scaled from; `None` for the
    /// channel's normalised input.
    pub source: Option<usize>,
}

/// libswscale kernel for every step: ffmpeg's default. libswscale widens its kernels with the
/// shrink factor, so a step from full-band video does not alias, and on the benchmark ladder
/// bicubic steps were no dearer to scale than bilinear ones and left the encoders less to do.
pub const SCALE_METHOD: &str = "bicubic";

/// Cascaded scaling: each rung is scaled from the nearest larger rung above it (same or
/// higher frame rate that divides evenly), not from the full input, so each step reads the
/// smallest picture it can.
pub fn scale_plan(channel: &Channel) -> Vec<ScalePlan> {
    let ladder = &channel.ladder;
    ladder
        .iter()
        .enumerate()
        .map(|(i, rung)| {
            let source = (0..i).rev().find(|&j| {
                let above = &ladder[j];
                above.width >= rung.width
                    && above.height >= rung.height
                    && rung.frame_rate.divisor_of(&above.frame_rate).is_some()
            });
            ScalePlan { source }
        })
        .collect()
}

/// `queue ! feedlineswscale ! [videorate] ! caps ! tee`: the rung's raw picture, which feeds its
/// encoder and any rung scaled from it.
pub fn scale_chain(
    channel: &Channel,
    rung: &Rendition,
    plan: ScalePlan,
    prefix: &str,
) -> Vec<ElementSpec> {
    let p = format!("{prefix}-{}", rung.name);
    let source_rate = plan
        .source
        .and_then(|j| channel.ladder.get(j))
        .map(|r| r.frame_rate)
        .unwrap_or_else(|| channel.channel_frame_rate());
    let mut chain = vec![
        ElementSpec::new("queue", format!("{p}-queue")),
        ElementSpec::new(feedline_swscale::ELEMENT, format!("{p}-scale"))
            .prop("method", SCALE_METHOD),
    ];
    if rung.frame_rate != source_rate {
        chain.push(ElementSpec::new("videorate", format!("{p}-rate")));
    }
    chain.push(ElementSpec::caps(
        format!("{p}-caps"),
        format!(
            "video/x-raw,format=I420,width={},height={},framerate={}/{},pixel-aspect-ratio=1/1",
            rung.width, rung.height, rung.frame_rate.num, rung.frame_rate.den
        ),
    ));
    chain.push(ElementSpec::new("tee", format!("{p}-raw-tee")).prop("allow-not-linked", true));
    chain
}

/// `queue ! encoder ! caps ! parser ! tee` for one rung.
pub fn encode_chain(
    channel: &Channel,
    rung: &Rendition,
    backend: Backend,
    prefix: &str,
) -> Vec<ElementSpec> {
    let p = format!("{prefix}-{}", rung.name);
    let mut chain = vec![ElementSpec::new("queue", format!("{p}-encode-queue"))];
    chain.extend(encoder_chain(backend, &rung_settings(channel, rung), &p));
    chain.push(ElementSpec::new("tee", format!("{p}-tee")).prop("allow-not-linked", true));
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use feedline_config::{Config, FrameRate};

    #[test]
    fn default_ladder_cascades_each_rung_from_the_one_above() {
        let channel = &Config::default().channels[0];
        let sources: Vec<_> = scale_plan(channel).iter().map(|p| p.source).collect();
        assert_eq!(sources, vec![None, Some(0), Some(1)]);
        let chain = scale_chain(channel, &channel.ladder[1], scale_plan(channel)[1], "ch");
        assert_eq!(chain[1].factory, feedline_swscale::ELEMENT);
        assert_eq!(chain[1].property("method"), Some("bicubic"));
    }

    #[test]
    fn a_rung_never_scales_up_or_from_a_slower_rung() {
        let mut channel = Config::default().channels[0].clone();
        // 540p at 30 fps, then a 720p at 15 fps: 720p cannot come from 540p.
        channel.ladder[1].width = 960;
        channel.ladder[1].height = 540;
        channel.ladder[2].width = 1280;
        channel.ladder[2].height = 720;
        channel.ladder[2].frame_rate = FrameRate::new(15, 1);
        let plan = scale_plan(&channel);
        assert_eq!(
            plan[2].source,
            Some(0),
            "720p must come from 1080p, not the smaller 540p"
        );
        channel.ladder[0].frame_rate = FrameRate::new(15, 1);
        channel.ladder[1].frame_rate = FrameRate::new(30, 1);
        let plan = scale_plan(&channel);
        assert_eq!(
            plan[1].source, None,
            "a 30 fps rung cannot come from a 15 fps one"
        );
    }

    #[test]
    fn every_backends_encoder_follows_the_rungs_queue() {
        // The meter times pictures through the element after the queue (`graph::build`).
        let channel = &Config::default().channels[0];
        for backend in [Backend::Software, Backend::Nvenc, Backend::Qsv, Backend::Va] {
            let chain = encode_chain(channel, &channel.ladder[0], backend, "ch");
            assert_eq!(chain[0].factory, "queue");
            assert_eq!(
                chain[1].factory,
                backend.factory(channel.ladder[0].codec),
                "{backend:?}"
            );
        }
    }

    #[test]
    fn encoder_threads_follow_each_rungs_share_of_the_ladder() {
        // Default ladder: 1080p30, 720p30, 540p30 (pixel shares 0.59, 0.26, 0.15).
        let channel = &Config::default().channels[0];
        let threads = |cores| {
            channel
                .ladder
                .iter()
                .map(|r| encoder_threads(channel, r, cores))
                .collect::<Vec<_>>()
        };
        assert_eq!(threads(1), vec![1, 1, 1]);
        assert_eq!(threads(2), vec![1, 1, 1], "2 cores: one thread per rung");
        assert_eq!(threads(16), vec![9, 4, 2]);
        assert_eq!(threads(64), vec![38, 17, 9]);
    }
}
