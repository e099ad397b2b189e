//! The rules a config must satisfy before anything is started or persisted.
//! Every error names the field path so the operator can find it.

use crate::{
    Audio, Channel, Codec, Config, FrameRate, Input, Latency, Output, OutputTransport, Profile,
    Rendition, SrtMode,
};
use std::collections::HashMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// All violations found, in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

pub const MAX_RENDITIONS: usize = 8;
pub const BITRATE_KBPS: (u32, u32) = (100, 100_000);
pub const WIDTH: (u32, u32) = (16, 7680);
pub const HEIGHT: (u32, u32) = (16, 4320);
pub const SRT_LATENCY_MS: (u32, u32) = (20, 10_000);
/// RIST retransmission buffer: librist accepts 50 ms to 30 s.
pub const RIST_BUFFER_MS: (u32, u32) = (50, 30_000);
/// Further paths of one bonded RIST output (the output's own address is the first).
pub const RIST_BONDING_PATHS: usize = 3;
pub const PASSPHRASE_CHARS: (usize, usize) = (10, 79);
/// Member links of one SRT group.
pub const SRT_GROUP_LINKS: (usize, usize) = (2, 8);

struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            path: path.into(),
            message: message.into(),
        });
    }

    fn range<T: PartialOrd + fmt::Display>(&mut self, path: String, v: T, (lo, hi): (T, T)) {
        if v < lo || v > hi {
            self.push(path, format!("must be between {lo} and {hi}"));
        }
    }
}

pub const METRICS_TOKEN_CHARS: (usize, usize) = (16, 256);

fn check_server(errors: &mut Errors, server: &crate::Server) {
    if server.bind.parse::<std::net::IpAddr>().is_err() {
        errors.push(
            "server.bind",
            "must be an IP address (0.0.0.0 for every interface)",
        );
    }
    let ports = [
        ("server.http_port", server.http_port),
        ("server.https_port", server.https_port),
        ("server.metrics.port", server.metrics.port),
    ];
    for (i, (path, port)) in ports.iter().enumerate() {
        if *port == 0 {
            errors.push(*path, "must be between 1 and 65535");
        } else if let Some((other, _)) = ports[..i].iter().find(|(_, p)| p == port) {
            errors.push(*path, format!("port {port} is already used by {other}"));
        }
    }
    if let Some(token) = &server.metrics.bearer_token {
        let n = token.expose().chars().count();
        if n < METRICS_TOKEN_CHARS.0 || n > METRICS_TOKEN_CHARS.1 {
            errors.push(
                "server.metrics.bearer_token",
                format!(
                    "must be {} to {} characters",
                    METRICS_TOKEN_CHARS.0, METRICS_TOKEN_CHARS.1
                ),
            );
        }
    }
}

pub(crate) fn validate(config: &Config) -> Result<(), ValidationErrors> {
    let mut errors = Errors(Vec::new());
    check_server(&mut errors, &config.server);
    let mut channel_names: HashMap<&str, usize> = HashMap::new();
    // Every local UDP port bound by any channel: port → (channel, owner description).
    let mut bound_ports: HashMap<u16, String> = HashMap::new();

    for (ci, channel) in config.channels.iter().enumerate() {
        let at = format!("channels[{ci}]");
        check_name(&mut errors, format!("{at}.name"), &channel.name);
        if channel_names.insert(&channel.name, ci).is_some() {
            errors.push(
                format!("{at}.name"),
                format!("duplicate channel name {:?}", channel.name),
            );
        }
        let owner = format!("the input of channel {:?}", channel.name);
        check_input(
            &mut errors,
            &format!("{at}.input"),
            &channel.input,
            &owner,
            &mut bound_ports,
        );
        if let Some(failover) = &channel.failover {
            check_failover(
                &mut errors,
                &format!("{at}.failover"),
                channel,
                failover,
                &mut bound_ports,
            );
        }
        check_ladder(&mut errors, &at, channel);
        check_audio(&mut errors, &at, &channel.audio);
        check_outputs(&mut errors, &at, channel, &mut bound_ports);
    }

    if errors.0.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errors.0))
    }
}

fn check_name(errors: &mut Errors, path: String, name: &str) {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        errors.push(
            path,
            "must be 1 to 32 characters of A-Z, a-z, 0-9, '-' or '_'",
        );
    }
}

fn check_address(errors: &mut Errors, path: String, address: &str) {
    let ok = !address.is_empty()
        && address.len() <= 253
        && address
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
    if !ok {
        errors.push(path, "must be an IP address or a host name");
    }
}

/// An address we send to: a host or IP address, and not "any".
fn check_receiver_address(errors: &mut Errors, path: String, address: &str) {
    check_address(errors, path.clone(), address);
    if address == "0.0.0.0" || address == "::" {
        errors.push(path, "needs the receiver's address");
    }
}

fn check_port(errors: &mut Errors, path: String, port: u16) {
    if port == 0 {
        errors.push(path, "must be between 1 and 65535");
    }
}

fn claim_port(
    errors: &mut Errors,
    bound_ports: &mut HashMap<u16, String>,
    path: String,
    port: u16,
    owner: String,
) {
    if port == 0 {
        return;
    }
    if let Some(previous) = bound_ports.get(&port) {
        errors.push(path, format!("port {port} is already used by {previous}"));
    } else {
        bound_ports.insert(port, owner);
    }
}

fn check_passphrase(errors: &mut Errors, path: String, passphrase: Option<&crate::Secret>) {
    if let Some(p) = passphrase {
        let n = p.expose().chars().count();
        if n < PASSPHRASE_CHARS.0 || n > PASSPHRASE_CHARS.1 {
            errors.push(path, "must be 10 to 79 characters");
        }
    }
}

fn check_frame_rate(errors: &mut Errors, path: String, rate: FrameRate) {
    let fps = rate.as_f64();
    if rate.num == 0 || !(1.0..=120.0).contains(&fps) {
        errors.push(path, "must be between 1 and 120 frames per second");
    }
}

fn check_size(errors: &mut Errors, at: &str, width: u32, height: u32) {
    errors.range(format!("{at}.width"), width, WIDTH);
    errors.range(format!("{at}.height"), height, HEIGHT);
    // 4:2:0 chroma needs even dimensions.
    if !width.is_multiple_of(2) {
        errors.push(format!("{at}.width"), "must be even");
    }
    if !height.is_multiple_of(2) {
        errors.push(format!("{at}.height"), "must be even");
    }
}

fn check_failover(
    errors: &mut Errors,
    at: &str,
    channel: &Channel,
    failover: &crate::Failover,
    bound_ports: &mut HashMap<u16, String>,
) {
    use crate::failover::{DETECT_MS, NO_DATA_MS, REVERT_AFTER_S};
    if matches!(channel.input, Input::File { .. }) {
        errors.push(
            at.to_string(),
            "failover needs a live primary input (test_pattern, srt, udp, v4l2 or decklink), not a file",
        );
    }
    if let Some(backup) = &failover.backup {
        let bat = format!("{at}.backup");
        // A backup file (a holding loop) goes to air as a live input would: in real time.
        if matches!(
            backup,
            Input::File {
                live_pace: false,
                ..
            }
        ) {
            errors.push(
                format!("{bat}.live_pace"),
                "must be true: a backup input plays in real time",
            );
        }
        let owner = format!("the backup input of channel {:?}", channel.name);
        check_input(errors, &bat, backup, &owner, bound_ports);
    }
    if let crate::Slate::Image { path } = &failover.slate {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        if !matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg")) {
            errors.push(
                format!("{at}.slate.path"),
                "must be a .png, .jpg or .jpeg image",
            );
        }
    }
    errors.range(format!("{at}.no_data_ms"), failover.no_data_ms, NO_DATA_MS);
    errors.range(format!("{at}.black_ms"), failover.black_ms, DETECT_MS);
    errors.range(format!("{at}.frozen_ms"), failover.frozen_ms, DETECT_MS);
    errors.range(format!("{at}.silence_ms"), failover.silence_ms, DETECT_MS);
    errors.range(
        format!("{at}.revert_after_s"),
        failover.revert_after_s,
        REVERT_AFTER_S,
    );
}

fn check_input(
    errors: &mut Errors,
    at: &str,
    input: &Input,
    owner: &str,
    bound_ports: &mut HashMap<u16, String>,
) {
    match input {
        Input::TestPattern {
            width,
            height,
            frame_rate,
            tone_hz,
        } => {
            check_size(errors, at, *width, *height);
            check_frame_rate(errors, format!("{at}.frame_rate"), *frame_rate);
            errors.range(format!("{at}.tone_hz"), *tone_hz, (20, 20_000));
        }
        Input::File { path, .. } => {
            if path.as_os_str().is_empty() {
                errors.push(format!("{at}.path"), "must not be empty");
            }
        }
        Input::Srt {
            mode,
            address,
            port,
            latency_ms,
            passphrase,
            stream_id,
        } => {
            check_address(errors, format!("{at}.address"), address);
            check_port(errors, format!("{at}.port"), *port);
            errors.range(format!("{at}.latency_ms"), *latency_ms, SRT_LATENCY_MS);
            check_passphrase(errors, format!("{at}.passphrase"), passphrase.as_ref());
            check_stream_id(errors, format!("{at}.stream_id"), stream_id.as_deref());
            if *mode == crate::SrtInputMode::Listener {
                claim_port(
                    errors,
                    bound_ports,
                    format!("{at}.port"),
                    *port,
                    owner.to_string(),
                );
            }
        }
        Input::Udp { address, port, .. } => {
            check_address(errors, format!("{at}.address"), address);
            check_port(errors, format!("{at}.port"), *port);
            claim_port(
                errors,
                bound_ports,
                format!("{at}.port"),
                *port,
                owner.to_string(),
            );
        }
        Input::V4l2 {
            device,
            width,
            height,
            frame_rate,
            ..
        } => {
            if device.as_os_str().is_empty() {
                errors.push(format!("{at}.device"), "must not be empty");
            }
            match (width, height, frame_rate) {
                (Some(w), Some(h), Some(rate)) => {
                    check_size(errors, at, *w, *h);
                    check_frame_rate(errors, format!("{at}.frame_rate"), *rate);
                }
                (None, None, None) => {}
                _ => errors.push(
                    format!("{at}.width"),
                    "give width, height and frame_rate together, or none of them to follow the signal",
                ),
            }
        }
        Input::Decklink {
            mode,
            audio_channels,
            ..
        } => {
            if crate::input::decklink_mode_is_known(mode).is_none() {
                errors.push(
                    format!("{at}.mode"),
                    format!(
                        "unknown DeckLink mode {mode:?} (examples: 1080p30, 1080i5994, 720p60)"
                    ),
                );
            }
            if ![2, 8, 16].contains(audio_channels) {
                errors.push(format!("{at}.audio_channels"), "must be 2, 8 or 16");
            }
        }
    }
}

fn check_stream_id(errors: &mut Errors, path: String, stream_id: Option<&str>) {
    if let Some(id) = stream_id {
        // libsrt's SRTO_STREAMID limit.
        if id.len() > 512 {
            errors.push(path, "must be at most 512 bytes");
        }
    }
}

fn check_ladder(errors: &mut Errors, at: &str, channel: &Channel) {
    let ladder = &channel.ladder;
    if ladder.is_empty() {
        errors.push(format!("{at}.ladder"), "at least one rendition is required");
        return;
    }
    if ladder.len() > MAX_RENDITIONS {
        errors.push(
            format!("{at}.ladder"),
            format!("at most {MAX_RENDITIONS} renditions are allowed"),
        );
    }
    let video = &channel.video;
    errors.range(format!("{at}.video.gop_frames"), video.gop_frames, (1, 600));
    errors.range(format!("{at}.video.b_frames"), video.b_frames, (0, 4));
    if video.b_frames > 0 && video.latency == Latency::Low {
        errors.push(
            format!("{at}.video.b_frames"),
            "must be 0 when latency is \"low\"",
        );
    }

    let top = channel.channel_frame_rate();
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (ri, rung) in ladder.iter().enumerate() {
        let rat = format!("{at}.ladder[{ri}]");
        check_rendition(errors, &rat, rung);
        if names.insert(&rung.name, ri).is_some() {
            errors.push(
                format!("{rat}.name"),
                format!("duplicate rendition name {:?}", rung.name),
            );
        }
        match rung.frame_rate.divisor_of(&top) {
            None => errors.push(
                format!("{rat}.frame_rate"),
                format!(
                    "{} fps must equal the ladder's highest rate ({} fps) or divide it by a whole number",
                    rung.frame_rate, top
                ),
            ),
            Some(divisor) if !video.gop_frames.is_multiple_of(divisor) => errors.push(
                format!("{at}.video.gop_frames"),
                format!(
                    "{} frames at {} fps is not a whole number of frames at {} fps (rendition {:?}), so IDRs could not align",
                    video.gop_frames, top, rung.frame_rate, rung.name
                ),
            ),
            Some(_) => {}
        }
        if rung.effective_profile() == Profile::Baseline && video.b_frames > 0 {
            errors.push(
                format!("{at}.video.b_frames"),
                format!(
                    "must be 0 because rendition {:?} uses the baseline profile",
                    rung.name
                ),
            );
        }
    }
}

fn check_rendition(errors: &mut Errors, rat: &str, rung: &Rendition) {
    check_name(errors, format!("{rat}.name"), &rung.name);
    check_size(errors, rat, rung.width, rung.height);
    check_frame_rate(errors, format!("{rat}.frame_rate"), rung.frame_rate);
    errors.range(
        format!("{rat}.bitrate_kbps"),
        rung.bitrate_kbps,
        BITRATE_KBPS,
    );
    if let Some(profile) = rung.profile {
        let allowed = match rung.codec {
            Codec::H264 => true,
            Codec::Hevc => profile == Profile::Main,
        };
        if !allowed {
            errors.push(
                format!("{rat}.profile"),
                "HEVC supports only the \"main\" profile",
            );
        }
    }
}

fn check_audio(errors: &mut Errors, at: &str, audio: &Audio) {
    errors.range(
        format!("{at}.audio.bitrate_kbps"),
        audio.bitrate_kbps,
        (32, 512),
    );
    if ![44_100, 48_000].contains(&audio.sample_rate) {
        errors.push(format!("{at}.audio.sample_rate"), "must be 44100 or 48000");
    }
    if ![1, 2].contains(&audio.channels) {
        errors.push(format!("{at}.audio.channels"), "must be 1 or 2");
    }
}

fn check_outputs(
    errors: &mut Errors,
    at: &str,
    channel: &Channel,
    bound_ports: &mut HashMap<u16, String>,
) {
    if channel.outputs.is_empty() {
        errors.push(format!("{at}.outputs"), "at least one output is required");
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (oi, output) in channel.outputs.iter().enumerate() {
        let oat = format!("{at}.outputs[{oi}]");
        check_name(errors, format!("{oat}.name"), &output.name);
        if names.insert(&output.name, oi).is_some() {
            errors.push(
                format!("{oat}.name"),
                format!("duplicate output name {:?}", output.name),
            );
        }
        check_output_renditions(errors, &oat, channel, output);
        check_copy_of(errors, &oat, channel, output);
        check_transport(errors, &oat, channel, output, bound_ports);
    }
}

/// A copy names another output of the channel that is itself an original, and carries what it
/// carries.
fn check_copy_of(errors: &mut Errors, oat: &str, channel: &Channel, output: &Output) {
    let Some(original) = &output.copy_of else {
        return;
    };
    let at = format!("{oat}.copy_of");
    match channel.outputs.iter().find(|o| &o.name == original) {
        None => errors.push(at, format!("no output named {original:?} in this channel")),
        Some(o) if o.name == output.name => errors.push(at, "an output cannot be a copy of itself"),
        Some(o) if o.copy_of.is_some() => errors.push(
            at,
            format!("{original:?} is itself a copy; name the output it copies"),
        ),
        Some(_) => {}
    }
    if output.renditions.is_some() {
        errors.push(
            format!("{oat}.renditions"),
            "a copy carries what its original carries; leave renditions out",
        );
    }
}

fn check_output_renditions(errors: &mut Errors, oat: &str, channel: &Channel, output: &Output) {
    let Some(list) = &output.renditions else {
        return;
    };
    if list.is_empty() {
        errors.push(
            format!("{oat}.renditions"),
            "must list at least one rendition (leave it out to carry the whole ladder)",
        );
    }
    for (i, name) in list.iter().enumerate() {
        if !channel.ladder.iter().any(|r| &r.name == name) {
            errors.push(
                format!("{oat}.renditions[{i}]"),
                format!("no rendition named {name:?} in this channel's ladder"),
            );
        } else if list[..i].contains(name) {
            errors.push(
                format!("{oat}.renditions[{i}]"),
                format!("rendition {name:?} is listed twice"),
            );
        }
    }
}

fn check_transport(
    errors: &mut Errors,
    oat: &str,
    channel: &Channel,
    output: &Output,
    bound_ports: &mut HashMap<u16, String>,
) {
    match &output.transport {
        OutputTransport::Srt {
            mode,
            address,
            port,
            latency_ms,
            passphrase,
            stream_id,
            fec,
            ..
        } => {
            check_address(errors, format!("{oat}.address"), address);
            if *mode == SrtMode::Caller && (address == "0.0.0.0" || address == "::") {
                errors.push(
                    format!("{oat}.address"),
                    "caller mode needs the receiver's address",
                );
            }
            check_port(errors, format!("{oat}.port"), *port);
            check_srt_options(
                errors,
                oat,
                *latency_ms,
                passphrase.as_ref(),
                stream_id.as_deref(),
                fec.as_ref(),
            );
        }
        OutputTransport::SrtGroup {
            mode,
            links,
            latency_ms,
            passphrase,
            stream_id,
            fec,
            ..
        } => {
            check_group_links(errors, oat, *mode, links);
            if fec.is_some() {
                errors.push(format!("{oat}.fec"), GROUP_FEC_REFUSED);
            }
            check_srt_options(
                errors,
                oat,
                *latency_ms,
                passphrase.as_ref(),
                stream_id.as_deref(),
                None,
            );
        }
        OutputTransport::Udp {
            address, port, ttl, ..
        } => {
            check_address(errors, format!("{oat}.address"), address);
            check_port(errors, format!("{oat}.port"), *port);
            errors.range(format!("{oat}.ttl"), *ttl, (1, 255));
        }
        OutputTransport::Rist {
            address,
            port,
            buffer_ms,
            bonding,
        } => {
            check_rist_destination(errors, oat, address, *port);
            errors.range(format!("{oat}.buffer_ms"), *buffer_ms, RIST_BUFFER_MS);
            check_rist_bonding(errors, oat, address, *port, bonding);
        }
        OutputTransport::Rtp { address, port, fec } => {
            check_receiver_address(errors, format!("{oat}.address"), address);
            check_port(errors, format!("{oat}.port"), *port);
            if let Some(fec) = fec {
                if *port > u16::MAX - 4 {
                    errors.push(
                        format!("{oat}.port"),
                        "FEC uses the port + 2 and + 4: must be at most 65531",
                    );
                }
                errors.range(format!("{oat}.fec.columns"), fec.columns, (1, 20));
                errors.range(format!("{oat}.fec.rows"), fec.rows, (4, 20));
                if fec.columns * fec.rows > 100 {
                    errors.push(
                        format!("{oat}.fec"),
                        "SMPTE 2022-1 allows at most 100 packets in the matrix (columns × rows)",
                    );
                }
            }
        }
        OutputTransport::File { path } => {
            if path.as_os_str().is_empty() {
                errors.push(format!("{oat}.path"), "must not be empty");
            }
        }
    }
    if let Some(port) = output.transport.bound_port() {
        claim_port(
            errors,
            bound_ports,
            format!("{oat}.port"),
            port,
            format!("output {:?} of channel {:?}", output.name, channel.name),
        );
    }
}

/// A RIST receiver: a real address and an even port (RTCP uses the next one).
fn check_rist_destination(errors: &mut Errors, at: &str, address: &str, port: u16) {
    check_receiver_address(errors, format!("{at}.address"), address);
    check_port(errors, format!("{at}.port"), port);
    if port % 2 == 1 || port == u16::MAX - 1 {
        errors.push(
            format!("{at}.port"),
            "RIST needs an even port (RTCP uses the next one)",
        );
    }
}

/// Up to `RIST_BONDING_PATHS` further paths, each its own destination: a path that repeats
/// another protects nothing.
fn check_rist_bonding(
    errors: &mut Errors,
    oat: &str,
    address: &str,
    port: u16,
    bonding: &[crate::RistPath],
) {
    if bonding.len() > RIST_BONDING_PATHS {
        errors.push(
            format!("{oat}.bonding"),
            format!("at most {RIST_BONDING_PATHS} further paths"),
        );
    }
    for (pi, path) in bonding.iter().enumerate() {
        let at = format!("{oat}.bonding[{pi}]");
        check_rist_destination(errors, &at, &path.address, path.port);
        let repeats_main = path.address == address && path.port == port;
        let earlier = bonding[..pi]
            .iter()
            .position(|p| p.address == path.address && p.port == path.port);
        if repeats_main {
            errors.push(at, "the same address and port as the output itself");
        } else if let Some(first) = earlier {
            errors.push(at, format!("the same address and port as bonding[{first}]"));
        }
    }
}

/// What an SRT output and an SRT group output share: latency, encryption, stream ID and FEC.
/// libsrt (1.5.1, and upstream as of libsrt issue #3294) runs the FEC packet filter per link,
/// while a group's links share one sequence: a link that rejoins mid-stream rebuilt wrong packets
/// that the receiver delivered as TS (measured, see the README). A group already carries every
/// packet twice; FEC belongs on a plain SRT output.
const GROUP_FEC_REFUSED: &str = "not offered on an SRT group: libsrt runs FEC per link, and a link that rejoins mid-stream rebuilds wrong packets; use a broadcast group, or FEC on a type = \"srt\" output";

fn check_srt_options(
    errors: &mut Errors,
    oat: &str,
    latency_ms: u32,
    passphrase: Option<&crate::Secret>,
    stream_id: Option<&str>,
    fec: Option<&crate::SrtFec>,
) {
    if let Some(fec) = fec {
        errors.range(format!("{oat}.fec.columns"), fec.columns, (2, 64));
        errors.range(format!("{oat}.fec.rows"), fec.rows, (1, 64));
    }
    errors.range(format!("{oat}.latency_ms"), latency_ms, SRT_LATENCY_MS);
    check_passphrase(errors, format!("{oat}.passphrase"), passphrase);
    check_stream_id(errors, format!("{oat}.stream_id"), stream_id);
}

/// What Linux takes as an interface name: at most 15 bytes (IFNAMSIZ less the NUL), no `/`
/// or space, not `.` or `..`; kept to the characters interface names use in practice.
fn is_interface_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

/// A group has two to `SRT_GROUP_LINKS.1` distinct links, each a caller to a real address,
/// from a local IP address if one is given.
fn check_group_links(
    errors: &mut Errors,
    oat: &str,
    mode: crate::SrtGroupMode,
    links: &[crate::SrtGroupLink],
) {
    if links.len() < SRT_GROUP_LINKS.0 || links.len() > SRT_GROUP_LINKS.1 {
        errors.push(
            format!("{oat}.links"),
            format!(
                "a group needs {} to {} links (for one link use type = \"srt\")",
                SRT_GROUP_LINKS.0, SRT_GROUP_LINKS.1
            ),
        );
    }
    for (li, link) in links.iter().enumerate() {
        let lat = format!("{oat}.links[{li}]");
        check_receiver_address(errors, format!("{lat}.address"), &link.address);
        check_port(errors, format!("{lat}.port"), link.port);
        if let Some(bind) = &link.bind {
            if bind.parse::<std::net::IpAddr>().is_err() {
                errors.push(
                    format!("{lat}.bind"),
                    "must be a local IP address (the address of this link's interface)",
                );
            }
        }
        if let Some(interface) = &link.interface {
            if !is_interface_name(interface) {
                errors.push(
                    format!("{lat}.interface"),
                    "must be a network interface name (1-15 of A-Z a-z 0-9 _ . : -, e.g. eth1)",
                );
            }
        }
        if link.weight.is_some() && mode == crate::SrtGroupMode::Broadcast {
            errors.push(
                format!("{lat}.weight"),
                "only a backup group ranks its links; a broadcast group sends on all of them",
            );
        }
        let same = |other: &crate::SrtGroupLink| {
            other.address == link.address
                && other.port == link.port
                && other.bind == link.bind
                && other.interface == link.interface
        };
        if let Some(first) = links[..li].iter().position(same) {
            errors.push(
                lat,
                format!("the same address, port, bind and interface as links[{first}]"),
            );
        }
    }
}
