//! Real SRT/UDP receivers: ffmpeg (libsrt) and srt-live-transmit, capturing what they get.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Receiver {
    child: Option<Child>,
    pub capture: PathBuf,
    pub stderr: PathBuf,
}

impl Receiver {
    /// `srt-live-transmit <uri> file://con > capture`: the raw TS bytes exactly as received.
    pub fn srt_live_transmit(uri: &str, capture: &Path) -> Receiver {
        Receiver::srt_app(
            Path::new("srt-live-transmit"),
            &["-q", uri, "file://con"],
            capture,
        )
    }

    /// libsrt's own `srt-test-live` from the build with socket groups
    /// (scripts/build-libsrt-bonding.sh): Debian's libsrt has none, and srt-live-transmit drops
    /// an accepted group at once (libsrt answers `SRTS_NONEXIST` for a group's socket state).
    /// It logs libsrt's warnings (a member link dropping packets it got too late among them).
    pub fn srt_test_live_groups(uri: &str, capture: &Path) -> Receiver {
        Receiver::srt_app(
            &srt_test_live(),
            &["-ll", "warning", uri, "file://con"],
            capture,
        )
    }

    /// As `srt_test_live_groups`, on a test host (inside its network namespace).
    pub fn srt_test_live_groups_on(
        host: &crate::netns::TestHost,
        uri: &str,
        capture: &Path,
    ) -> Receiver {
        let binary = srt_test_live();
        let binary = binary.to_str().unwrap_or_default();
        Receiver::srt_app(
            Path::new("ip"),
            &[
                "netns",
                "exec",
                &host.name,
                binary,
                "-ll",
                "warning",
                uri,
                "file://con",
            ],
            capture,
        )
    }

    /// One of libsrt's apps receiving into `capture` (its stdout), its log beside it.
    fn srt_app(binary: &Path, args: &[&str], capture: &Path) -> Receiver {
        let out = std::fs::File::create(capture).expect("capture file");
        let stderr = capture.with_extension("stderr");
        let err = std::fs::File::create(&stderr).expect("stderr file");
        let child = Command::new(binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start srt-live-transmit");
        Receiver {
            child: Some(child),
            capture: capture.to_path_buf(),
            stderr,
        }
    }

    /// `ffmpeg -i <url> -map 0 -c copy capture.ts` for `seconds` of media.
    pub fn ffmpeg(url: &str, seconds: u32, capture: &Path) -> Receiver {
        Receiver::ffmpeg_with(&[], url, seconds, capture)
    }

    /// As `ffmpeg`, with input options before `-i` (e.g. `-rist_profile simple`).
    pub fn ffmpeg_with(
        input_options: &[&str],
        url: &str,
        seconds: u32,
        capture: &Path,
    ) -> Receiver {
        let stderr = capture.with_extension("stderr");
        let err = std::fs::File::create(&stderr).expect("stderr file");
        let child = Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-loglevel", "warning"])
            .args(input_options)
            .args(["-i", url])
            .args([
                "-map",
                "0",
                "-c",
                "copy",
                "-t",
                &seconds.to_string(),
                "-f",
                "mpegts",
                "-y",
            ])
            .arg(capture)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("start ffmpeg");
        Receiver {
            child: Some(child),
            capture: capture.to_path_buf(),
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn captured_bytes(&self) -> u64 {
        std::fs::metadata(&self.capture)
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// Waits until the capture holds at least `bytes`; returns how long that took.
    pub fn wait_for_bytes(&self, bytes: u64, timeout: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.captured_bytes() >= bytes {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Whether the receiver has ended by itself (`srt-test-live` does when its source breaks).
    pub fn has_exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))))
    }

    /// Waits for the receiver to exit by itself (ffmpeg after `-t`).
    pub fn wait(&mut self, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.has_exited() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Stops the receiver the way an operator would (SIGINT lets it close the SRT socket).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            crate::appliance::signal(c.id(), "INT");
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(2) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kills the receiver without letting it close anything (a crash, a pulled cable).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.kill();
    }
}

/// libsrt's `srt-test-live`, from the build with socket groups.
fn srt_test_live() -> std::path::PathBuf {
    let prefix = std::env::var("FEEDLINE_SRT_PREFIX")
        .unwrap_or_else(|_| "/opt/feedline/libsrt-bonding".to_string());
    let binary = Path::new(&prefix).join("bin/srt-test-live");
    assert!(
        binary.exists(),
        "{} is missing: run scripts/setup.sh",
        binary.display()
    );
    binary
}
