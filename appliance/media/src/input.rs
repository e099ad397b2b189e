//! What each input type builds: raw video and audio chains, or a source that decodes at run time.

use crate::spec::ElementSpec;
use feedline_config::{FrameRate, Input, SrtInputMode};

/// How an input produces raw media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputPlan {
    /// Separate chains producing raw video and raw audio (test pattern, capture devices).
    Raw {
        video: Vec<ElementSpec>,
        audio: Vec<ElementSpec>,
    },
    /// A live network stream: a chain ending in `decodebin`, whose raw video/audio pads appear
    /// at run time.
    Decoded { source: Vec<ElementSpec> },
    /// A file, decoded in its own pipeline and fed in through appsrc (see `file_source`).
    File {
        path: std::path::PathBuf,
        loop_playback: bool,
        live_pace: bool,
    },
}

impl InputPlan {
    /// Test-pattern inputs burn the timecode into the picture.
    pub fn burns_timecode(input: &Input) -> bool {
        matches!(input, Input::TestPattern { .. })
    }
}

/// A silent live audio source, for inputs that carry no audio (V4L2 video devices, or streams
/// without an audio track): every output still has an audio PID, as receivers expect.
pub fn silence(prefix: &str) -> Vec<ElementSpec> {
    vec![
        ElementSpec::new("audiotestsrc", format!("{prefix}-silence"))
            .prop("wave", "silence")
            .prop("is-live", true),
    ]
}

fn raw_video_caps(width: u32, height: u32, rate: FrameRate, format: Option<&str>) -> String {
    let mut caps = format!(
        "video/x-raw,width={width},height={height},framerate={}/{}",
        rate.num, rate.den
    );
    if let Some(f) = format {
        caps.push_str(&format!(",format={f}"));
    }
    caps
}

/// A capture's caps: the configured format, else the one its signal locked to (DV timings),
/// else whatever the device offers.
fn capture_caps(
    configured: Option<(u32, u32, FrameRate)>,
    detected: Option<&feedline_v4l2::DvTimings>,
    format: Option<&str>,
) -> String {
    let detected = detected.map(|t| (t.width, t.height, FrameRate::new(t.rate_num, t.rate_den)));
    match configured.or(detected) {
        Some((w, h, rate)) => raw_video_caps(w, h, rate, format),
        None => match format {
            Some(f) => format!("video/x-raw,format={f}"),
            None => "video/x-raw".to_string(),
        },
    }
}

pub fn plan(input: &Input, prefix: &str) -> InputPlan {
    plan_for_signal(input, prefix, None)
}

/// The plan for an input whose capture signal locked to `detected` (DV timings): a V4L2 input
/// configured without a format captures that one.
pub fn plan_for_signal(
    input: &Input,
    prefix: &str,
    detected: Option<&feedline_v4l2::DvTimings>,
) -> InputPlan {
    match input {
        Input::TestPattern {
            width,
            height,
            frame_rate,
            tone_hz,
        } => InputPlan::Raw {
            video: vec![
                ElementSpec::new("videotestsrc", format!("{prefix}-pattern"))
                    .prop("is-live", true)
                    .prop("pattern", "smpte")
                    // Bars that scroll: motion the encoder has to work for and that shows at a
                    // glance whether the picture is live or frozen.
                    .prop("horizontal-speed", 4),
                ElementSpec::caps(
                    format!("{prefix}-pattern-caps"),
                    raw_video_caps(*width, *height, *frame_rate, Some("I420")),
                ),
            ],
            audio: vec![ElementSpec::new("audiotestsrc", format!("{prefix}-tone"))
                .prop("is-live", true)
                .prop("wave", "sine")
                .prop("freq", tone_hz)
                // -18 dBFS: the EBU R68 line-up level.
                .prop("volume", 0.125)],
        },
        Input::File {
            path,
            loop_playback,
            live_pace,
        } => InputPlan::File {
            path: path.clone(),
            loop_playback: *loop_playback,
            live_pace: *live_pace,
        },
        Input::Srt {
            mode,
            address,
            port,
            latency_ms,
            passphrase,
            stream_id,
        } => {
            let mode_name = match mode {
                SrtInputMode::Caller => "caller",
                SrtInputMode::Listener => "listener",
            };
            let mut src = ElementSpec::new("srtsrc", format!("{prefix}-srt"))
                .prop("uri", format!("srt://{address}:{port}?mode={mode_name}"))
                .prop("latency", latency_ms)
                // Wake every 100 ms: stopping the input never waits out libsrt's 5 s peer
                // timeout on a sender that vanished (a failover input re-opens after 2 s).
                .prop("poll-timeout", 100)
                .prop("auto-reconnect", true);
            if let Some(p) = passphrase {
                src = src.prop("passphrase", p.expose());
            }
            if let Some(id) = stream_id {
                src = src.prop("streamid", id);
            }
            InputPlan::Decoded {
                source: vec![
                    src,
                    ElementSpec::caps(
                        format!("{prefix}-ts-caps"),
                        "video/mpegts,systemstream=true",
                    ),
                    ElementSpec::new("decodebin", format!("{prefix}-decode")),
                ],
            }
        }
        Input::Udp {
            address,
            port,
            interface,
        } => {
            let mut src = ElementSpec::new("udpsrc", format!("{prefix}-udp"))
                .prop("address", address)
                .prop("port", port)
                .prop("caps", "video/mpegts,systemstream=true")
                // 2 MB socket buffer: a 20 Mb/s TS must survive scheduling hiccups.
                .prop("buffer-size", 2_097_152);
            if let Some(iface) = interface {
                src = src.prop("multicast-iface", iface);
            }
            InputPlan::Decoded {
                source: vec![
                    src,
                    ElementSpec::new("decodebin", format!("{prefix}-decode")),
                ],
            }
        }
        Input::V4l2 {
            device,
            width,
            height,
            frame_rate,
            pixel_format,
        } => InputPlan::Raw {
            video: vec![
                ElementSpec::new("v4l2src", format!("{prefix}-v4l2"))
                    .prop("device", device.display())
                    .prop("do-timestamp", true),
                ElementSpec::caps(
                    format!("{prefix}-v4l2-caps"),
                    capture_caps(
                        width
                            .zip(*height)
                            .zip(*frame_rate)
                            .map(|((w, h), r)| (w, h, r)),
                        detected,
                        pixel_format.as_deref(),
                    ),
                ),
            ],
            audio: silence(prefix),
        },
        Input::Decklink {
            device_number,
            mode,
            connection,
            audio_channels,
        } => InputPlan::Raw {
            video: vec![
                ElementSpec::new("decklinkvideosrc", format!("{prefix}-decklink-video"))
                    .prop("device-number", device_number)
                    .prop("mode", mode)
                    .prop("connection", connection.as_str())
                    // RP 188 / VITC timecode from the SDI signal, when present.
                    .prop("timecode-format", "rp188any"),
            ],
            audio: vec![
                ElementSpec::new("decklinkaudiosrc", format!("{prefix}-decklink-audio"))
                    .prop("device-number", device_number)
                    .prop("channels", audio_channels),
            ],
        },
    }
}
