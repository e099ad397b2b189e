//! Prometheus exposition (via `prometheus-client`) on its own listener. A registry is filled
//! from the latest status snapshot on each scrape, so every series in the live status has a
//! metric and nothing is double-bookkept. Counters come from the media side's own counters.

use crate::status::ApplianceStatus;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;

type FloatGauge = Gauge<f64, AtomicU64>;
type FloatCounter = Counter<f64, AtomicU64>;

/// Label name/value pairs, in the order they are exposed.
type Labels = Vec<(&'static str, String)>;

const CHANNEL_STATES: &[&str] = &["starting", "running", "restarting", "finished", "stopped"];
const SRT_LINK_STATES: &[&str] = &["connecting", "active", "silent", "standby", "down"];
const OUTPUT_STATES: &[&str] = &[
    "connecting",
    "connected",
    "reconnecting",
    "failed",
    "stopped",
];

/// Registers a family, fills it, and hands it to the registry.
fn family<L, M>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    fill: impl FnOnce(&Family<L, M>),
) where
    L: Clone + std::hash::Hash + Eq + EncodeLabelSet + std::fmt::Debug + Send + Sync + 'static,
    M: prometheus_client::metrics::TypedMetric
        + prometheus_client::encoding::EncodeMetric
        + Default
        + Send
        + Sync
        + std::fmt::Debug
        + 'static,
{
    let f = Family::<L, M>::default();
    fill(&f);
    match unit {
        Some(u) => registry.register_with_unit(name, help, u, f),
        None => registry.register(name, help, f),
    }
}

/// The exposition formats a scraper can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// What `prometheus-client` writes and Prometheus asks for first.
    OpenMetrics,
    /// The classic text format 0.0.4, for scrapers and tools (promtool, curl) that do not
    /// send `Accept: application/openmetrics-text`.
    Text,
}

impl Format {
    pub fn from_accept(accept: Option<&str>) -> Format {
        if accept.is_some_and(|a| a.contains("application/openmetrics-text")) {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// OpenMetrics → text 0.0.4. The samples are identical; only the metadata differs: a counter's
/// HELP/TYPE name its `_total` sample, and `# UNIT`/`# EOF` do not exist in the older format.
fn to_text_format(openmetrics: &str) -> String {
    let mut counters = std::collections::HashSet::new();
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            if let Some(name) = rest.strip_suffix(" counter") {
                counters.insert(name.to_string());
            }
        }
    }
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find(|p| line.starts_with(p));
        match meta {
            Some(prefix) => {
                let rest = &line[prefix.len()..];
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                if counters.contains(name) {
                    out.push_str(&format!("{prefix}{name}_total {tail}\n"));
                } else {
                    out.push_str(line);
                    out.push('\n');
                }
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

pub fn render(status: &ApplianceStatus, uptime_s: f64, format: Format) -> String {
    let text = render_openmetrics(status, uptime_s);
    match format {
        Format::OpenMetrics => text,
        Format::Text => to_text_format(&text),
    }
}

/// A metric of every labelled item: name, help, unit, how to read it.
type Row<'a, T, V> = (&'a str, &'a str, Option<Unit>, fn(&T) -> V);

/// One counter family per row, one sample per item.
fn counters<T>(reg: &mut Registry, items: &[(Labels, &T)], rows: &[Row<T, u64>]) {
    for (name, help, unit, read) in rows {
        family(
            reg,
            name,
            help,
            unit.clone(),
            |f: &Family<Labels, Counter>| {
                for (labels, item) in items {
                    f.get_or_create(labels).inc_by(read(item));
                }
            },
        );
    }
}

/// One gauge family per row, one sample per item.
fn gauges<T>(reg: &mut Registry, items: &[(Labels, &T)], rows: &[Row<T, f64>]) {
    for (name, help, unit, read) in rows {
        family(
            reg,
            name,
            help,
            unit.clone(),
            |f: &Family<Labels, FloatGauge>| {
                for (labels, item) in items {
                    f.get_or_create(labels).set(read(item));
                }
            },
        );
    }
}

/// `1` for the current state, `0` for the others, so a dashboard can graph any state.
fn state_set(
    reg: &mut Registry,
    name: &str,
    help: &str,
    items: &[(Labels, &str)],
    states: &[&str],
) {
    family(reg, name, help, None, |f: &Family<Labels, Gauge>| {
        for (labels, current) in items {
            for s in states {
                let mut key = labels.clone();
                key.push(("state", (*s).to_string()));
                f.get_or_create(&key).set(i64::from(current == s));
            }
        }
    });
}

/// A gauge in seconds of a figure the status keeps in milliseconds, for the items that have it
/// now (no series while it is unknown, rather than a made-up 0).
fn seconds_from_ms<T>(
    reg: &mut Registry,
    items: &[(Labels, &T)],
    name: &str,
    help: &str,
    ms: impl Fn(&T) -> Option<f64>,
) {
    let known: Vec<(Labels, f64)> = items
        .iter()
        .filter_map(|(l, item)| Some((l.clone(), ms(item)? / 1000.0)))
        .collect();
    let known: Vec<(Labels, &f64)> = known.iter().map(|(l, s)| (l.clone(), s)).collect();
    gauges(reg, &known, &[(name, help, Some(Unit::Seconds), |s| *s)]);
}

/// One labelled item per element of each channel's `items`: labels `channel` and `label`, the
/// latter's value from `value(index, item)`.
fn per_channel<'a, T>(
    status: &'a ApplianceStatus,
    label: &'static str,
    items: impl Fn(&'a crate::status::ChannelLive) -> &'a [T],
    value: impl Fn(usize, &T) -> String,
) -> Vec<(Labels, &'a T)> {
    let mut labelled = Vec::new();
    for c in &status.channels {
        for (i, item) in items(c).iter().enumerate() {
            labelled.push((
                vec![("channel", c.name.clone()), (label, value(i, item))],
                item,
            ));
        }
    }
    labelled
}

fn render_openmetrics(status: &ApplianceStatus, uptime_s: f64) -> String {
    use crate::status::{
        AudioLevelLive, ChannelLive, FailoverInputLive, FailoverLive, LadderBacklogLive,
        OutputLive, RenditionLive, RistLive, SrtLive,
    };
    let mut root = Registry::default();
    process_metrics(&mut root);
    let reg = root.sub_registry_with_prefix("feedline");
    // A gauge named `_info` rather than OpenMetrics' info type: Prometheus' text parser (and
    // promtool) accept it, and it is the long-standing convention for build information.
    let build = [(
        vec![("version", env!("CARGO_PKG_VERSION").to_string())],
        &(),
    )];
    gauges(
        reg,
        &build,
        &[("build_info", "Feedline build; always 1", None, |_| 1.0)],
    );
    for (name, help, unit, value) in [
        (
            "uptime",
            "Time since the process started",
            Some(Unit::Seconds),
            uptime_s,
        ),
        (
            "safe_mode",
            "1 when the store cannot be used and no channel runs",
            None,
            f64::from(u8::from(status.safe_mode.is_some())),
        ),
        (
            "alarms_active",
            "Alarms active now",
            None,
            status.alarms.len() as f64,
        ),
    ] {
        let gauge = FloatGauge::default();
        gauge.set(value);
        match unit {
            Some(u) => reg.register_with_unit(name, help, u, gauge),
            None => reg.register(name, help, gauge),
        }
    }

    let channels: Vec<(Labels, &ChannelLive)> = status
        .channels
        .iter()
        .map(|c| (vec![("channel", c.name.clone())], c))
        .collect();
    let states: Vec<(Labels, &str)> = channels
        .iter()
        .map(|(l, c)| (l.clone(), c.state.as_str()))
        .collect();
    state_set(
        reg,
        "channel_state",
        "1 for the channel's current state",
        &states,
        CHANNEL_STATES,
    );
    gauges(
        reg,
        &channels,
        &[
            (
                "channel_enabled",
                "1 when the operator wants the channel running",
                None,
                |c| f64::from(u8::from(c.enabled)),
            ),
            (
                "input_signal",
                "1 while the input delivers pictures",
                None,
                |c| f64::from(u8::from(c.input.signal)),
            ),
            (
                "input_sound_missing_seconds",
                "How long the input's own sound has been missing while its pictures arrive (silence goes out instead); 0 while it arrives",
                None,
                |c| c.input.sound_missing_s.unwrap_or(0.0),
            ),
        ],
    );
    counters(
        reg,
        &channels,
        &[
            (
                "channel_restarts",
                "Pipeline rebuilds after a failure",
                None,
                |c| c.restarts,
            ),
            (
                "input_frames",
                "Pictures received from the input",
                None,
                |c| c.input.frames,
            ),
        ],
    );
    let backlogs: Vec<(Labels, &LadderBacklogLive)> = channels
        .iter()
        .filter_map(|(l, c)| c.ladder_backlog.as_ref().map(|b| (l.clone(), b)))
        .collect();
    gauges(
        reg,
        &backlogs,
        &[
            (
                "ladder_backlog_frames",
                "Programme frames waiting in front of the ladder (full: it cannot keep up)",
                None,
                |b| f64::from(b.frames),
            ),
            (
                "ladder_backlog_full",
                "How long the ladder's backlog has been full, 0 while it is not (2 s: the ladder alarm)",
                Some(Unit::Seconds),
                |b| b.full_for_s.unwrap_or(0.0),
            ),
            (
                "ladder_backlog_filling",
                "How long the ladder's backlog has been at least half full since the channel's start settled, 0 while it is not (1 s: the ladder alarm)",
                Some(Unit::Seconds),
                |b| b.filling_for_s.unwrap_or(0.0),
            ),
        ],
    );

    let audio: Vec<(Labels, &AudioLevelLive)> = per_channel(
        status,
        "audio_channel",
        |c| &c.input.audio_levels,
        |i, _| (i + 1).to_string(),
    );
    gauges(
        reg,
        &audio,
        &[
            (
                "input_audio_peak_dbfs",
                "Programme audio peak over the last 250 ms, dBFS (-100 is silence)",
                None,
                |l| l.peak_dbfs,
            ),
            (
                "input_audio_rms_dbfs",
                "Programme audio RMS over the last 250 ms, dBFS (-100 is silence)",
                None,
                |l| l.rms_dbfs,
            ),
        ],
    );

    let failover_inputs: Vec<(Labels, &FailoverInputLive)> = per_channel(
        status,
        "input",
        |c| {
            c.input
                .failover
                .as_ref()
                .map(|f| f.inputs.as_slice())
                .unwrap_or(&[])
        },
        |_, i| i.role.clone(),
    );
    gauges(
        reg,
        &failover_inputs,
        &[
            (
                "input_confidence",
                "Media-quality confidence of each input of a failover channel, 0-100 (loss, black, frozen, silence)",
                None,
                |i| f64::from(i.confidence),
            ),
            (
                "input_playout_delay",
                "How long a failover channel input's pictures wait for air on average (its jitter buffer), last 2 s",
                Some(Unit::Seconds),
                |i| f64::from(i.playout_delay_ms) / 1000.0,
            ),
        ],
    );
    counters(
        reg,
        &failover_inputs,
        &[(
            "input_reopens",
            "Times a failover channel's input was re-opened after failing",
            None,
            |i| i.reopens,
        )],
    );
    let switches: Vec<(Labels, &FailoverLive)> = status
        .channels
        .iter()
        .filter_map(|c| {
            c.input
                .failover
                .as_ref()
                .map(|f| (vec![("channel", c.name.clone())], f))
        })
        .collect();
    counters(
        reg,
        &switches,
        &[(
            "input_switches",
            "Failover switches (primary, backup, slate) since the process started",
            None,
            |f| f.switches.last().map(|s| s.seq).unwrap_or(0),
        )],
    );
    let on_air: Vec<(Labels, &str)> = switches
        .iter()
        .map(|(labels, f)| (labels.clone(), f.active.as_str()))
        .collect();
    state_set(
        reg,
        "input_on_air",
        "Which source a failover channel has on air: 1 for the current one",
        &on_air,
        &["primary", "backup", "slate"],
    );

    let rungs: Vec<(Labels, &RenditionLive)> = per_channel(
        status,
        "rendition",
        |c| &c.renditions,
        |_, r| r.name.clone(),
    );
    counters(
        reg,
        &rungs,
        &[
            ("rendition_frames", "Frames encoded", None, |r| r.frames),
            (
                "rendition_dropped_frames",
                "Frames missing from the rendition's timestamps",
                None,
                |r| r.dropped_frames,
            ),
            (
                "rendition_encoded",
                "Encoded video",
                Some(Unit::Bytes),
                |r| r.bytes,
            ),
        ],
    );
    gauges(
        reg,
        &rungs,
        &[
            (
                "rendition_frame_rate",
                "Encoded frames per second, last interval",
                None,
                |r| r.fps,
            ),
            (
                "rendition_encoded_rate_bytes_per_second",
                "Encoded video rate, last interval (x8 for bit/s)",
                None,
                |r| r.bitrate_bps / 8.0,
            ),
        ],
    );
    seconds_from_ms(
        reg,
        &rungs,
        "rendition_encode_latency",
        "Mean time a picture spent in the rendition's encoder, last interval",
        |r| r.encode_latency_ms,
    );

    let outputs: Vec<(Labels, &OutputLive)> =
        per_channel(status, "output", |c| &c.outputs, |_, o| o.name.clone());
    let states: Vec<(Labels, &str)> = outputs
        .iter()
        .map(|(l, o)| (l.clone(), o.state.as_str()))
        .collect();
    state_set(
        reg,
        "output_state",
        "1 for the output's current state",
        &states,
        OUTPUT_STATES,
    );
    counters(
        reg,
        &outputs,
        &[
            (
                "output_connection_attempts",
                "Transport (re)connection attempts",
                None,
                |o| o.connection_attempts,
            ),
            (
                "output_sent",
                "TS handed to the transport",
                Some(Unit::Bytes),
                |o| o.bytes_out,
            ),
            (
                "output_dropped",
                "TS dropped because the receiver was absent or slow",
                Some(Unit::Bytes),
                |o| o.bytes_dropped,
            ),
        ],
    );
    gauges(
        reg,
        &outputs,
        &[
            (
                "output_buffer",
                "TS waiting in the output's buffer",
                Some(Unit::Bytes),
                |o| o.buffer_bytes as f64,
            ),
            (
                "output_send_rate_bytes_per_second",
                "TS rate handed to the transport, last interval (x8 for bit/s)",
                None,
                |o| o.send_rate_bps / 8.0,
            ),
            (
                "output_ts_idle",
                "Time since the channel's muxer last handed this output TS",
                Some(Unit::Seconds),
                |o| o.ts_idle_s,
            ),
        ],
    );

    // A plain SRT output is link 0; an SRT group output has one series per member link,
    // numbered in the order configured, with the receiver address it reaches as a label.
    let mut links: Vec<(Labels, &SrtLive)> = Vec::new();
    let mut link_states: Vec<(Labels, &str)> = Vec::new();
    for (l, o) in &outputs {
        if let Some(srt) = &o.srt {
            let mut labels = l.clone();
            labels.push(("link", "0".into()));
            links.push((labels, srt));
        }
        for (i, link) in o.links.iter().enumerate() {
            let mut labels = l.clone();
            labels.push(("link", i.to_string()));
            labels.push(("address", link.address.clone()));
            links.push((labels.clone(), &link.srt));
            link_states.push((labels, link.state.as_str()));
        }
    }
    state_set(
        reg,
        "srt_link_state",
        "1 for an SRT group link's current state",
        &link_states,
        SRT_LINK_STATES,
    );
    gauges(
        reg,
        &links,
        &[
            ("srt_rtt", "SRT round-trip time", Some(Unit::Seconds), |s| {
                s.rtt_ms / 1000.0
            }),
            (
                "srt_send_rate_bytes_per_second",
                "SRT send rate reported by libsrt (x8 for bit/s)",
                None,
                |s| s.send_rate_mbps * 1e6 / 8.0,
            ),
            (
                "srt_latency",
                "Negotiated SRT latency",
                Some(Unit::Seconds),
                |s| s.negotiated_latency_ms as f64 / 1000.0,
            ),
        ],
    );
    counters(
        reg,
        &links,
        &[
            ("srt_packets_sent", "SRT packets sent", None, |s| {
                s.packets_sent
            }),
            (
                "srt_packets_lost",
                "SRT packets reported lost by the receiver",
                None,
                |s| s.packets_lost,
            ),
            (
                "srt_packets_retransmitted",
                "SRT packets retransmitted",
                None,
                |s| s.packets_retransmitted,
            ),
            (
                "srt_packets_dropped",
                "SRT packets dropped as too late to send",
                None,
                |s| s.packets_dropped,
            ),
        ],
    );

    seconds_from_ms(
        reg,
        &outputs,
        "output_delay_from_capture",
        "How long after its capture the latest TS reached the output's transport",
        |o| o.delay_from_capture_ms,
    );

    let rist_outputs: Vec<(Labels, &RistLive)> = outputs
        .iter()
        .filter_map(|(l, o)| o.rist.as_ref().map(|r| (l.clone(), r)))
        .collect();
    seconds_from_ms(
        reg,
        &outputs,
        "rist_rtt",
        "RIST round-trip time from the receiver's RTCP receiver reports",
        |o| o.rist.as_ref()?.rtt_ms,
    );
    counters(
        reg,
        &rist_outputs,
        &[
            (
                "rist_packets_sent",
                "RIST original packets sent",
                None,
                |r| r.packets_sent,
            ),
            (
                "rist_packets_retransmitted",
                "RIST packets retransmitted on the receiver's NACKs",
                None,
                |r| r.packets_retransmitted,
            ),
        ],
    );

    let mut text = String::new();
    if encode(&mut text, &root).is_err() {
        return String::from("# encoding failed\n");
    }
    text
}

/// The standard `process_*` metrics, read from /proc (Linux).
fn process_metrics(reg: &mut Registry) {
    const TICKS_PER_SECOND: f64 = 100.0;
    const PAGE_BYTES: i64 = 4096;
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // Fields after the parenthesised command name, which may itself contain spaces.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Indexes relative to field 3 (state): utime=14, stime=15, threads=20, starttime=22,
    // vsize=23, rss=24 in proc(5)'s 1-based numbering.
    let cpu = FloatCounter::default();
    cpu.inc_by((num(11) + num(12)) / TICKS_PER_SECOND);
    reg.register_with_unit(
        "process_cpu",
        "User and system CPU time",
        Unit::Seconds,
        cpu,
    );
    let threads = Gauge::<i64>::default();
    threads.set(num(17) as i64);
    reg.register("process_threads", "OS threads", threads);
    let vsize = Gauge::<i64>::default();
    vsize.set(num(20) as i64);
    reg.register_with_unit(
        "process_virtual_memory",
        "Virtual memory size",
        Unit::Bytes,
        vsize,
    );
    let rss = Gauge::<i64>::default();
    rss.set(num(21) as i64 * PAGE_BYTES);
    reg.register_with_unit(
        "process_resident_memory",
        "Resident memory size",
        Unit::Bytes,
        rss,
    );
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("btime ")
                    .and_then(|v| v.trim().parse::<f64>().ok())
            })
        })
        .unwrap_or(0.0);
    let start = FloatGauge::default();
    start.set(boot + num(19) / TICKS_PER_SECOND);
    reg.register_with_unit(
        "process_start_time",
        "Start time of the process since the Unix epoch",
        Unit::Seconds,
        start,
    );
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        let fds = Gauge::<i64>::default();
        fds.set(dir.count() as i64);
        reg.register("process_open_fds", "Open file descriptors", fds);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_format_names_counters_by_their_total_sample() {
        let om = "# HELP a_bytes Sent.\n# TYPE a_bytes counter\n# UNIT a_bytes bytes\na_bytes_total 5\n# HELP g Gauge.\n# TYPE g gauge\ng 1\n# EOF\n";
        assert_eq!(
            super::to_text_format(om),
            "# HELP a_bytes_total Sent.\n# TYPE a_bytes_total counter\na_bytes_total 5\n# HELP g Gauge.\n# TYPE g gauge\ng 1\n"
        );
    }
}
