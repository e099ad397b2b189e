//! What a ladder that cannot keep up tells the operator. The channel then sheds the frames its
//! encoders cannot take (media's late-frames queue) and stays on time, so the outputs stay
//! connected and the picture looks fine at a glance: without an alarm the stutter would show
//! only as a counter in the renditions table.

use feedline_api::status::{Alarm, AlarmSeverity, ChannelLive};
use feedline_store::Severity;

/// A backlog full for this long is a ladder that cannot keep up, not one catching up after a
/// stall: a channel's start fills it for about a second.
const BEHIND_FOR_S: f64 = 2.0;

/// Once the start has settled, a backlog at least half full for this long is a ladder falling
/// behind: one that keeps up leaves it near empty, and a full one sheds at once (measured in a
/// CI run: 1080p HEVC at 35 ms a picture for 33 ms frames crept from empty to full in about
/// 15 s, and shed with no word before).
const FILLING_FOR_S: f64 = 1.0;

/// Why a channel's ladder counts as overloaded.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Overload {
    /// Frames shed in the last 10 s: the most any rung lost (the channel sheds in front of the
    /// ladder, so every rung of one frame rate loses the same frames).
    Shedding(u64),
    /// Not yet shedding (the channel waits for its start to settle) but its backlog of
    /// `capacity` frames has been full for this long, s.
    Behind { capacity: u32, full_for_s: f64 },
    /// Not yet shedding, but its backlog has held at least half its `capacity` (`frames` now)
    /// for this long since the start settled, s.
    Filling {
        frames: u32,
        capacity: u32,
        filling_for_s: f64,
    },
}

fn overload(channel: &ChannelLive) -> Option<Overload> {
    let shed = channel
        .renditions
        .iter()
        .map(|r| r.dropped_frames_last_10s)
        .max()
        .filter(|&n| n > 0);
    if let Some(shed) = shed {
        return Some(Overload::Shedding(shed));
    }
    let backlog = channel.ladder_backlog.as_ref()?;
    if let Some(full_for_s) = backlog.full_for_s.filter(|&s| s >= BEHIND_FOR_S) {
        return Some(Overload::Behind {
            capacity: backlog.capacity,
            full_for_s,
        });
    }
    let filling_for_s = backlog.filling_for_s.filter(|&s| s >= FILLING_FOR_S)?;
    Some(Overload::Filling {
        frames: backlog.frames,
        capacity: backlog.capacity,
        filling_for_s,
    })
}

/// The rung the ladder waits for, in words: the one whose pictures spend longest in its
/// encoder for its frame duration (a 60 fps rung has half the time of a 30 fps one), or,
/// before any encoder time is known, the one that shed most.
fn slowest_rung(channel: &ChannelLive) -> Option<String> {
    let timed = channel
        .renditions
        .iter()
        .filter_map(|r| Some((r, r.encode_latency_ms?)))
        .max_by(|(a, a_ms), (b, b_ms)| {
            (a_ms / a.frame_interval_ms.max(1e-3))
                .total_cmp(&(b_ms / b.frame_interval_ms.max(1e-3)))
        });
    if let Some((rung, ms)) = timed {
        return Some(format!(
            "slowest encoder: {} ({}), {ms:.0} ms a picture for {:.0} ms a frame, {:.1} fps",
            rung.name,
            rung.encoder_element.as_deref().unwrap_or("unknown"),
            rung.frame_interval_ms,
            rung.fps
        ));
    }
    let rung = channel
        .renditions
        .iter()
        .min_by_key(|r| std::cmp::Reverse(r.dropped_frames_last_10s))?;
    Some(format!("{} encodes {:.1} fps", rung.name, rung.fps))
}

/// A warning while the channel sheds frames (any in the last 10 s), its backlog has been full
/// for 2 s, or (once started) at least half full for 1 s, naming the rung that holds the
/// ladder back.
pub fn alarm(channel: &ChannelLive) -> Option<Alarm> {
    let why = match overload(channel)? {
        Overload::Shedding(shed) => format!("{shed} frames shed in the last 10 s"),
        Overload::Behind {
            capacity,
            full_for_s,
        } => format!("its {capacity}-frame backlog has been full for {full_for_s:.0} s"),
        Overload::Filling {
            frames,
            capacity,
            filling_for_s,
        } => format!(
            "its backlog is filling, {frames} of {capacity} frames waiting (half full or more for {filling_for_s:.0} s)"
        ),
    };
    Some(Alarm {
        severity: AlarmSeverity::Warning,
        channel: Some(channel.name.clone()),
        source: "ladder".into(),
        message: format!(
            "the ladder cannot keep up: {why}; {}",
            slowest_rung(channel).unwrap_or_default()
        ),
    })
}

/// A warning event when the ladder stops keeping up (its backlog full for 2 s or filling, or
/// frames shed) and when it starts shedding frames; an info event once it has shed nothing for 10 s and its
/// backlog is no longer full.
pub fn transition(prev: &ChannelLive, next: &ChannelLive) -> Option<(Severity, String)> {
    let how = match (overload(prev), overload(next)) {
        (None, Some(Overload::Behind { full_for_s, .. })) => {
            format!("its backlog full for {full_for_s:.0} s")
        }
        (
            None,
            Some(Overload::Filling {
                frames, capacity, ..
            }),
        ) => format!("its backlog filling ({frames} of {capacity} frames waiting)"),
        // Warned of the backlog first, or not: frames going is news either way.
        (
            None | Some(Overload::Behind { .. } | Overload::Filling { .. }),
            Some(Overload::Shedding(shed)),
        ) => format!("shedding frames ({shed} so far)"),
        (Some(_), None) => {
            let total = next.renditions.iter().map(|r| r.dropped_frames).max();
            return Some((
                Severity::Info,
                format!(
                    "{}: the ladder keeps up again ({} frames shed since the channel started)",
                    next.name,
                    total.unwrap_or(0)
                ),
            ));
        }
        _ => return None,
    };
    Some((
        Severity::Warning,
        format!(
            "{}: the ladder cannot keep up, {how}; {}",
            next.name,
            slowest_rung(next).unwrap_or_default()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use feedline_api::status::{InputLive, LadderBacklogLive, RenditionLive};

    /// A channel whose rungs shed `dropped_last_10s` frames and whose pictures spent
    /// `encode_ms` in their encoders.
    fn channel(dropped_last_10s: &[u64], encode_ms: &[Option<f64>]) -> ChannelLive {
        behind(dropped_last_10s, encode_ms, None)
    }

    /// The same, with its backlog full for `full_for_s`.
    fn behind(
        dropped_last_10s: &[u64],
        encode_ms: &[Option<f64>],
        full_for_s: Option<f64>,
    ) -> ChannelLive {
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
                video_decoder: None,
                sound_missing_s: None,
                failover: None,
            },
            ladder_backlog: Some(LadderBacklogLive {
                frames: if full_for_s.is_some() { 14 } else { 0 },
                capacity: 15,
                full_for_s,
                filling_for_s: None,
            }),
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
                    frame_interval_ms: 1000.0 / 30.0,
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
             slowest encoder: rung0 (x265enc), 48 ms a picture for 33 ms a frame, 22.5 fps"
        );
    }

    #[test]
    fn the_slowest_encoder_is_weighed_against_its_own_frame_duration() {
        // A 60 fps rung at 14 ms a picture is nearer its limit than a 30 fps one at 15 ms.
        let mut mixed = channel(&[6, 3], &[Some(14.0), Some(15.0)]);
        mixed.renditions[0].frame_interval_ms = 1000.0 / 60.0;
        let alarm = alarm(&mixed).expect("alarm");
        assert!(
            alarm.message.ends_with(
                "slowest encoder: rung0 (x265enc), 14 ms a picture for 17 ms a frame, 22.5 fps"
            ),
            "{}",
            alarm.message
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
    fn a_backlog_full_for_2_s_raises_the_alarm_before_any_frame_is_shed() {
        let times = [Some(43.0), Some(3.5)];
        // A start fills the backlog for about a second: no alarm.
        assert!(alarm(&behind(&[0, 0], &times, Some(1.2))).is_none());
        let alarm = alarm(&behind(&[0, 0], &times, Some(2.6))).expect("alarm");
        assert_eq!(alarm.severity, AlarmSeverity::Warning);
        assert_eq!(
            alarm.message,
            "the ladder cannot keep up: its 15-frame backlog has been full for 3 s; \
             slowest encoder: rung0 (x265enc), 43 ms a picture for 33 ms a frame, 22.5 fps"
        );
        let (severity, message) = transition(
            &behind(&[0, 0], &times, Some(1.0)),
            &behind(&[0, 0], &times, Some(2.0)),
        )
        .expect("start event");
        assert_eq!(severity, Severity::Warning);
        assert_eq!(
            message,
            "main: the ladder cannot keep up, its backlog full for 2 s; \
             slowest encoder: rung0 (x265enc), 43 ms a picture for 33 ms a frame, 22.5 fps"
        );
        // Then shedding starts: news, and what the alarm says from then on.
        let shedding = behind(&[12, 12], &times, Some(4.0));
        let (_, message) =
            transition(&behind(&[0, 0], &times, Some(3.0)), &shedding).expect("shedding event");
        assert!(message.contains("cannot keep up, shedding frames (12 so far)"));
        assert!(super::alarm(&shedding)
            .is_some_and(|a| a.message.contains("12 frames shed in the last 10 s")));
        assert!(transition(&shedding, &behind(&[30, 30], &times, Some(5.0))).is_none());
    }

    #[test]
    fn a_backlog_filling_after_the_start_warns_before_it_is_full() {
        let times = [Some(35.0), Some(3.0)];
        let filling = |frames: u32, for_s: Option<f64>| {
            let mut c = channel(&[0, 0], &times);
            if let Some(b) = c.ladder_backlog.as_mut() {
                b.frames = frames;
                b.filling_for_s = for_s;
            }
            c
        };
        assert!(alarm(&filling(9, Some(0.6))).is_none());
        let warned = filling(11, Some(1.4));
        assert_eq!(
            alarm(&warned).expect("alarm").message,
            "the ladder cannot keep up: its backlog is filling, 11 of 15 frames waiting (half \
             full or more for 1 s); slowest encoder: rung0 (x265enc), 35 ms a picture for 33 ms \
             a frame, 22.5 fps"
        );
        let (severity, message) = transition(&filling(9, Some(0.6)), &warned).expect("event");
        assert_eq!(severity, Severity::Warning);
        assert!(
            message.starts_with(
                "main: the ladder cannot keep up, its backlog filling (11 of 15 frames waiting); "
            ),
            "{message}"
        );
        // Shedding then is news; the backlog draining with nothing shed is the all-clear.
        let mut shedding = channel(&[2, 2], &times);
        shedding.ladder_backlog = warned.ladder_backlog.clone();
        let (_, message) = transition(&warned, &shedding).expect("shedding event");
        assert!(message.contains("shedding frames (2 so far)"), "{message}");
        let (severity, _) = transition(&warned, &filling(2, None)).expect("all clear");
        assert_eq!(severity, Severity::Info);
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
             slowest encoder: rung1 (x264enc), 61 ms a picture for 33 ms a frame, 22.4 fps"
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
