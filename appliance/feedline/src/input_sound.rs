//! What a network input's missing sound tells the operator: a warning while its pictures arrive
//! without sound (silence goes out in its place, so the feed runs and the picture is right),
//! and an event when the sound goes and when it comes back.

use feedline_api::status::{Alarm, AlarmSeverity, ChannelLive};
use feedline_store::Severity;

/// A warning while a running channel's input sends pictures without sound.
pub fn alarm(channel: &ChannelLive) -> Option<Alarm> {
    let missing = channel
        .input
        .sound_missing_s
        .filter(|_| channel.state == "running")?;
    Some(Alarm {
        severity: AlarmSeverity::Warning,
        channel: Some(channel.name.clone()),
        source: "input".into(),
        message: format!(
            "no sound from the {} input for {missing:.0} s: sending silence",
            channel.input.kind
        ),
    })
}

/// The event between two snapshots of a running channel, if its input's sound went or came
/// back. Sound is only reckoned while pictures arrive: a lost signal is the signal's event.
pub fn transition(prev: &ChannelLive, next: &ChannelLive) -> Option<(Severity, String)> {
    let reckoned = |c: &ChannelLive| c.state == "running" && c.input.signal;
    let missing = |c: &ChannelLive| c.input.sound_missing_s.is_some();
    if !reckoned(prev) || !reckoned(next) || missing(prev) == missing(next) {
        return None;
    }
    Some(if missing(next) {
        (
            Severity::Warning,
            format!("{}: input sound lost: sending silence", next.name),
        )
    } else {
        (
            Severity::Info,
            format!("{}: input sound restored", next.name),
        )
    })
}
