//! What a ladder that cannot keep up tells the operator. The channel then sheds the frames its
//! encoders cannot take (media's late-frames queue) and stays on time, so the outputs stay
//! connected and the picture looks fine at a glance: without an alarm the stutter would show
//! only as a counter in the renditions table.

use feedline_api::status::{Alarm, AlarmSeverity, ChannelLive, RenditionLive};
use feedline_store::Severity;

/// The rung that shed the most frames in the last 10 s, if any shed one; the first configured
/// of equals. (The channel sheds in front of the ladder, so every rung of one frame rate loses
/// the same frames.)
fn worst_rung(channel: &ChannelLive) -> Option<&RenditionLive> {
    channel
        .renditions
        .iter()
        .filter(|r| r.dropped_frames_last_10s > 0)
        .min_by_key(|r| std::cmp::Reverse(r.dropped_frames_last_10s))
}

/// A warning while the channel has shed frames in the last 10 s.
pub fn alarm(channel: &ChannelLive) -> Option<Alarm> {
    let rung = worst_rung(channel)?;
    Some(Alarm {
        severity: AlarmSeverity::Warning,
        channel: Some(channel.name.clone()),
        source: "ladder".into(),
        message: format!(
            "the ladder cannot keep up: {} frames shed in the last 10 s, {} encodes {:.1} fps",
            rung.dropped_frames_last_10s, rung.name, rung.fps
        ),
    })
}

/// An event when the channel starts shedding frames, and one when it has shed none for 10 s.
pub fn transition(prev: &ChannelLive, next: &ChannelLive) -> Option<(Severity, String)> {
    match (worst_rung(prev), worst_rung(next)) {
        (None, Some(rung)) => Some((
            Severity::Warning,
            format!(
                "{}: the ladder cannot keep up, shedding frames ({} so far on {})",
                next.name, rung.dropped_frames_last_10s, rung.name
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
    use feedline_api::status::InputLive;

    fn channel(dropped_last_10s: &[u64]) -> ChannelLive {
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
                .enumerate()
                .map(|(i, &recent)| RenditionLive {
                    name: format!("rung{i}"),
                    fps: 22.5,
                    bitrate_bps: 1e6,
                    frames: 900,
                    bytes: 1 << 20,
                    dropped_frames: 300 + recent,
                    dropped_frames_last_10s: recent,
                    backend: Some("software".into()),
                    encoder_element: Some("x264enc".into()),
                })
                .collect(),
            outputs: Vec::new(),
        }
    }

    #[test]
    fn a_ladder_that_keeps_up_raises_nothing() {
        assert!(alarm(&channel(&[0, 0])).is_none());
        assert!(transition(&channel(&[0, 0]), &channel(&[0, 0])).is_none());
    }

    #[test]
    fn shed_frames_raise_a_warning_naming_the_worst_rung() {
        let alarm = alarm(&channel(&[0, 75])).expect("alarm");
        assert_eq!(alarm.severity, AlarmSeverity::Warning);
        assert_eq!(alarm.source, "ladder");
        assert_eq!(alarm.channel.as_deref(), Some("main"));
        assert_eq!(
            alarm.message,
            "the ladder cannot keep up: 75 frames shed in the last 10 s, rung1 encodes 22.5 fps"
        );
    }

    #[test]
    fn one_event_when_shedding_starts_and_one_when_it_stops() {
        let (severity, message) =
            transition(&channel(&[0, 0]), &channel(&[3, 3])).expect("start event");
        assert_eq!(severity, Severity::Warning);
        assert_eq!(
            message,
            "main: the ladder cannot keep up, shedding frames (3 so far on rung0)"
        );
        assert!(transition(&channel(&[3, 3]), &channel(&[90, 90])).is_none());
        let (severity, message) =
            transition(&channel(&[90, 90]), &channel(&[0, 0])).expect("end event");
        assert_eq!(severity, Severity::Info);
        assert_eq!(
            message,
            "main: the ladder keeps up again (300 frames shed since the channel started)"
        );
    }
}
