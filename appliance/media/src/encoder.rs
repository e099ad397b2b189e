//! Encoder backends and the mapping of our settings onto each one's properties, as data.
//!
//! One table per backend turns a rendition's settings (bitrate, CBR/VBR, GOP, B-frames, profile,
//! latency mode) into an element spec. Golden tests pin the result for every backend, including
//! the hardware ones this machine lacks, so a change to the mapping is always a visible diff.

use crate::spec::ElementSpec;
use feedline_config::{Codec, EncoderChoice, Latency, Profile, RateControl};

/// Encoder families in the order `auto` tries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Nvenc,
    Qsv,
    Va,
    Software,
}

impl Backend {
    pub const PROBE_ORDER: [Backend; 4] =
        [Backend::Nvenc, Backend::Qsv, Backend::Va, Backend::Software];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Nvenc => "nvenc",
            Backend::Qsv => "qsv",
            Backend::Va => "va",
            Backend::Software => "software",
        }
    }

    pub fn from_choice(choice: EncoderChoice) -> Option<Backend> {
        match choice {
            EncoderChoice::Auto => None,
            EncoderChoice::Nvenc => Some(Backend::Nvenc),
            EncoderChoice::Qsv => Some(Backend::Qsv),
            EncoderChoice::Va => Some(Backend::Va),
            EncoderChoice::Software => Some(Backend::Software),
        }
    }

    /// The GStreamer element factory for this backend and codec.
    pub fn factory(self, codec: Codec) -> &'static str {
        match (self, codec) {
            (Backend::Nvenc, Codec::H264) => "nvh264enc",
            (Backend::Nvenc, Codec::Hevc) => "nvh265enc",
            (Backend::Qsv, Codec::H264) => "qsvh264enc",
            (Backend::Qsv, Codec::Hevc) => "qsvh265enc",
            (Backend::Va, Codec::H264) => "vah264enc",
            (Backend::Va, Codec::Hevc) => "vah265enc",
            (Backend::Software, Codec::H264) => "x264enc",
            (Backend::Software, Codec::Hevc) => "x265enc",
        }
    }

    /// The GStreamer plugin that provides the factory, for "why is it unavailable" messages.
    pub fn plugin(self, codec: Codec) -> &'static str {
        match (self, codec) {
            (Backend::Nvenc, _) => "nvcodec",
            (Backend::Qsv, _) => "qsv",
            (Backend::Va, _) => "va",
            (Backend::Software, Codec::H264) => "x264",
            (Backend::Software, Codec::Hevc) => "x265",
        }
    }
}

/// What a rung asks of its encoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderSettings {
    pub codec: Codec,
    pub bitrate_kbps: u32,
    pub rate_control: RateControl,
    /// GOP length in this rung's own frames.
    pub gop_frames: u32,
    pub b_frames: u32,
    pub profile: Profile,
    pub latency: Latency,
    /// Threads a software encoder may use; 0 lets the encoder choose (one per core). See
    /// `ladder::encoder_threads`.
    pub threads: u32,
}

impl EncoderSettings {
    fn max_bitrate_kbps(&self) -> u32 {
        match self.rate_control {
            RateControl::Cbr => self.bitrate_kbps,
            // A VBR peak of twice the average keeps complex scenes clean on a contribution link
            // sized for peaks.
            RateControl::Vbr => self.bitrate_kbps.saturating_mul(2),
        }
    }
}

/// The encoder element, the caps that fix its output profile and the parser that normalises the
/// stream (SPS/PPS before every IDR, timecode written into `pic_timing` SEI).
pub fn encoder_chain(backend: Backend, s: &EncoderSettings, prefix: &str) -> Vec<ElementSpec> {
    let encoder = match backend {
        Backend::Software => software(s, prefix),
        Backend::Nvenc => nvenc(s, prefix),
        Backend::Qsv => qsv(s, prefix),
        Backend::Va => va(s, prefix),
    };
    let (caps, parser) = match s.codec {
        Codec::H264 => (
            format!(
                "video/x-h264,stream-format=byte-stream,alignment=au,profile={}",
                h264_profile(s.profile)
            ),
            "h264parse",
        ),
        Codec::Hevc => (
            "video/x-h265,stream-format=byte-stream,alignment=au,profile=main".to_string(),
            "h265parse",
        ),
    };
    // The timecode SEI is written after the parser, by us (`h264_timecode`, `hevc_timecode`).
    let parse = ElementSpec::new(parser, format!("{prefix}-parse")).prop("config-interval", -1);
    vec![
        encoder,
        ElementSpec::caps(format!("{prefix}-profile"), caps),
        parse,
    ]
}

fn h264_profile(p: Profile) -> &'static str {
    match p {
        Profile::Baseline => "constrained-baseline",
        Profile::Main => "main",
        Profile::High => "high",
    }
}

/// x264enc / x265enc. `pic-struct=1` makes x264 emit `pic_timing` SEI, which h264parse then
/// fills with the frame's timecode; `scenecut=0` keeps IDRs exactly on the GOP grid so every rung
/// agrees.
fn software(s: &EncoderSettings, prefix: &str) -> ElementSpec {
    let name = format!("{prefix}-encoder");
    let vbv = s.max_bitrate_kbps();
    match s.codec {
        Codec::H264 => {
            let mut options = vec!["scenecut=0".to_string(), "pic-struct=1".to_string()];
            match s.rate_control {
                RateControl::Cbr => options.push("nal-hrd=cbr".to_string()),
                RateControl::Vbr => {
                    options.push(format!("vbv-maxrate={vbv}"));
                    options.push(format!("vbv-bufsize={vbv}"));
                }
            }
            let mut e = ElementSpec::new("x264enc", name)
                .prop("bitrate", s.bitrate_kbps)
                .prop("pass", "cbr")
                .prop("vbv-buf-capacity", 1000)
                .prop("key-int-max", s.gop_frames)
                .prop("bframes", s.b_frames)
                .prop("b-adapt", false)
                .prop("speed-preset", "veryfast")
                .prop("threads", s.threads);
            if s.latency == Latency::Low {
                e = e.prop("tune", "zerolatency");
            } else {
                e = e.prop("rc-lookahead", 20);
            }
            e.prop("option-string", options.join(":"))
        }
        Codec::Hevc => {
            let mut options = vec![
                "scenecut=0".to_string(),
                format!("bframes={}", s.b_frames),
                format!("vbv-maxrate={vbv}"),
                format!("vbv-bufsize={vbv}"),
                "repeat-headers=1".to_string(),
                "aud=1".to_string(),
            ];
            if s.rate_control == RateControl::Cbr {
                options.push("strict-cbr=1".to_string());
                options.push("hrd=1".to_string());
            }
            let mut e = ElementSpec::new("x265enc", name)
                .prop("bitrate", s.bitrate_kbps)
                .prop("key-int-max", s.gop_frames)
                .prop("speed-preset", "veryfast");
            if s.latency == Latency::Low {
                e = e.prop("tune", "zerolatency");
            }
            e.prop("option-string", options.join(":"))
        }
    }
}

/// nvh264enc / nvh265enc (GStreamer 1.22 nvcodec). `strict-gop` stops NVENC from moving IDRs.
fn nvenc(s: &EncoderSettings, prefix: &str) -> ElementSpec {
    let low = s.latency == Latency::Low;
    let mut e = ElementSpec::new(Backend::Nvenc.factory(s.codec), format!("{prefix}-encoder"))
        .prop("bitrate", s.bitrate_kbps)
        .prop(
            "rc-mode",
            match s.rate_control {
                RateControl::Cbr => "cbr",
                RateControl::Vbr => "vbr",
            },
        )
        .prop("gop-size", s.gop_frames)
        .prop("strict-gop", true)
        .prop("preset", if low { "low-latency-hq" } else { "hq" })
        .prop("zerolatency", low);
    if s.rate_control == RateControl::Vbr {
        e = e.prop("max-bitrate", s.max_bitrate_kbps());
    }
    if s.b_frames > 0 {
        e = e.prop("bframes", s.b_frames);
    }
    e
}

/// qsvh264enc / qsvh265enc (GStreamer 1.22 qsv plugin, oneVPL).
fn qsv(s: &EncoderSettings, prefix: &str) -> ElementSpec {
    let mut e = ElementSpec::new(Backend::Qsv.factory(s.codec), format!("{prefix}-encoder"))
        .prop("bitrate", s.bitrate_kbps)
        .prop(
            "rate-control",
            match s.rate_control {
                RateControl::Cbr => "cbr",
                RateControl::Vbr => "vbr",
            },
        )
        .prop("gop-size", s.gop_frames)
        .prop("b-frames", s.b_frames)
        .prop(
            "target-usage",
            if s.latency == Latency::Low { 6 } else { 4 },
        );
    if s.rate_control == RateControl::Vbr {
        e = e.prop("max-bitrate", s.max_bitrate_kbps());
    }
    e
}

/// vah264enc / vah265enc (GStreamer 1.22 va plugin).
fn va(s: &EncoderSettings, prefix: &str) -> ElementSpec {
    ElementSpec::new(Backend::Va.factory(s.codec), format!("{prefix}-encoder"))
        .prop("bitrate", s.bitrate_kbps)
        .prop(
            "rate-control",
            match s.rate_control {
                RateControl::Cbr => "cbr",
                RateControl::Vbr => "vbr",
            },
        )
        .prop("key-int-max", s.gop_frames)
        .prop("b-frames", s.b_frames)
        .prop(
            "target-usage",
            if s.latency == Latency::Low { 7 } else { 4 },
        )
}

/// Picks the backend for a rendition: the forced one, or the first available in probe order.
pub fn choose_backend(
    choice: EncoderChoice,
    codec: Codec,
    available: impl Fn(&str) -> bool,
) -> Result<Backend, String> {
    if let Some(forced) = Backend::from_choice(choice) {
        let factory = forced.factory(codec);
        return if available(factory) {
            Ok(forced)
        } else {
            Err(format!(
                "encoder {:?} was requested but element {factory} is not available",
                forced.name()
            ))
        };
    }
    Backend::PROBE_ORDER
        .into_iter()
        .find(|b| available(b.factory(codec)))
        .ok_or_else(|| {
            let tried: Vec<&str> = Backend::PROBE_ORDER
                .iter()
                .map(|b| b.factory(codec))
                .collect();
            format!("none of {} is available", tried.join(", "))
        })
}
