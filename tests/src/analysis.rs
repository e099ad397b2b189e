//! What a receiver sees, measured with ffprobe: streams, packets, keyframes and timecodes.

use serde::Deserialize;
use std::path::Path;
use std::process::Command;

#[derive(Debug, Clone, Deserialize)]
pub struct Stream {
    pub index: u32,
    /// Absent for a PID the probe saw announced but never carrying data.
    #[serde(default)]
    pub codec_type: String,
    #[serde(default)]
    pub codec_name: String,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub height: Option<u32>,
    #[serde(default)]
    pub r_frame_rate: Option<String>,
    #[serde(default)]
    pub sample_rate: Option<String>,
    #[serde(default)]
    pub channels: Option<u32>,
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Packet {
    pub pts: i64,
    pub dts: i64,
    pub size: u64,
    pub keyframe: bool,
    /// Byte offset in the capture of the TS packet that starts this picture.
    pub pos: u64,
}

fn ffprobe(args: &[&str], file: &Path) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(file)
        .output()
        .expect("run ffprobe");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "ffprobe output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub fn streams(file: &Path) -> Vec<Stream> {
    let v = ffprobe(&["-show_streams"], file);
    serde_json::from_value(v["streams"].clone()).expect("streams")
}

pub fn video_streams(file: &Path) -> Vec<Stream> {
    let mut v: Vec<Stream> = streams(file)
        .into_iter()
        .filter(|s| s.codec_type == "video")
        .collect();
    v.sort_by_key(|s| std::cmp::Reverse(s.width.unwrap_or(0)));
    v
}

pub fn packets(file: &Path, stream_index: u32) -> Vec<Packet> {
    let v = ffprobe(
        &[
            "-select_streams",
            &stream_index.to_string(),
            "-show_entries",
            "packet=pts,dts,size,flags,pos",
        ],
        file,
    );
    v["packets"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some(Packet {
                        pts: p["pts"].as_i64()?,
                        dts: p["dts"].as_i64().unwrap_or(p["pts"].as_i64()?),
                        size: p["size"].as_str()?.parse().ok()?,
                        keyframe: p["flags"].as_str().unwrap_or("").starts_with('K'),
                        pos: p["pos"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Steps between consecutive decode timestamps (90 kHz ticks) larger than `limit`: frames that
/// never arrived.
pub fn dts_gaps(packets: &[Packet], limit: i64) -> Vec<i64> {
    packets
        .windows(2)
        .map(|w| w[1].dts - w[0].dts)
        .filter(|gap| *gap > limit)
        .collect()
}

/// The `pic_timing` SEI timecode of each decoded frame, in presentation order (None where a
/// frame carries none).
pub fn frame_timecodes(file: &Path, stream_index: u32) -> Vec<Option<String>> {
    pictures_with_timecodes(file, stream_index)
        .into_iter()
        .map(|(_, tc)| tc)
        .collect()
}

/// Each decoded frame's presentation time (90 kHz ticks) and `pic_timing` SEI timecode, in
/// presentation order.
pub fn pictures_with_timecodes(file: &Path, stream_index: u32) -> Vec<(i64, Option<String>)> {
    let v = ffprobe(
        &[
            "-select_streams",
            &stream_index.to_string(),
            "-show_entries",
            "frame=pts:frame_side_data",
        ],
        file,
    );
    v["frames"]
        .as_array()
        .map(|frames| {
            frames
                .iter()
                .filter_map(|f| {
                    let timecode = f["side_data_list"].as_array().and_then(|list| {
                        list.iter().find_map(|sd| {
                            sd["timecode"].as_str().map(str::to_string).or_else(|| {
                                sd["timecodes"]
                                    .as_array()
                                    .and_then(|t| t.first()?["value"].as_str().map(str::to_string))
                            })
                        })
                    });
                    Some((f["pts"].as_i64()?, timecode))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What FFmpeg's bitstream reader (`trace_headers`, which parses every NAL unit's syntax
/// against the parameter sets) says is wrong with a video stream: an SEI whose declared size
/// runs past its NAL unit, bytes after the RBSP trailing bits, and the like, plus the decoder's
/// SEI complaints. Empty when every header parses.
pub fn bitstream_errors(file: &Path, stream_index: u32) -> Vec<String> {
    // A capture ends where its receiver stopped, as a rule inside a PES packet: the demuxer
    // flags that last, cut access unit corrupt, and it is left out (when the cut fell inside a
    // filler NAL unit, the reader reported a unit without its trailing bits). The TS itself is
    // checked packet by packet elsewhere (`assert_ts_continuity`).
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-fflags",
            "+discardcorrupt",
            "-i",
        ])
        .arg(file)
        .args([
            "-map",
            &format!("0:{stream_index}"),
            "-c",
            "copy",
            "-bsf:v",
            "trace_headers",
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("run ffmpeg trace_headers");
    // The decoder FFmpeg runs while probing the stream also complains about the pictures before
    // the first IDR a mid-stream join starts with ("non-existing PPS 0 referenced"): expected of
    // any live join, so only the bitstream reader's own errors and SEI errors count.
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("[trace_headers") || l.contains("SEI"))
        .map(str::to_string)
        .collect()
}

/// "HH:MM:SS:FF" (or ';' before FF for drop-frame) → frame number at `fps`.
pub fn timecode_to_frames(tc: &str, fps: u32) -> Option<u64> {
    let parts: Vec<u64> = tc
        .split([':', ';', '.'])
        .map(|p| p.parse().ok())
        .collect::<Option<Vec<_>>>()?;
    if parts.len() != 4 {
        return None;
    }
    Some(((parts[0] * 60 + parts[1]) * 60 + parts[2]) * u64::from(fps) + parts[3])
}

/// Frames missing between consecutive pictures of one stream (`frame_90k` apart), counted from
/// their presentation times: what the sender shed or the link lost.
pub fn missing_frames(packets: &[Packet], frame_90k: i64) -> i64 {
    let mut pts: Vec<i64> = packets.iter().map(|p| p.pts).collect();
    pts.sort_unstable();
    pts.windows(2)
        .map(|w| ((w[1] - w[0]) / frame_90k - 1).max(0))
        .sum()
}

/// Seconds from the time of day a timecode carries (`tc` at `fps`, from a system clock) to the
/// Unix time `unix_s`, taken modulo 15 minutes so that the timecode's time zone does not matter:
/// how late a picture stamped `tc` is at `unix_s` (negative: early), within ±7.5 minutes.
pub fn seconds_after_timecode(tc: &str, fps: u32, unix_s: f64) -> f64 {
    let tc_s = timecode_to_frames(tc, fps).unwrap_or_else(|| panic!("timecode {tc}")) as f64
        / f64::from(fps);
    seconds_after_time_of_day(tc_s, unix_s)
}

/// As `seconds_after_timecode`, for a time of day already in seconds.
pub fn seconds_after_time_of_day(time_of_day_s: f64, unix_s: f64) -> f64 {
    let late = (unix_s % 86_400.0 - time_of_day_s).rem_euclid(900.0);
    if late > 450.0 {
        late - 900.0
    } else {
        late
    }
}

/// Average bitrate of a stream's packets, in kb/s, over the span of their timestamps.
pub fn bitrate_kbps(packets: &[Packet], frame_duration_90k: i64) -> f64 {
    if packets.len() < 2 {
        return 0.0;
    }
    let bytes: u64 = packets.iter().map(|p| p.size).sum();
    let first = packets.iter().map(|p| p.dts).min().unwrap_or(0);
    let last = packets.iter().map(|p| p.dts).max().unwrap_or(0);
    let seconds = (last - first + frame_duration_90k) as f64 / 90_000.0;
    bytes as f64 * 8.0 / 1000.0 / seconds
}

/// One decoded picture's luma figures, from ffmpeg's `signalstats`.
#[derive(Debug, Clone, Copy)]
pub struct PictureStat {
    pub pts_s: f64,
    /// Mean luma (limited-range black is 16).
    pub yavg: f64,
    /// Mean absolute luma difference from the picture before (0 for a repeated picture).
    pub ydif: f64,
}

/// `signalstats` of every picture of the file's main (largest) video stream, in order.
pub fn picture_stats(file: &Path) -> Vec<PictureStat> {
    // The movie source picks the best video stream itself; naming one with a stream
    // specifier made ffprobe 5.1 loop over the file without end.
    let graph = format!("movie={},signalstats", file.display());
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-f", "lavfi", "-i", &graph])
        .args([
            "-show_entries",
            "frame=pts_time:frame_tags=lavfi.signalstats.YAVG,lavfi.signalstats.YDIF",
            "-of",
            "csv=p=0",
        ])
        .output()
        .expect("run ffprobe signalstats");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut f = line.split(',').map(|v| v.trim().parse::<f64>().ok());
            Some(PictureStat {
                pts_s: f.next()??,
                yavg: f.next()??,
                ydif: f.next()??,
            })
        })
        .collect()
}

/// Silences in the file's first audio stream, from ffmpeg's `silencedetect` (below -40 dBFS
/// for at least `at_least_s`): (start in seconds of the stream, duration in seconds).
pub fn silences(file: &Path, at_least_s: f64) -> Vec<(f64, f64)> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(file)
        .args([
            "-map",
            "0:a:0",
            "-af",
            &format!("silencedetect=n=-40dB:d={at_least_s}"),
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("run ffmpeg silencedetect");
    let log = String::from_utf8_lossy(&out.stderr);
    let value = |line: &str, key: &str| -> Option<f64> {
        line.split(key)
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let mut found = Vec::new();
    let mut start = None;
    for line in log.lines() {
        if let Some(s) = value(line, "silence_start: ") {
            start = Some(s);
        } else if let (Some(s), Some(d)) = (start, value(line, "silence_duration: ")) {
            found.push((s, d));
            start = None;
        }
    }
    found
}

/// Where the sound of the file's first audio stream comes in after a silence (below -40 dBFS
/// for at least 0.1 s), as presentation times in seconds (the same clock as
/// `PictureStat::pts_s`): how lip sync is measured against a picture that changes at the same
/// instant at the source.
pub fn sound_onsets(file: &Path) -> Vec<f64> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-copyts", "-i"])
        .arg(file)
        .args([
            "-map",
            "0:a:0",
            "-af",
            "silencedetect=n=-40dB:d=0.1",
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("run ffmpeg silencedetect");
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| {
            l.split("silence_end: ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect()
}
