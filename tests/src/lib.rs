//! Test harness: runs the real `feedline` binary and real receivers, and measures what the
//! receivers got. Nothing here imitates a receiver.

pub mod analysis;
pub mod api;
pub mod appliance;
pub mod arrivals;
pub mod feed;
pub mod impair;
pub mod netns;
pub mod receiver;
pub mod store_load;
pub mod ts;
pub mod units;
pub mod vm;

use std::net::UdpSocket;
use std::path::PathBuf;

/// A UDP port nobody is using right now (SRT runs over UDP).
pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("no free UDP port")
}

/// The binary under test: `FEEDLINE_BIN`, or the workspace's debug build.
pub fn feedline_bin() -> PathBuf {
    if let Ok(p) = std::env::var("FEEDLINE_BIN") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    for profile in ["debug", "release"] {
        let p = root.join("target").join(profile).join("feedline");
        if p.exists() {
            return p;
        }
    }
    panic!("feedline binary not found: run `cargo build -p feedline` first or set FEEDLINE_BIN");
}

/// True when a tool is on PATH; tests of installable tools never skip, they fail loudly.
pub fn require_tool(tool: &str) {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "{tool} is not installed: run scripts/setup.sh (it installs every test peer)"
    );
}

/// A `[[channels.outputs]]` SRT table. Every address is loopback: tests never expose a port beyond
/// this machine (listeners bind it, callers call it).
pub fn srt_output(name: &str, mode: &str, port: u16, extra: &str) -> String {
    format!(
        "[[channels.outputs]]\nname = \"{name}\"\ntype = \"srt\"\nmode = \"{mode}\"\naddress = \"127.0.0.1\"\nport = {port}\n{extra}"
    )
}

/// A config with one channel: a live test pattern, a two-rung 30 fps ladder and the given
/// outputs (TOML `[[channels.outputs]]` tables). Small rungs keep two cores comfortable.
pub fn two_rung_config(outputs: &str) -> String {
    format!(
        r#"
[[channels]]
name = "test"
[channels.input]
type = "test_pattern"
width = 640
height = 360
frame_rate = 30
[channels.timecode]
source = "internal"
[channels.video]
gop_frames = 30
[[channels.ladder]]
name = "360p"
width = 640
height = 360
frame_rate = 30
bitrate_kbps = 1200
profile = "high"
[[channels.ladder]]
name = "180p"
width = 320
height = 180
frame_rate = 30
bitrate_kbps = 400
profile = "main"
{outputs}
"#
    )
}
