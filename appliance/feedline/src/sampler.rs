//! Turns the media side's counters into the live status: rates over the last second, alarms
//! for what needs attention now, and events for what just changed.

use crate::{group_links, input_sound, ladder_overload};
use feedline_api::status::{
    Alarm, AlarmSeverity, ApplianceStatus, AudioLevelLive, ChannelLive, FailoverInputLive,
    FailoverLive, InputLive, LadderBacklogLive, OutputLive, RenditionLive, RistLive,
    SrtGroupLinkLive, SrtLive, SwitchLive,
};
use feedline_media::encode_latency::EncodeTotals;
use feedline_media::{ChannelStatus, RenditionStatus};
use feedline_store::Severity;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Rates are measured over about this long.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// Frames shed this recently keep the `ladder` alarm up, so that a ladder shedding a frame
/// every few seconds raises one alarm, not one a second.
const DROPPED_WINDOW: Duration = Duration::from_secs(10);
/// A running channel's output that has had no TS from the muxer for this long is alarmed. The
/// muxer hands TS several times a second (every picture); a start takes under a second.
const NO_TS_ALARM_S: f64 = 3.0;

/// One channel as the supervisor sees it when sampling.
pub struct ChannelSample {
    pub name: String,
    pub enabled: bool,
    pub input_kind: String,
    /// (name, transport kind) of each configured output.
    pub outputs: Vec<(String, String)>,
    /// `None` when the channel is not running.
    pub media: Option<ChannelStatus>,
}

#[derive(Clone)]
struct Counters {
    at: Instant,
    rungs: Vec<RungCounters>,
    outputs: Vec<u64>,
}

#[derive(Clone, Copy)]
struct RungCounters {
    frames: u64,
    bytes: u64,
    dropped: u64,
    encode: EncodeTotals,
}

impl RungCounters {
    fn of(r: &RenditionStatus) -> Self {
        RungCounters {
            frames: r.frames,
            bytes: r.bytes,
            dropped: r.dropped_frames,
            encode: r.encode,
        }
    }
}

#[derive(Default)]
pub struct Sampler {
    history: HashMap<String, VecDeque<Counters>>,
    /// Per channel, per output: TS handed so far (sent or dropped) and since when that figure
    /// has not changed. Reset when the channel stops, so a restart counts from its start.
    ts_progress: HashMap<String, HashMap<String, (u64, Instant)>>,
}

fn rate(now: u64, then: u64, seconds: f64) -> f64 {
    if seconds <= 0.0 {
        0.0
    } else {
        now.saturating_sub(then) as f64 / seconds
    }
}

impl Sampler {
    pub fn sample(
        &mut self,
        channels: Vec<ChannelSample>,
        safe_mode: Option<String>,
        uptime: Duration,
    ) -> ApplianceStatus {
        self.sample_at(Instant::now(), channels, safe_mode, uptime)
    }

    fn sample_at(
        &mut self,
        now: Instant,
        channels: Vec<ChannelSample>,
        safe_mode: Option<String>,
        uptime: Duration,
    ) -> ApplianceStatus {
        self.history
            .retain(|name, _| channels.iter().any(|c| &c.name == name));
        self.ts_progress
            .retain(|name, _| channels.iter().any(|c| &c.name == name));
        let mut live = Vec::new();
        for c in channels {
            live.push(match c.media {
                Some(media) => {
                    self.running_channel(now, c.name, c.enabled, c.input_kind, &c.outputs, media)
                }
                None => {
                    self.history.remove(&c.name);
                    self.ts_progress.remove(&c.name);
                    stopped_channel(c.name, c.enabled, c.input_kind, &c.outputs)
                }
            });
        }
        let mut status = ApplianceStatus {
            time_ms: feedline_store::now_ms(),
            uptime_s: uptime.as_secs_f64(),
            safe_mode,
            channels: live,
            alarms: Vec::new(),
        };
        status.alarms = alarms(&status);
        status
    }

    fn running_channel(
        &mut self,
        now: Instant,
        name: String,
        enabled: bool,
        input_kind: String,
        outputs: &[(String, String)],
        media: ChannelStatus,
    ) -> ChannelLive {
        let counters = Counters {
            at: now,
            rungs: media.renditions.iter().map(RungCounters::of).collect(),
            outputs: media.outputs.iter().map(|o| o.bytes_out).collect(),
        };
        let history = self.history.entry(name.clone()).or_default();
        history.push_back(counters);
        while history.len() > 2 && now.duration_since(history[1].at) >= DROPPED_WINDOW {
            history.pop_front();
        }
        // Never empty: this sample was just pushed.
        let oldest = &history[0];
        let base = history
            .iter()
            .rev()
            .find(|c| now.duration_since(c.at) >= RATE_WINDOW)
            .unwrap_or(oldest);
        let dt = now.duration_since(base.at).as_secs_f64();
        let progress = self.ts_progress.entry(name.clone()).or_default();
        progress.retain(|output, _| media.outputs.iter().any(|o| &o.name == output));
        let mut ts_idle = |o: &feedline_media::status::OutputStatus| {
            let handed = o.bytes_out + o.bytes_dropped;
            let (seen, since) = progress.entry(o.name.clone()).or_insert((handed, now));
            if handed != *seen {
                *seen = handed;
                *since = now;
            }
            now.duration_since(*since).as_secs_f64()
        };
        ChannelLive {
            name,
            state: media.state.to_string(),
            enabled,
            restarts: media.restarts,
            last_error: media.last_error,
            input: InputLive {
                kind: input_kind,
                signal: media.input.signal,
                format: media.input.format,
                timecode: media.input.timecode,
                frames: media.input.frames,
                audio_levels: media
                    .input
                    .audio_levels
                    .iter()
                    .map(|l| AudioLevelLive {
                        peak_dbfs: l.peak_dbfs,
                        rms_dbfs: l.rms_dbfs,
                    })
                    .collect(),
                video_decoder: media.input.video_decoder,
                sound_missing_s: media.input.sound_missing.map(|d| d.as_secs_f64()),
                failover: media.input.failover.map(failover_live),
            },
            ladder_backlog: media.ladder_backlog.map(|b| LadderBacklogLive {
                frames: b.frames,
                capacity: b.capacity,
                full_for_s: b.full_for.map(|d| d.as_secs_f64()),
                filling_for_s: b.filling_for.map(|d| d.as_secs_f64()),
            }),
            renditions: media
                .renditions
                .into_iter()
                .enumerate()
                .map(|(i, r)| {
                    let current = RungCounters::of(&r);
                    let then = base.rungs.get(i).copied().unwrap_or(current);
                    let dropped_then = oldest.rungs.get(i).map_or(current.dropped, |c| c.dropped);
                    RenditionLive {
                        fps: rate(r.frames, then.frames, dt),
                        bitrate_bps: rate(r.bytes, then.bytes, dt) * 8.0,
                        name: r.name,
                        frames: r.frames,
                        bytes: r.bytes,
                        dropped_frames: r.dropped_frames,
                        dropped_frames_last_10s: r.dropped_frames.saturating_sub(dropped_then),
                        backend: r.encoder.map(|(backend, _)| backend.to_string()),
                        encoder_element: r.encoder.map(|(_, element)| element.to_string()),
                        encode_latency_ms: r
                            .encode
                            .mean_since(&then.encode)
                            .map(|d| d.as_secs_f64() * 1000.0),
                        frame_interval_ms: r.frame_interval.as_secs_f64() * 1000.0,
                    }
                })
                .collect(),
            outputs: media
                .outputs
                .into_iter()
                .enumerate()
                .map(|(i, o)| {
                    let b0 = base.outputs.get(i).copied().unwrap_or(o.bytes_out);
                    OutputLive {
                        send_rate_bps: rate(o.bytes_out, b0, dt) * 8.0,
                        ts_idle_s: ts_idle(&o),
                        transport: outputs.get(i).map(|o| o.1.clone()).unwrap_or_default(),
                        name: o.name,
                        state: o.state.to_string(),
                        connection_attempts: o.connection_attempts,
                        last_error: o.last_error,
                        bytes_out: o.bytes_out,
                        bytes_dropped: o.bytes_dropped,
                        buffer_bytes: o.buffer_bytes,
                        delay_from_capture_ms: o
                            .delay_from_capture
                            .map(|d| d.as_secs_f64() * 1000.0),
                        srt: o.srt.as_ref().map(srt_live),
                        rist: o.rist.as_ref().map(|r| RistLive {
                            packets_sent: r.packets_sent,
                            packets_retransmitted: r.packets_retransmitted,
                            rtt_ms: r.rtt_ms,
                        }),
                        links: o
                            .group_links
                            .iter()
                            .map(|l| SrtGroupLinkLive {
                                address: l.address.clone(),
                                bind: l.bind.clone(),
                                interface: l.interface.clone(),
                                state: l.state.as_str().to_string(),
                                srt: srt_live(&l.stats),
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }
}

fn srt_live(s: &feedline_media::status::SrtLinkStats) -> SrtLive {
    SrtLive {
        rtt_ms: s.rtt_ms,
        send_rate_mbps: s.send_rate_mbps,
        packets_sent: s.packets_sent,
        packets_lost: s.packets_lost,
        packets_retransmitted: s.packets_retransmitted,
        packets_dropped: s.packets_dropped,
        negotiated_latency_ms: s.negotiated_latency_ms,
    }
}

fn stopped_channel(
    name: String,
    enabled: bool,
    kind: String,
    outputs: &[(String, String)],
) -> ChannelLive {
    ChannelLive {
        name,
        state: "stopped".into(),
        enabled,
        restarts: 0,
        last_error: None,
        input: InputLive {
            kind,
            signal: false,
            format: None,
            timecode: None,
            frames: 0,
            audio_levels: Vec::new(),
            video_decoder: None,
            sound_missing_s: None,
            failover: None,
        },
        ladder_backlog: None,
        renditions: Vec::new(),
        outputs: outputs
            .iter()
            .map(|(name, transport)| OutputLive::stopped(name, transport))
            .collect(),
    }
}

fn failover_live(f: feedline_media::FailoverStatus) -> FailoverLive {
    FailoverLive {
        active: f.active,
        slate: f.slate,
        inputs: f
            .inputs
            .into_iter()
            .map(|i| FailoverInputLive {
                role: i.role,
                kind: i.kind,
                confidence: i.confidence,
                fault: i.fault,
                reopens: i.reopens,
                signal: i.signal,
                playout_delay_ms: i.playout_delay_ms,
                video_decoder: i.video_decoder,
                last_error: i.last_error,
            })
            .collect(),
        switches: f
            .switches
            .into_iter()
            .map(|s| SwitchLive {
                seq: s.seq,
                at_ms: s.at_unix_ms,
                from: s.from,
                to: s.to,
                reason: s.reason,
            })
            .collect(),
    }
}

/// What needs an operator's attention now.
pub fn alarms(status: &ApplianceStatus) -> Vec<Alarm> {
    let mut alarms = Vec::new();
    if let Some(reason) = &status.safe_mode {
        alarms.push(Alarm {
            severity: AlarmSeverity::Critical,
            channel: None,
            source: "store".into(),
            message: format!("SAFE MODE, no channel runs: {reason}"),
        });
    }
    for c in &status.channels {
        if !c.enabled {
            continue;
        }
        let channel = Some(c.name.clone());
        if c.state == "restarting" {
            alarms.push(Alarm {
                severity: AlarmSeverity::Critical,
                channel: channel.clone(),
                source: "channel".into(),
                message: format!(
                    "pipeline failed, restarting: {}",
                    c.last_error.as_deref().unwrap_or("unknown error")
                ),
            });
        } else if let Some(f) = c.input.failover.as_ref().filter(|f| f.active != "primary") {
            // The programme carries on from the backup or the slate: loud, but not yet lost.
            let why = f
                .inputs
                .iter()
                .find(|i| i.role == "primary")
                .and_then(|i| i.fault.as_deref())
                .unwrap_or("not yet back");
            alarms.push(Alarm {
                severity: if f.active == "slate" {
                    AlarmSeverity::Critical
                } else {
                    AlarmSeverity::Warning
                },
                channel: channel.clone(),
                source: "input".into(),
                message: format!("on {}: primary input {why}", f.active),
            });
        } else if c.state == "running" && !c.input.signal {
            alarms.push(Alarm {
                severity: AlarmSeverity::Critical,
                channel: channel.clone(),
                source: "input".into(),
                message: format!("no signal on the {} input", c.input.kind),
            });
        }
        alarms.extend(input_sound::alarm(c));
        alarms.extend(ladder_overload::alarm(c));
        for o in &c.outputs {
            alarms.extend(group_links::alarm(&c.name, o));
            // The pictures are there (the input has signal; without it the input's alarm says
            // why) but no TS reaches this output: the one failure nothing else would show.
            if c.state == "running" && c.input.signal && o.ts_idle_s >= NO_TS_ALARM_S {
                alarms.push(Alarm {
                    severity: AlarmSeverity::Critical,
                    channel: channel.clone(),
                    source: format!("output/{}", o.name),
                    message: format!(
                        "output {}: no TS from the encoders for {:.0} s although the input has signal",
                        o.name, o.ts_idle_s
                    ),
                });
                continue;
            }
            let severity = match o.state.as_str() {
                "failed" => AlarmSeverity::Critical,
                "reconnecting" => AlarmSeverity::Warning,
                _ => continue,
            };
            alarms.push(Alarm {
                severity,
                channel: channel.clone(),
                source: format!("output/{}", o.name),
                message: format!(
                    "output {} {}: {}",
                    o.name,
                    o.state,
                    o.last_error.as_deref().unwrap_or("no detail")
                ),
            });
        }
    }
    alarms
}

/// Events for what changed between two snapshots: channel and output states, input signal,
/// input switches, a ladder starting or stopping to shed frames.
pub fn transitions(
    prev: &ApplianceStatus,
    next: &ApplianceStatus,
) -> Vec<(Severity, Option<String>, &'static str, String)> {
    let mut events = Vec::new();
    for c in &next.channels {
        let Some(p) = prev.channels.iter().find(|p| p.name == c.name) else {
            continue;
        };
        let ch = Some(c.name.clone());
        if p.state != c.state {
            let severity = if c.state == "restarting" {
                Severity::Error
            } else {
                Severity::Info
            };
            let why = match (&c.last_error, c.state.as_str()) {
                (Some(e), "restarting") => format!(": {e}"),
                _ => String::new(),
            };
            events.push((
                severity,
                ch.clone(),
                "channel_state",
                format!("channel {} {} → {}{why}", c.name, p.state, c.state),
            ));
        }
        if c.state == "running" && p.state == "running" && p.input.signal != c.input.signal {
            let (severity, text) = if c.input.signal {
                (Severity::Info, "input signal restored")
            } else {
                (Severity::Error, "input signal lost")
            };
            events.push((
                severity,
                ch.clone(),
                "input_signal",
                format!("{}: {text}", c.name),
            ));
        }
        if let Some((severity, message)) = input_sound::transition(p, c) {
            events.push((severity, ch.clone(), "input_sound", message));
        }
        if let Some((severity, message)) = ladder_overload::transition(p, c) {
            events.push((severity, ch.clone(), "ladder_overload", message));
        }
        if let Some(f) = &c.input.failover {
            let seen = p
                .input
                .failover
                .as_ref()
                .and_then(|pf| pf.switches.last())
                .map(|s| s.seq)
                .unwrap_or(0);
            for sw in f.switches.iter().filter(|s| s.seq > seen) {
                let severity = if sw.to == "primary" {
                    Severity::Info
                } else {
                    Severity::Warning
                };
                events.push((
                    severity,
                    ch.clone(),
                    "input_switch",
                    format!("{}: {} → {}: {}", c.name, sw.from, sw.to, sw.reason),
                ));
            }
        }
        for o in &c.outputs {
            let Some(po) = p.outputs.iter().find(|po| po.name == o.name) else {
                continue;
            };
            for (severity, message) in group_links::transitions(&c.name, po, o) {
                events.push((severity, ch.clone(), "output_link", message));
            }
            if po.state != o.state {
                let severity = match o.state.as_str() {
                    "failed" => Severity::Error,
                    "reconnecting" => Severity::Warning,
                    _ => Severity::Info,
                };
                let why = o
                    .last_error
                    .as_deref()
                    .filter(|_| severity != Severity::Info)
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default();
                events.push((
                    severity,
                    ch.clone(),
                    "output_state",
                    format!(
                        "output {}/{} {} → {}{why}",
                        c.name, o.name, po.state, o.state
                    ),
                ));
            }
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use feedline_media::status::{ChannelState, InputStatus};

    /// The test pattern's channel with one 30 fps rung that has encoded `frames` and shed
    /// `dropped` since it started.
    fn sample(frames: u64, dropped: u64) -> Vec<ChannelSample> {
        vec![ChannelSample {
            name: "main".into(),
            enabled: true,
            input_kind: "test_pattern".into(),
            outputs: Vec::new(),
            media: Some(ChannelStatus {
                name: "main".into(),
                state: ChannelState::Running,
                restarts: 0,
                last_error: None,
                input: InputStatus {
                    signal: true,
                    format: None,
                    timecode: None,
                    frames: frames + dropped,
                    audio_levels: Vec::new(),
                    video_decoder: None,
                    sound_missing: None,
                    failover: None,
                },
                ladder_backlog: None,
                renditions: vec![RenditionStatus {
                    name: "1080p".into(),
                    frames,
                    bytes: frames * 20_000,
                    dropped_frames: dropped,
                    encoder: Some(("software", "x264enc")),
                    encode: EncodeTotals {
                        total_ns: frames * 20_000_000,
                        pictures: frames,
                    },
                    frame_interval: Duration::from_nanos(33_333_333),
                }],
                outputs: Vec::new(),
            }),
        }]
    }

    #[test]
    fn frames_shed_keep_the_ladder_alarm_up_for_ten_seconds_and_rates_stay_per_second() {
        let mut sampler = Sampler::default();
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let status = |sampler: &mut Sampler, ms: u64, frames: u64, dropped: u64| {
            sampler.sample_at(at(ms), sample(frames, dropped), None, Duration::ZERO)
        };
        // 30 fps for 2 s, nothing shed.
        for i in 0..=8u64 {
            status(&mut sampler, i * 250, i * 30 / 4, 0);
        }
        let calm = status(&mut sampler, 2250, 67, 0);
        assert!(calm.alarms.is_empty(), "{:?}", calm.alarms);
        assert!((calm.channels[0].renditions[0].fps - 30.0).abs() < 1.0);
        let encode_ms = calm.channels[0].renditions[0].encode_latency_ms;
        assert!(
            encode_ms.is_some_and(|ms| (ms - 20.0).abs() < 0.01),
            "{encode_ms:?}"
        );
        // Then 6 frames shed within a quarter of a second: the alarm is up at once.
        let shed = status(&mut sampler, 2500, 69, 6);
        assert_eq!(shed.channels[0].renditions[0].dropped_frames_last_10s, 6);
        assert_eq!(shed.alarms.len(), 1);
        assert_eq!(shed.alarms[0].source, "ladder");
        // Nothing more shed: it stays up for 10 s, counting the same 6 ...
        let mut last = shed;
        let mut ms = 2500;
        while ms < 12_250 {
            ms += 250;
            last = status(&mut sampler, ms, 69 + (ms - 2500) * 30 / 1000, 6);
            assert_eq!(
                last.alarms.len(),
                1,
                "alarm gone {} ms after the shedding",
                ms - 2500
            );
        }
        assert_eq!(last.channels[0].renditions[0].dropped_frames_last_10s, 6);
        // ... and the rate is still that of the last second, not of the 10 s window.
        assert!((last.channels[0].renditions[0].fps - 30.0).abs() < 1.0);
        // Past 10 s without a shed frame, the alarm is down.
        let later = status(&mut sampler, 12_750, 69 + 307, 6);
        assert_eq!(later.channels[0].renditions[0].dropped_frames_last_10s, 0);
        assert!(later.alarms.is_empty(), "{:?}", later.alarms);
    }

    /// The same channel with one output that the muxer has handed `handed` bytes so far, and an
    /// input with or without `signal`.
    fn with_output(handed: u64, signal: bool) -> Vec<ChannelSample> {
        let mut channels = sample(300, 0);
        let media = channels[0].media.as_mut().expect("running");
        media.input.signal = signal;
        let mut out = feedline_media::status::OutputStatus::new("srt-out");
        out.state = feedline_media::status::OutputState::Connected;
        out.bytes_out = handed;
        media.outputs.push(out);
        channels[0].outputs.push(("srt-out".into(), "srt".into()));
        channels
    }

    /// A network input's sound that stops while its pictures carry on: a warning (not the
    /// critical no-signal alarm) and one event each way; a lost signal is not "sound restored".
    #[test]
    fn missing_input_sound_is_a_warning_and_an_event_each_way() {
        let mut sampler = Sampler::default();
        let t0 = Instant::now();
        let mut at = |ms: u64, signal: bool, sound_missing_s: Option<f64>| {
            let mut channels = with_output(ms, signal);
            let media = channels[0].media.as_mut().expect("running");
            media.input.sound_missing = sound_missing_s.map(Duration::from_secs_f64);
            sampler.sample_at(
                t0 + Duration::from_millis(ms),
                channels,
                None,
                Duration::ZERO,
            )
        };
        let sound_alarms = |s: &ApplianceStatus| -> Vec<Alarm> {
            s.alarms
                .iter()
                .filter(|a| a.source == "input" && a.message.contains("sound"))
                .cloned()
                .collect()
        };
        let events = |p: &ApplianceStatus, n: &ApplianceStatus| -> Vec<String> {
            transitions(p, n)
                .into_iter()
                .filter(|e| e.2 == "input_sound")
                .map(|e| format!("{:?} {}", e.0, e.3))
                .collect()
        };
        let heard = at(0, true, None);
        assert!(sound_alarms(&heard).is_empty());
        assert_eq!(heard.channels[0].input.sound_missing_s, None);
        let lost = at(250, true, Some(1.5));
        let alarms = sound_alarms(&lost);
        assert_eq!(alarms.len(), 1, "{alarms:?}");
        assert_eq!(alarms[0].severity, AlarmSeverity::Warning);
        assert!(
            alarms[0].message.contains("for 2 s: sending silence"),
            "{}",
            alarms[0].message
        );
        assert_eq!(lost.channels[0].input.sound_missing_s, Some(1.5));
        assert_eq!(
            events(&heard, &lost),
            ["Warning main: input sound lost: sending silence"]
        );
        let back = at(500, true, None);
        assert!(sound_alarms(&back).is_empty());
        assert_eq!(events(&lost, &back), ["Info main: input sound restored"]);
        // Everything lost: the signal's alarm and event, nothing about sound.
        let lost_again = at(750, true, Some(1.0));
        let no_signal = at(1000, false, None);
        assert!(sound_alarms(&no_signal).is_empty());
        assert!(events(&lost_again, &no_signal).is_empty());
    }

    /// TS that stops reaching an output while the input has signal raises a critical alarm
    /// after 3 s, and clears once TS flows again; an input without signal is the input's
    /// alarm, not the output's; a restart counts afresh.
    #[test]
    fn an_output_without_ts_for_3_s_is_alarmed() {
        let mut sampler = Sampler::default();
        let t0 = Instant::now();
        let mut at = |ms: u64, handed: u64, signal: bool| {
            sampler.sample_at(
                t0 + Duration::from_millis(ms),
                with_output(handed, signal),
                None,
                Duration::ZERO,
            )
        };
        let no_ts = |s: &ApplianceStatus| {
            s.alarms
                .iter()
                .filter(|a| a.source == "output/srt-out" && a.message.contains("no TS"))
                .count()
        };
        // Flowing: a quarter-second sample each time, new bytes each time.
        for i in 0..8u64 {
            let s = at(i * 250, 1000 * (i + 1), true);
            assert!(s.channels[0].outputs[0].ts_idle_s < 0.01);
            assert_eq!(no_ts(&s), 0);
        }
        // Stalled at 8000 bytes from 1.75 s on: idle grows, the alarm comes at 3 s.
        let s = at(4500, 8000, true);
        assert!((s.channels[0].outputs[0].ts_idle_s - 2.75).abs() < 0.01);
        assert_eq!(no_ts(&s), 0);
        let s = at(4750, 8000, true);
        assert_eq!(no_ts(&s), 1, "{:?}", s.alarms);
        assert_eq!(s.alarms[0].severity, AlarmSeverity::Critical);
        // The input without signal: its own alarm, not this one.
        let s = at(5000, 8000, false);
        assert_eq!(no_ts(&s), 0, "{:?}", s.alarms);
        assert!(s.alarms.iter().any(|a| a.source == "input"));
        // TS again: clear at once.
        let s = at(5250, 9000, true);
        assert_eq!(s.channels[0].outputs[0].ts_idle_s, 0.0);
        assert_eq!(no_ts(&s), 0);
        // The channel stops and starts again: counted from the new start, not the old bytes.
        let mut stopped = with_output(9000, true);
        stopped[0].media = None;
        sampler.sample_at(
            t0 + Duration::from_millis(5500),
            stopped,
            None,
            Duration::ZERO,
        );
        let s = sampler.sample_at(
            t0 + Duration::from_millis(9000),
            with_output(0, true),
            None,
            Duration::ZERO,
        );
        assert_eq!(s.channels[0].outputs[0].ts_idle_s, 0.0);
    }
}
