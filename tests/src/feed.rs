//! The full set of assertions on a received feed (issue #2 §8), shared by every delivery test.

use crate::analysis::{self, bitrate_kbps, frame_timecodes, packets, timecode_to_frames};
use crate::ts;
use std::collections::BTreeSet;
use std::path::Path;

/// What one rung should look like at the receiver.
#[derive(Debug, Clone)]
pub struct ExpectedRung {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub profile: &'static str,
    pub bitrate_kbps: u32,
}

/// ±15 %: the tolerance issue #2 states for CBR rungs over ≥10 s.
pub const BITRATE_TOLERANCE: f64 = 0.15;

pub struct FeedReport {
    pub seconds: f64,
    pub measured_kbps: Vec<f64>,
    pub keyframes: usize,
}

/// Asserts the receiver got `rungs` (highest first) plus AAC 48 kHz stereo, for at least
/// `min_seconds`, with bitrates in tolerance, IDRs at identical PTS across rungs, a timecode on
/// every frame advancing one frame per frame, and monotonic PTS. `gop` is in frames.
pub fn assert_feed(
    capture: &Path,
    rungs: &[ExpectedRung],
    gop: u32,
    min_seconds: f64,
) -> FeedReport {
    assert_feed_shedding(capture, rungs, gop, min_seconds, 0)
}

/// As `assert_feed`, where up to `shed` consecutive programme frames may be missing: frames a
/// loaded channel shed by design (a burst its ladder could not take in time). PTS may step up
/// to `shed + 1` frames (at least 2, as always), and a GOP may span up to `gop + shed` frames
/// of time; everything else is as strict.
pub fn assert_feed_shedding(
    capture: &Path,
    rungs: &[ExpectedRung],
    gop: u32,
    min_seconds: f64,
    shed: u32,
) -> FeedReport {
    let max_step_frames = i64::from(shed.max(1)) + 1;
    let streams = analysis::streams(capture);
    let video = analysis::video_streams(capture);
    assert_eq!(
        video.len(),
        rungs.len(),
        "expected {} video streams, receiver saw {:?}",
        rungs.len(),
        video
            .iter()
            .map(|v| (v.width, v.height))
            .collect::<Vec<_>>()
    );
    let audio: Vec<_> = streams.iter().filter(|s| s.codec_type == "audio").collect();
    assert_eq!(audio.len(), 1, "expected exactly one audio stream");
    assert_eq!(audio[0].codec_name, "aac");
    assert_eq!(audio[0].profile.as_deref(), Some("LC"));
    assert_eq!(audio[0].sample_rate.as_deref(), Some("48000"));
    assert_eq!(audio[0].channels, Some(2));

    let mut keyframe_sets = Vec::new();
    let mut spans = Vec::new();
    let mut measured = Vec::new();
    for (stream, want) in video.iter().zip(rungs) {
        let at = format!("rung {}x{}", want.width, want.height);
        assert_eq!(stream.codec_name, "h264", "{at}: codec");
        assert_eq!(
            (stream.width, stream.height),
            (Some(want.width), Some(want.height)),
            "{at}: size"
        );
        assert_eq!(
            stream.r_frame_rate.as_deref(),
            Some(format!("{}/1", want.fps).as_str()),
            "{at}: frame rate"
        );
        assert_eq!(
            stream.profile.as_deref(),
            Some(want.profile),
            "{at}: profile"
        );

        let pkts = packets(capture, stream.index);
        let frame_90k = 90_000 / i64::from(want.fps);
        // Start at the first IDR: a receiver cannot use anything before it.
        let first_key = pkts
            .iter()
            .position(|p| p.keyframe)
            .unwrap_or_else(|| panic!("{at}: no IDR received"));
        let pkts = &pkts[first_key..];
        for pair in pkts.windows(2) {
            assert!(
                pair[1].pts > pair[0].pts,
                "{at}: PTS not monotonic: {} then {}",
                pair[0].pts,
                pair[1].pts
            );
            let step = pair[1].pts - pair[0].pts;
            assert!(
                step <= frame_90k * max_step_frames,
                "{at}: gap of {step} ticks (> {max_step_frames} frames) in PTS, {:.2} s into {:.2} s received",
                (pair[0].pts - pkts[0].pts) as f64 / 90_000.0,
                (pkts[pkts.len() - 1].pts - pkts[0].pts) as f64 / 90_000.0
            );
        }
        let seconds =
            (pkts.last().map(|p| p.pts).unwrap_or(0) - pkts[0].pts + frame_90k) as f64 / 90_000.0;
        assert!(
            seconds >= min_seconds,
            "{at}: only {seconds:.1} s received, need {min_seconds}"
        );
        // Whole GOPs only, so the IDR's extra bits are averaged fairly.
        let whole = (pkts.len() / gop as usize) * gop as usize;
        let kbps = bitrate_kbps(&pkts[..whole.max(2)], frame_90k);
        let ratio = kbps / f64::from(want.bitrate_kbps);
        assert!(
            (ratio - 1.0).abs() <= BITRATE_TOLERANCE,
            "{at}: bitrate {kbps:.0} kb/s is {:.1} % off the {} kb/s target (tolerance ±15 %)",
            (ratio - 1.0) * 100.0,
            want.bitrate_kbps
        );
        measured.push(kbps);
        let keys: BTreeSet<i64> = pkts.iter().filter(|p| p.keyframe).map(|p| p.pts).collect();
        // IDRs every `gop` frames exactly.
        let key_list: Vec<i64> = keys.iter().copied().collect();
        for pair in key_list.windows(2) {
            let frames = (pair[1] - pair[0] + frame_90k / 2) / frame_90k;
            assert!(
                (i64::from(gop)..=i64::from(gop + shed)).contains(&frames),
                "{at}: IDR interval of {frames} frames, expected {gop}{}",
                if shed > 0 {
                    format!(" (up to {} with frames shed)", gop + shed)
                } else {
                    String::new()
                }
            );
        }
        spans.push((pkts[0].pts, pkts.last().map(|p| p.pts).unwrap_or(0)));
        keyframe_sets.push(keys);

        // Every header well formed (the timecode SEI is rewritten on every picture).
        let errors = analysis::bitstream_errors(capture, stream.index);
        assert!(
            errors.is_empty(),
            "{at}: {} bitstream errors, the first: {:?}",
            errors.len(),
            &errors[..errors.len().min(6)]
        );

        // Timecode on every frame, one frame apart.
        let tcs = frame_timecodes(capture, stream.index);
        let frames: Vec<u64> = tcs
            .iter()
            .skip_while(|t| t.is_none())
            .map(|t| {
                let tc = t
                    .as_deref()
                    .unwrap_or_else(|| panic!("{at}: a frame without timecode SEI"));
                timecode_to_frames(tc, want.fps)
                    .unwrap_or_else(|| panic!("{at}: bad timecode {tc}"))
            })
            .collect();
        assert!(
            frames.len() as f64 >= min_seconds * f64::from(want.fps) * 0.9,
            "{at}: only {} frames with timecode",
            frames.len()
        );
        for pair in frames.windows(2) {
            assert_eq!(
                pair[1],
                pair[0] + 1,
                "{at}: timecode jumped from frame {} to {}",
                pair[0],
                pair[1]
            );
        }
    }

    // IDRs on the same PTS in every rung, over the span all rungs cover.
    let start = spans.iter().map(|s| s.0).max().unwrap_or(0);
    let end = spans.iter().map(|s| s.1).min().unwrap_or(0);
    let in_span =
        |set: &BTreeSet<i64>| -> BTreeSet<i64> { set.range(start..=end).copied().collect() };
    let reference = in_span(&keyframe_sets[0]);
    assert!(
        reference.len() >= 3,
        "too few IDRs to compare: {reference:?}"
    );
    for (i, set) in keyframe_sets.iter().enumerate().skip(1) {
        assert_eq!(
            in_span(set),
            reference,
            "rung {i}'s IDR PTS differ from rung 0's"
        );
    }
    FeedReport {
        seconds: spans
            .iter()
            .map(|s| (s.1 - s.0) as f64 / 90_000.0)
            .fold(f64::MAX, f64::min),
        measured_kbps: measured,
        keyframes: reference.len(),
    }
}

/// Zero continuity errors and no sync loss in a raw TS capture.
pub fn assert_ts_continuity(capture: &Path) -> ts::TsReport {
    let bytes = std::fs::read(capture).expect("read capture");
    let report = ts::check(&bytes);
    assert!(
        report.packets > 1000,
        "capture too small: {} packets",
        report.packets
    );
    assert_eq!(
        report.sync_errors,
        0,
        "TS sync lost in {}: {:?}",
        capture.display(),
        report.errors
    );
    assert_eq!(
        report.continuity_errors, 0,
        "continuity errors: {:?}",
        report.errors
    );
    report
}

/// The two rungs of `two_rung_config`.
pub fn two_rungs() -> Vec<ExpectedRung> {
    vec![
        ExpectedRung {
            width: 640,
            height: 360,
            fps: 30,
            profile: "High",
            bitrate_kbps: 1200,
        },
        ExpectedRung {
            width: 320,
            height: 180,
            fps: 30,
            profile: "Main",
            bitrate_kbps: 400,
        },
    ]
}

/// Checks what a receiver wrote to `capture` from byte `from` on (rounded down to a TS packet):
/// every TS packet in order (no continuity error) and no frame missing (no DTS gap over one
/// and a half frames at 30 fps). Returns the number of TS packets checked.
pub fn assert_whole_from(capture: &Path, from: usize) -> u64 {
    assert_whole_between(capture, from, usize::MAX)
}

/// As `assert_whole_from`, for what the receiver wrote from byte `from` up to byte `to`.
pub fn assert_whole_between(capture: &Path, from: usize, to: usize) -> u64 {
    let checked = capture_part(capture, from, to);
    // Said before the check, so that a failure's byte offsets can be found in the capture.
    println!("checking bytes {from}..{to} of {}", capture.display());
    let report = assert_ts_continuity(&checked);
    let packets = crate::analysis::packets(&checked, 0);
    let gaps = crate::analysis::dts_gaps(&packets, 3000 + 1500);
    assert!(gaps.is_empty(), "frames lost (DTS gaps, 90 kHz): {gaps:?}");
    report.packets
}

/// Bytes `from` to `to` of a capture (rounded down to TS packets) in a file beside it.
pub fn capture_part(capture: &Path, from: usize, to: usize) -> std::path::PathBuf {
    let bytes = std::fs::read(capture).expect("read capture");
    let to = (to / 188 * 188).min(bytes.len());
    let from = (from / 188 * 188).min(to);
    let part = capture.with_file_name("checked.ts");
    std::fs::write(&part, &bytes[from..to]).expect("write the checked part");
    part
}
