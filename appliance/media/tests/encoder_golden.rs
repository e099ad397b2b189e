//! Golden tests of the settings → encoder-properties mapping, for every backend, including the
//! hardware ones this machine does not have. Regenerate with `UPDATE_GOLDEN=1 cargo test`.

use feedline_config::{Codec, Latency, Profile, RateControl};
use feedline_media::encoder::{choose_backend, encoder_chain, Backend, EncoderSettings};
use feedline_media::spec::to_launch_line;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/encoders.txt");

fn cases() -> Vec<(&'static str, EncoderSettings)> {
    let contribution = EncoderSettings {
        codec: Codec::H264,
        bitrate_kbps: 5000,
        rate_control: RateControl::Cbr,
        gop_frames: 60,
        b_frames: 0,
        profile: Profile::High,
        latency: Latency::Low,
        threads: 1,
    };
    vec![
        ("h264 cbr low-latency high", contribution.clone()),
        (
            "h264 vbr normal main 2 b-frames",
            EncoderSettings {
                rate_control: RateControl::Vbr,
                latency: Latency::Normal,
                b_frames: 2,
                profile: Profile::Main,
                bitrate_kbps: 3000,
                ..contribution.clone()
            },
        ),
        (
            "h264 cbr baseline",
            EncoderSettings {
                profile: Profile::Baseline,
                bitrate_kbps: 800,
                gop_frames: 30,
                ..contribution.clone()
            },
        ),
        (
            "hevc cbr low-latency main",
            EncoderSettings {
                codec: Codec::Hevc,
                profile: Profile::Main,
                ..contribution
            },
        ),
    ]
}

fn render() -> String {
    let mut out = String::new();
    for backend in Backend::PROBE_ORDER {
        for (label, settings) in cases() {
            out.push_str(&format!(
                "[{} / {label}]\n{}\n\n",
                backend.name(),
                to_launch_line(&encoder_chain(backend, &settings, "r"))
            ));
        }
    }
    out
}

#[test]
fn encoder_mapping_matches_golden_file() {
    let rendered = render();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &rendered).expect("write golden");
    }
    let golden =
        std::fs::read_to_string(GOLDEN).expect("golden file missing: run with UPDATE_GOLDEN=1");
    assert_eq!(
        rendered, golden,
        "encoder mapping changed; review, then UPDATE_GOLDEN=1"
    );
}

#[test]
fn auto_picks_the_first_available_backend_in_probe_order() {
    let only_x264 = |f: &str| f == "x264enc";
    assert_eq!(
        choose_backend(Default::default(), Codec::H264, only_x264),
        Ok(Backend::Software)
    );
    let nvenc_too = |f: &str| f == "x264enc" || f == "nvh264enc";
    assert_eq!(
        choose_backend(Default::default(), Codec::H264, nvenc_too),
        Ok(Backend::Nvenc)
    );
    let qsv_and_va = |f: &str| f == "qsvh265enc" || f == "vah265enc";
    assert_eq!(
        choose_backend(Default::default(), Codec::Hevc, qsv_and_va),
        Ok(Backend::Qsv)
    );
}

#[test]
fn a_forced_backend_that_is_absent_is_an_error_naming_the_element() {
    let only_x264 = |f: &str| f == "x264enc";
    let err = choose_backend(
        feedline_config::EncoderChoice::Nvenc,
        Codec::H264,
        only_x264,
    )
    .unwrap_err();
    assert_eq!(
        err,
        "encoder \"nvenc\" was requested but element nvh264enc is not available"
    );
    assert!(choose_backend(Default::default(), Codec::H264, |_| false)
        .unwrap_err()
        .contains("none of nvh264enc, qsvh264enc, vah264enc, x264enc"));
}

/// Where the backend's element exists on this machine, every property we set must exist and
/// accept our value. Absent backends are reported, not silently passed.
#[test]
fn specs_build_with_the_installed_encoders() {
    gstreamer::init().expect("gst init");
    let mut built = 0;
    for backend in Backend::PROBE_ORDER {
        for (label, settings) in cases() {
            let chain = encoder_chain(backend, &settings, "r");
            if gstreamer::ElementFactory::find(chain[0].factory).is_none() {
                eprintln!(
                    "skip: {} not available here ({} / {label})",
                    chain[0].factory,
                    backend.name()
                );
                continue;
            }
            for spec in &chain {
                spec.build()
                    .unwrap_or_else(|e| panic!("{} / {label}: {e}", backend.name()));
            }
            built += 1;
        }
    }
    assert!(
        built >= 4,
        "the software encoders must always be testable here"
    );
}
