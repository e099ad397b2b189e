//! The `feedline` process under test.

use crate::feedline_bin;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct Appliance {
    child: Option<Child>,
    pub log_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Appliance {
    /// Starts `feedline run --config <file>` with the given TOML.
    pub fn start(config_toml: &str) -> Appliance {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("feedline.toml");
        std::fs::File::create(&config)
            .and_then(|mut f| f.write_all(config_toml.as_bytes()))
            .expect("write config");
        Self::spawn(
            dir,
            &["run", "--config", config.to_str().unwrap_or_default()],
            &[],
        )
    }

    /// Starts `feedline <args>` (for commands and flags other than a plain `run --config`).
    pub fn start_args(args: &[&str]) -> Appliance {
        Self::spawn(tempfile::tempdir().expect("tempdir"), args, &[])
    }

    /// As `start_args`, with extra environment (e.g. what systemd sets for a service).
    pub fn start_args_env(args: &[&str], env: &[(&str, &str)]) -> Appliance {
        Self::spawn(tempfile::tempdir().expect("tempdir"), args, env)
    }

    fn spawn(dir: tempfile::TempDir, args: &[&str], env: &[(&str, &str)]) -> Appliance {
        let log_path = dir.path().join("feedline.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let child = Command::new(feedline_bin())
            .args(args)
            .env("NO_COLOR", "1")
            .env("FEEDLINE_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start feedline");
        Appliance {
            child: Some(child),
            log_path,
            _dir: dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn log(&self) -> String {
        strip_ansi(&std::fs::read_to_string(&self.log_path).unwrap_or_default())
    }

    /// Waits until a log line contains every one of `needles`; returns that line.
    pub fn wait_for_log(&self, needles: &[&str], timeout: Duration) -> Option<String> {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            if let Some(line) = self
                .log()
                .lines()
                .find(|l| needles.iter().all(|n| l.contains(n)))
            {
                return Some(line.to_string());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Sends SIGTERM and waits up to `timeout`; returns the exit status and how long it took.
    pub fn terminate(&mut self, timeout: Duration) -> Option<(ExitStatus, Duration)> {
        signal(self.pid(), "TERM");
        let start = Instant::now();
        let child = self.child.as_mut()?;
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = child.try_wait() {
                return Some((status, start.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Appliance {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status();
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
