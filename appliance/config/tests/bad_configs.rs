//! Table test: each bad config and the exact error an operator sees.
//!
//! Each case starts from a small valid config (two rungs, two outputs) and changes one thing, so
//! the message pins down exactly that rule.

use feedline_config::parse;

const BASE: &str = r#"
[[channels]]
name = "main"
[channels.input]
type = "test_pattern"
width = 1280
height = 720
frame_rate = 30
[channels.video]
gop_frames = 60
[[channels.ladder]]
name = "720p"
width = 1280
height = 720
frame_rate = 30
bitrate_kbps = 3000
[[channels.ladder]]
name = "360p"
width = 640
height = 360
frame_rate = 30
bitrate_kbps = 800
[[channels.outputs]]
name = "primary"
type = "srt"
mode = "listener"
port = 9000
[[channels.outputs]]
name = "backup"
type = "srt"
mode = "caller"
address = "203.0.113.7"
port = 9001
"#;

fn error_for(edit: impl Fn(&str) -> String) -> String {
    let text = edit(BASE);
    match parse(&text) {
        Ok(_) => panic!("config should have been rejected:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn replace(from: &'static str, to: &'static str) -> impl Fn(&str) -> String {
    move |base: &str| {
        assert!(base.contains(from), "test bug: {from:?} not in base config");
        base.replacen(from, to, 1)
    }
}

/// (what is wrong, how to break the base config, the exact error line expected)
type Case = (&'static str, Box<dyn Fn(&str) -> String>, &'static str);

#[test]
fn base_config_is_valid() {
    parse(BASE).expect("the base of the table must be valid");
}

#[test]
fn a_capture_without_a_format_follows_its_signal() {
    let follow = BASE.replace(
        "type = \"test_pattern\"\nwidth = 1280\nheight = 720\nframe_rate = 30",
        "type = \"v4l2\"\ndevice = \"/dev/video0\"",
    );
    assert!(follow.contains("v4l2"));
    let config = parse(&follow).expect("a V4L2 input may leave its format to the signal");
    let capture = &config.channels[0];
    assert!(capture.failover.is_none());
    // A capture channel without a failover section still follows its signal: loss goes to
    // slate. Only the signal and missing frames judge it; a static or black card picture is
    // programme.
    let implicit = capture
        .effective_failover()
        .expect("a capture input runs with an implicit failover");
    assert_eq!((implicit.black_ms, implicit.frozen_ms), (0, 0));
    assert!(implicit.backup.is_none());

    let pattern = parse(BASE).expect("the base config is valid");
    assert!(
        pattern.channels[0].effective_failover().is_none(),
        "a test pattern cannot lose its signal"
    );
}

#[test]
fn bad_configs_are_rejected_with_their_field_path() {
    let cases: Vec<Case> = vec![
        (
            "bitrate too high",
            Box::new(replace("bitrate_kbps = 800", "bitrate_kbps = 200000")),
            "channels[0].ladder[1].bitrate_kbps: must be between 100 and 100000",
        ),
        (
            "bitrate too low",
            Box::new(replace("bitrate_kbps = 3000", "bitrate_kbps = 50")),
            "channels[0].ladder[0].bitrate_kbps: must be between 100 and 100000",
        ),
        (
            "zero width",
            Box::new(replace("width = 640", "width = 0")),
            "channels[0].ladder[1].width: must be between 16 and 7680",
        ),
        (
            "odd height",
            Box::new(replace("height = 360", "height = 361")),
            "channels[0].ladder[1].height: must be even",
        ),
        (
            "duplicate rendition names",
            Box::new(replace("name = \"360p\"", "name = \"720p\"")),
            "channels[0].ladder[1].name: duplicate rendition name \"720p\"",
        ),
        (
            "duplicate output names",
            Box::new(replace("name = \"backup\"", "name = \"primary\"")),
            "channels[0].outputs[1].name: duplicate output name \"primary\"",
        ),
        (
            "duplicate channel names",
            Box::new(|base: &str| {
                let second = base
                    .replace("port = 9000", "port = 9100")
                    .replace("port = 9001", "port = 9101");
                format!("{base}\n{second}")
            }),
            "channels[1].name: duplicate channel name \"main\"",
        ),
        (
            "two listeners on one port",
            Box::new(replace(
                "mode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "mode = \"listener\"\nport = 9000",
            )),
            "channels[0].outputs[1].port: port 9000 is already used by output \"primary\" of channel \"main\"",
        ),
        (
            "passphrase too short",
            Box::new(replace("port = 9000", "port = 9000\npassphrase = \"short\"")),
            "channels[0].outputs[0].passphrase: must be 10 to 79 characters",
        ),
        (
            "passphrase too long",
            Box::new(|base: &str| {
                base.replacen(
                    "port = 9000",
                    &format!("port = 9000\npassphrase = \"{}\"", "x".repeat(80)),
                    1,
                )
            }),
            "channels[0].outputs[0].passphrase: must be 10 to 79 characters",
        ),
        (
            "output names a rendition that does not exist",
            Box::new(replace("port = 9001", "port = 9001\nrenditions = [\"720p\", \"4k\"]")),
            "channels[0].outputs[1].renditions[1]: no rendition named \"4k\" in this channel's ladder",
        ),
        (
            "RIST on an odd port",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"rist\"\naddress = \"203.0.113.7\"\nport = 9001",
            )),
            "channels[0].outputs[1].port: RIST needs an even port (RTCP uses the next one)",
        ),
        (
            "RIST buffer too small",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"rist\"\naddress = \"203.0.113.7\"\nport = 9002\nbuffer_ms = 10",
            )),
            "channels[0].outputs[1].buffer_ms: must be between 50 and 30000",
        ),
        (
            "bonded RIST path on an odd port",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"rist\"\naddress = \"203.0.113.7\"\nport = 9002\nbonding = [{ address = \"198.51.100.7\", port = 9003 }]",
            )),
            "channels[0].outputs[1].bonding[0].port: RIST needs an even port (RTCP uses the next one)",
        ),
        (
            "bonded RIST path repeating the output's own destination",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"rist\"\naddress = \"203.0.113.7\"\nport = 9002\nbonding = [{ address = \"198.51.100.7\", port = 9002 }, { address = \"203.0.113.7\", port = 9002 }]",
            )),
            "channels[0].outputs[1].bonding[1]: the same address and port as the output itself",
        ),
        (
            "failover hold shorter than two frames",
            Box::new(replace(
                "[channels.video]",
                "[channels.failover]\nno_data_ms = 10\n[channels.video]",
            )),
            "channels[0].failover.no_data_ms: must be between 40 and 10000",
        ),
        (
            "backup input listening on an output's port",
            Box::new(replace(
                "[channels.video]",
                "[channels.failover.backup]\ntype = \"udp\"\nport = 9000\n[channels.video]",
            )),
            "channels[0].outputs[0].port: port 9000 is already used by the backup input of channel \"main\"",
        ),
        (
            "slate image that is not an image",
            Box::new(replace(
                "[channels.video]",
                "[channels.failover.slate]\ntype = \"image\"\npath = \"/srv/slate.txt\"\n[channels.video]",
            )),
            "channels[0].failover.slate.path: must be a .png, .jpg or .jpeg image",
        ),
        (
            "backup file not played in real time",
            Box::new(replace(
                "[channels.video]",
                "[channels.failover.backup]\ntype = \"file\"\npath = \"/srv/loop.ts\"\nlive_pace = false\n[channels.video]",
            )),
            "channels[0].failover.backup.live_pace: must be true: a backup input plays in real time",
        ),
        (
            "RTP-FEC matrix larger than SMPTE 2022-1 allows",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"rtp\"\naddress = \"203.0.113.7\"\nport = 5000\nfec = { columns = 20, rows = 20 }",
            )),
            "channels[0].outputs[1].fec: SMPTE 2022-1 allows at most 100 packets in the matrix (columns × rows)",
        ),
        (
            "RTP-FEC with fewer than 4 rows",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"rtp\"\naddress = \"203.0.113.7\"\nport = 5000\nfec = { columns = 10, rows = 2 }",
            )),
            "channels[0].outputs[1].fec.rows: must be between 4 and 20",
        ),
        (
            "SRT packet-filter FEC with a single column",
            Box::new(replace("port = 9001", "port = 9001\nfec = { columns = 1, rows = 2 }")),
            "channels[0].outputs[1].fec.columns: must be between 2 and 64",
        ),
        (
            "SRT group with one link",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"srt_group\"\nmode = \"broadcast\"\nlinks = [{ address = \"203.0.113.7\", port = 9001 }]",
            )),
            "channels[0].outputs[1].links: a group needs 2 to 8 links (for one link use type = \"srt\")",
        ),
        (
            "SRT group link bound to a name, not an address",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"srt_group\"\nmode = \"broadcast\"\nlinks = [{ address = \"203.0.113.7\", port = 9001, bind = \"192.0.2.10\" }, { address = \"198.51.100.7\", port = 9001, bind = \"wan2\" }]",
            )),
            "channels[0].outputs[1].links[1].bind: must be a local IP address (the address of this link's interface)",
        ),
        (
            "SRT group listing the same link twice",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"srt_group\"\nmode = \"backup\"\nlinks = [{ address = \"203.0.113.7\", port = 9001 }, { address = \"203.0.113.7\", port = 9001 }]",
            )),
            "channels[0].outputs[1].links[1]: the same address, port, bind and interface as links[0]",
        ),
        (
            "weights in a broadcast group",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"srt_group\"\nmode = \"broadcast\"\nlinks = [{ address = \"203.0.113.7\", port = 9001, weight = 10 }, { address = \"198.51.100.7\", port = 9001 }]",
            )),
            "channels[0].outputs[1].links[0].weight: only a backup group ranks its links; a broadcast group sends on all of them",
        ),
        (
            "SRT group link tied to a path, not an interface name",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"srt_group\"\nmode = \"broadcast\"\nlinks = [{ address = \"203.0.113.7\", port = 9001, interface = \"eth1\" }, { address = \"203.0.113.7\", port = 9001, interface = \"/dev/wwan0\" }]",
            )),
            "channels[0].outputs[1].links[1].interface: must be a network interface name (1-15 of A-Z a-z 0-9 _ . : -, e.g. eth1)",
        ),
        (
            "SRT group link to nowhere",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"srt_group\"\nmode = \"backup\"\nlinks = [{ address = \"203.0.113.7\", port = 9001 }, { address = \"0.0.0.0\", port = 9001 }]",
            )),
            "channels[0].outputs[1].links[1].address: needs the receiver's address",
        ),
        (
            "unknown key in an SRT group link",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"srt_group\"\nmode = \"backup\"\nlinks = [{ address = \"203.0.113.7\", port = 9001, device = \"eth1\" }, { address = \"198.51.100.7\", port = 9001 }]",
            )),
            "channels[0].outputs[1].links[0].device: unknown field `device`, expected one of `address`, `port`, `bind`, `interface`, `weight`",
        ),
        (
            "SRT group latency out of range",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"srt_group\"\nmode = \"broadcast\"\nlatency_ms = 5\nlinks = [{ address = \"203.0.113.7\", port = 9001 }, { address = \"198.51.100.7\", port = 9001 }]",
            )),
            "channels[0].outputs[1].latency_ms: must be between 20 and 10000",
        ),
        (
            "packet-filter FEC on an SRT group",
            Box::new(replace(
                "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
                "type = \"srt_group\"\nmode = \"broadcast\"\nfec = { columns = 5, rows = 2 }\nlinks = [{ address = \"203.0.113.7\", port = 9001 }, { address = \"198.51.100.7\", port = 9001 }]",
            )),
            "channels[0].outputs[1].fec: not offered on an SRT group: libsrt runs FEC per link, and a link that rejoins mid-stream rebuilds wrong packets; use a broadcast group, or FEC on a type = \"srt\" output",
        ),
        (
            "copy of an output that does not exist",
            Box::new(replace("port = 9001", "port = 9001\ncopy_of = \"primry\"")),
            "channels[0].outputs[1].copy_of: no output named \"primry\" in this channel",
        ),
        (
            "copy of itself",
            Box::new(replace("port = 9001", "port = 9001\ncopy_of = \"backup\"")),
            "channels[0].outputs[1].copy_of: an output cannot be a copy of itself",
        ),
        (
            "copy that also chooses renditions",
            Box::new(replace(
                "port = 9001",
                "port = 9001\ncopy_of = \"primary\"\nrenditions = [\"360p\"]",
            )),
            "channels[0].outputs[1].renditions: a copy carries what its original carries; leave renditions out",
        ),
        (
            "copy of a copy",
            Box::new(|base: &str| {
                base.replacen("port = 9001", "port = 9001\ncopy_of = \"primary\"", 1)
                    .replacen("port = 9000", "port = 9000\ncopy_of = \"backup\"", 1)
            }),
            "channels[0].outputs[0].copy_of: \"backup\" is itself a copy; name the output it copies",
        ),
        (
            "unknown key in a rendition",
            Box::new(replace("bitrate_kbps = 800", "bitrate_kbps = 800\nbitrate = 800")),
            "channels[0].ladder[1].bitrate: unknown field `bitrate`, expected one of `name`, `width`, `height`, `frame_rate`, `codec`, `bitrate_kbps`, `profile`, `encoder`",
        ),
        (
            "unknown key in an output",
            Box::new(replace("port = 9001", "port = 9001\nlatncy_ms = 200")),
            "channels[0].outputs[1].latncy_ms: unknown field `latncy_ms`, expected one of `name`, `renditions`, `copy_of`, `mode`, `address`, `port`, `latency_ms`, `passphrase`, `encryption`, `stream_id`, `fec`",
        ),
        (
            "unknown SRT mode",
            Box::new(replace("mode = \"listener\"", "mode = \"server\"")),
            "channels[0].outputs[0].mode: unknown variant `server`, expected one of `caller`, `listener`, `rendezvous`",
        ),
        (
            "wrong type in an output (a tagged table, read by serde as a whole)",
            Box::new(replace("port = 9001", "port = \"9001\"")),
            "channels[0].outputs[1].port: invalid type: string \"9001\", expected u16",
        ),
        (
            "out-of-range number in an input",
            Box::new(replace(
                "type = \"test_pattern\"\nwidth = 1280\nheight = 720\nframe_rate = 30",
                "type = \"srt\"\nmode = \"listener\"\nport = 70000",
            )),
            "channels[0].input.port: invalid value: integer `70000`, expected u16",
        ),
        (
            "wrong type in an input",
            Box::new(replace("width = 1280\nheight = 720\nframe_rate = 30\n[channels.video]", "width = 1280\nheight = 720\nframe_rate = 30\ntone_hz = true\n[channels.video]")),
            "channels[0].input.tone_hz: invalid type: boolean `true`, expected u32",
        ),
        (
            "wrong type",
            Box::new(replace("bitrate_kbps = 3000", "bitrate_kbps = \"fast\"")),
            "channels[0].ladder[0].bitrate_kbps: invalid type: string \"fast\", expected u32",
        ),
        (
            "SRT latency out of range",
            Box::new(replace("port = 9000", "port = 9000\nlatency_ms = 5")),
            "channels[0].outputs[0].latency_ms: must be between 20 and 10000",
        ),
        (
            "port zero",
            Box::new(replace("port = 9001", "port = 0")),
            "channels[0].outputs[1].port: must be between 1 and 65535",
        ),
        (
            "caller without a receiver address",
            Box::new(replace("address = \"203.0.113.7\"\n", "")),
            "channels[0].outputs[1].address: caller mode needs the receiver's address",
        ),
        (
            "rendition frame rate not a divisor",
            Box::new(replace("frame_rate = 30\nbitrate_kbps = 800", "frame_rate = 25\nbitrate_kbps = 800")),
            "channels[0].ladder[1].frame_rate: 25 fps must equal the ladder's highest rate (30 fps) or divide it by a whole number",
        ),
        (
            "GOP not aligned with a half-rate rung",
            Box::new(|base: &str| {
                base.replacen("gop_frames = 60", "gop_frames = 45", 1)
                    .replacen("frame_rate = 30\nbitrate_kbps = 800", "frame_rate = 15\nbitrate_kbps = 800", 1)
            }),
            "channels[0].video.gop_frames: 45 frames at 30 fps is not a whole number of frames at 15 fps (rendition \"360p\"), so IDRs could not align",
        ),
        (
            "B-frames with low latency",
            Box::new(replace("gop_frames = 60", "gop_frames = 60\nb_frames = 2")),
            "channels[0].video.b_frames: must be 0 when latency is \"low\"",
        ),
        (
            "empty ladder",
            Box::new(|base: &str| {
                let start = base.find("[[channels.ladder]]").expect("ladder");
                let end = base.find("[[channels.outputs]]").expect("outputs");
                format!("{}{}", &base[..start], &base[end..])
            }),
            "channels[0]: missing field `ladder`",
        ),
        (
            "HEVC with high profile",
            Box::new(replace("bitrate_kbps = 800", "bitrate_kbps = 800\ncodec = \"hevc\"\nprofile = \"high\"")),
            "channels[0].ladder[1].profile: HEVC supports only the \"main\" profile",
        ),
        (
            "audio sample rate",
            Box::new(replace("[[channels.ladder]]", "[channels.audio]\nsample_rate = 32000\n[[channels.ladder]]")),
            "channels[0].audio.sample_rate: must be 44100 or 48000",
        ),
        (
            "bad channel name",
            Box::new(replace("name = \"main\"", "name = \"main feed!\"")),
            "channels[0].name: must be 1 to 32 characters of A-Z, a-z, 0-9, '-' or '_'",
        ),
        (
            "unknown input type",
            Box::new(replace("type = \"test_pattern\"", "type = \"ndi\"")),
            "channels[0].input.type: unknown variant `ndi`, expected one of `test_pattern`, `file`, `srt`, `udp`, `v4l2`, `decklink`",
        ),
        (
            "capture format half given",
            Box::new(replace(
                "type = \"test_pattern\"\nwidth = 1280\nheight = 720\nframe_rate = 30",
                "type = \"v4l2\"\ndevice = \"/dev/video0\"\nwidth = 1280",
            )),
            "channels[0].input.width: give width, height and frame_rate together, or none of them to follow the signal",
        ),
        (
            "metrics port clashes with the API",
            Box::new(|b: &str| format!("[server]\nhttps_port = 9798\n{b}")),
            "server.metrics.port: port 9798 is already used by server.https_port",
        ),
        (
            "metrics bearer token too short",
            Box::new(|b: &str| format!("[server.metrics]\nbearer_token = \"short\"\n{b}")),
            "server.metrics.bearer_token: must be 16 to 256 characters",
        ),
        (
            "server bind is not an address",
            Box::new(|b: &str| format!("[server]\nbind = \"my-box\"\n{b}")),
            "server.bind: must be an IP address (0.0.0.0 for every interface)",
        ),
    ];

    let mut failures = Vec::new();
    for (what, edit, expected) in &cases {
        let got = error_for(edit);
        if !got.lines().any(|line| line == *expected) {
            failures.push(format!(
                "{what}:\n  expected: {expected}\n  got:      {got}"
            ));
        }
    }
    assert!(cases.len() >= 15);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_srt_group_output_reads_its_links_and_writes_them_back() {
    let text = BASE.replace(
        "type = \"srt\"\nmode = \"caller\"\naddress = \"203.0.113.7\"\nport = 9001",
        "type = \"srt_group\"\nmode = \"backup\"\nlatency_ms = 200\n\
         links = [{ address = \"203.0.113.7\", port = 9001, bind = \"192.0.2.10\" },\n\
         { address = \"198.51.100.7\", port = 9001, bind = \"198.51.100.20\", weight = 7 }]",
    );
    let config = parse(&text).expect("a valid group");
    let feedline_config::OutputTransport::SrtGroup { mode, links, .. } =
        &config.channels[0].outputs[1].transport
    else {
        panic!("not a group: {:?}", config.channels[0].outputs[1]);
    };
    assert_eq!(*mode, feedline_config::SrtGroupMode::Backup);
    assert_eq!(links[0].bind.as_deref(), Some("192.0.2.10"));
    // Unranked links keep the order they are listed in; an explicit weight wins.
    assert_eq!(links[0].effective_weight(0, 2), 2);
    assert_eq!(links[1].effective_weight(1, 2), 7);
    let written = toml::to_string(&config).expect("toml");
    assert_eq!(parse(&written).expect("round trip"), config);
}
