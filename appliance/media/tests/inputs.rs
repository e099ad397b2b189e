//! What each input builds, as data, and that the installed plugins accept it. V4L2 and DeckLink
//! elements are constructed here without a device: the plugin checks our property names and
//! enum values (mode, connection, timecode format) at construction.

use feedline_config::{DecklinkConnection, FrameRate, Input};
use feedline_media::input::{plan, plan_for_signal, InputPlan};
use feedline_media::spec::to_launch_line;

fn raw(input: &Input) -> (String, String) {
    match plan(input, "ch") {
        InputPlan::Raw { video, audio } => (to_launch_line(&video), to_launch_line(&audio)),
        other => panic!("expected raw chains, got {other:?}"),
    }
}

#[test]
fn v4l2_builds_device_source_with_exact_caps() {
    let input = Input::V4l2 {
        device: "/dev/video0".into(),
        width: Some(1920),
        height: Some(1080),
        frame_rate: Some(FrameRate::new(60000, 1001)),
        pixel_format: Some("UYVY".into()),
    };
    let (video, audio) = raw(&input);
    assert_eq!(
        video,
        "v4l2src name=ch-v4l2 device=/dev/video0 do-timestamp=true ! capsfilter name=ch-v4l2-caps caps=\"video/x-raw,width=1920,height=1080,framerate=60000/1001,format=UYVY\""
    );
    assert_eq!(
        audio,
        "audiotestsrc name=ch-silence wave=silence is-live=true"
    );
}

#[test]
fn v4l2_without_a_format_captures_what_its_signal_locked_to() {
    let input = Input::V4l2 {
        device: "/dev/video0".into(),
        width: None,
        height: None,
        frame_rate: None,
        pixel_format: None,
    };
    let caps =
        |detected: Option<&feedline_v4l2::DvTimings>| match plan_for_signal(&input, "ch", detected)
        {
            InputPlan::Raw { video, .. } => to_launch_line(&video),
            other => panic!("expected raw chains, got {other:?}"),
        };
    let locked = feedline_v4l2::DvTimings {
        width: 1280,
        height: 720,
        interlaced: false,
        rate_num: 60000,
        rate_den: 1001,
    };
    assert!(
        caps(Some(&locked))
            .ends_with("caps=\"video/x-raw,width=1280,height=720,framerate=60000/1001\""),
        "{}",
        caps(Some(&locked))
    );
    // No reading (a webcam, a driver without DV timings): the device's own format.
    assert!(caps(None).ends_with("caps=video/x-raw"), "{}", caps(None));
}

#[test]
fn decklink_builds_video_and_audio_sources_for_the_mode() {
    let input = Input::Decklink {
        device_number: 1,
        mode: "1080i5994".into(),
        connection: DecklinkConnection::Sdi,
        audio_channels: 8,
    };
    let (video, audio) = raw(&input);
    assert_eq!(
        video,
        "decklinkvideosrc name=ch-decklink-video device-number=1 mode=1080i5994 connection=sdi timecode-format=rp188any"
    );
    assert_eq!(
        audio,
        "decklinkaudiosrc name=ch-decklink-audio device-number=1 channels=8"
    );
}

#[test]
fn capture_elements_accept_our_properties() {
    gstreamer::init().expect("gst init");
    let inputs = [
        Input::V4l2 {
            device: "/dev/video0".into(),
            width: Some(1280),
            height: Some(720),
            frame_rate: Some(FrameRate::new(50, 1)),
            pixel_format: Some("YUY2".into()),
        },
        Input::Decklink {
            device_number: 0,
            mode: "1080p30".into(),
            connection: DecklinkConnection::Hdmi,
            audio_channels: 2,
        },
    ];
    for input in &inputs {
        let InputPlan::Raw { video, audio } = plan(input, "ch") else {
            panic!("raw expected")
        };
        for spec in video.iter().chain(audio.iter()) {
            if gstreamer::ElementFactory::find(spec.factory).is_none() {
                eprintln!("skip: plugin for {} not installed", spec.factory);
                continue;
            }
            spec.build()
                .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
        }
    }
}

#[test]
fn file_and_network_inputs_decode() {
    let file = Input::File {
        path: "/srv/loop.ts".into(),
        loop_playback: true,
        live_pace: true,
    };
    match plan(&file, "ch") {
        InputPlan::File {
            path,
            loop_playback,
            live_pace,
        } => {
            assert_eq!(path, std::path::PathBuf::from("/srv/loop.ts"));
            assert!(loop_playback && live_pace);
        }
        other => panic!("{other:?}"),
    }
    let srt = Input::Srt {
        mode: feedline_config::SrtInputMode::Listener,
        address: "0.0.0.0".into(),
        port: 7000,
        latency_ms: 200,
        passphrase: Some(feedline_config::Secret::new("a-long-passphrase")),
        stream_id: None,
    };
    let InputPlan::Decoded { source, .. } = plan(&srt, "ch") else {
        panic!()
    };
    let line = to_launch_line(&source);
    assert!(
        line.starts_with("srtsrc name=ch-srt uri=srt://0.0.0.0:7000?mode=listener latency=200"),
        "{line}"
    );
    assert!(
        line.contains("passphrase=***") && !line.contains("a-long-passphrase"),
        "{line}"
    );
}
