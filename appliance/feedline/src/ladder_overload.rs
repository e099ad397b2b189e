//! What a ladder that cannot keep up tells the operator. The channel then sheds the frames its
//! encoders cannot take (media's late-frames queue) and stays on time, so the outputs stay
//! connected and the picture looks fine at a glance: without an alarm the stutter would show
//! only as a counter in the renditions table.

use feedline_api::status::{Alarm, AlarmSeverity, ChannelLive};
use feedline_store::Severity;

/// Frames shed in the last 10 s: the most any rung lost (the channel sheds in front of the
/// ladder, so every rung of one frame rate loses the same frames). `None` if none.
fn shed_last_10s(channel: &ChannelLive) -> Option<u64> {
    channel
        .renditions
        .iter()
        .map(|r| r.dropped_frames_last_10s)
        .max()
        .filter(|&n| n > 0)
}

/// The rung the ladder waits for, in words: the one whose pictures spend longest in its
/// encoder, or, before any encoder time is known, the one that shed most.
fn slowest_rung(channel: &ChannelLive) -> Option<String> {
    let timed = channel
        .renditions
        .iter()
        .filter_map(|r| Some((r, r.encode_latency_ms?)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((rung, ms)) = timed {
        return Some(format!(
            "slowest encoder: {} ({}), {ms:.0} ms a picture, {:.1} fps",
            rung.name,
            rung.encoder_element.as_deref().unwrap_or("unknown"),
            rung.fps
        ));
    }
    let rung = channel
        .renditions
        .iter()
        .min_by_key(|r| std::cmp::Reverse(r.dropped_frames_last_10s))?;
    Some(format!("{} encodes {:.1} fps", rung.name, rung.fps))
}

/// A warning while the channel has shed frames in the last 10 s, naming the rung that holds
/// the ladder back.
pub fn alarm(channel: &ChannelLive) -> Option<Alarm> {
    let shed = shed_last_10s(channel)?;
    Some(Alarm {
        severity: AlarmSeverity::Warning,
        channel: Some(channel.name.clone()),
        source: "ladder".into(),
        message: format!(
            "the ladder cannot keep up: {shed} frames shed in the last 10 s; {}",
            slowest_rung(channel).unwrap_or_default()
        ),
    })
}

/// An event when the channel starts shedding frames, and one when it has shed none for 10 s.
pub fn transition(prev: &ChannelLive, next: &ChannelLive) -> Option<(Severity, String)> {
    match (shed_last_10s(prev), shed_last_10s(next)) {
        (None, Some(shed)) => Some((
            Severity::Warning,
            format!(
                "{}: the ladder cannot keep up, shedding frames ({shed} so far); {}",
                next.name,
                slowest_rung(next).unwrap_or_default()
            ),
        )),
        (Some(_), None) => {
            let total = next.renditions.iter().map(|r| r.dropped_frames).max();
            Some((
                Severity::Info,
                format!(
                    "{}: the ladder keeps up again ({} frames shed since the channel started)",
                    next.name,
                    total.unwrap_or(0)
                ),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use feedline_api::status::{InputLive, RenditionLive};

    /// A channel whose rungs shed `dropped_last_10s` frames and whose pictures spent
    /// `encode_ms` in their encoders.
    fn channel(dropped_last_10s: &[u64], encode_ms: &[Option<f64>]) -> ChannelLive {
        ChannelLive {
            name: "main".into(),
            state: "running".into(),
            enabled: true,
            restarts: 0,
            last_error: None,
            input: InputLive {
                kind: "test_pattern".into(),
                signal: true,
                format: None,
                timecode: None,
                frames: 900,
                audio_levels: Vec::new(),
                failover: None,
            },
            renditions: dropped_last_10s
                .iter()
                .zip(encode_ms)
                .enumerate()
                .map(|(i, (&recent, &encode_ms))| RenditionLive {
                    name: format!("rung{i}"),
                    fps: 22.5 - i as f64 / 10.0,
                    bitrate_bps: 1e6,
                    frames: 900,
                    bytes: 1 << 20,
                    dropped_frames: 300 + recent,
                    dropped_frames_last_10s: recent,
                    backend: Some("software".into()),
                    encoder_element: Some(if i == 0 { "x265enc" } else { "x264enc" }.into()),
                    encode_latency_ms: encode_ms,
                })
                .collect(),
            outputs: Vec::new(),
        }
    }

    #[test]
    fn a_ladder_that_keeps_up_raises_nothing() {
        let calm = channel(&[0, 0], &[Some(48.0), Some(5.0)]);
        assert!(alarm(&calm).is_none());
        assert!(transition(&calm, &calm).is_none());
    }

    #[test]
    fn shed_frames_raise_a_warning_naming_the_slowest_encoder() {
        // The rung that lost most is not the one the ladder waits for.
        let alarm = alarm(&channel(&[70, 75], &[Some(48.4), Some(5.0)])).expect("alarm");
        assert_eq!(alarm.severity, AlarmSeverity::Warning);
        assert_eq!(alarm.source, "ladder");
        assert_eq!(alarm.channel.as_deref(), Some("main"));
        assert_eq!(
            alarm.message,
            "the ladder cannot keep up: 75 frames shed in the last 10 s; \
             slowest encoder: rung0 (x265enc), 48 ms a picture, 22.5 fps"
        );
    }

    #[test]
    fn without_encoder_times_the_alarm_says_what_it_knows() {
        let alarm = alarm(&channel(&[0, 75], &[None, None])).expect("alarm");
        assert_eq!(
            alarm.message,
            "the ladder cannot keep up: 75 frames shed in the last 10 s; rung1 encodes 22.4 fps"
        );
    }

    #[test]
    fn one_event_when_shedding_starts_and_one_when_it_stops() {
        let times = [Some(5.0), Some(61.0)];
        let (severity, message) =
            transition(&channel(&[0, 0], &times), &channel(&[3, 3], &times)).expect("start");
        assert_eq!(severity, Severity::Warning);
        assert_eq!(
            message,
            "main: the ladder cannot keep up, shedding frames (3 so far); \
             slowest encoder: rung1 (x264enc), 61 ms a picture, 22.4 fps"
        );
        assert!(transition(&channel(&[3, 3], &times), &channel(&[90, 90], &times)).is_none());
        let (severity, message) =
            transition(&channel(&[90, 90], &times), &channel(&[0, 0], &times)).expect("end");
        assert_eq!(severity, Severity::Info);
        assert_eq!(
            message,
            "main: the ladder keeps up again (300 frames shed since the channel started)"
        );
    }
}
