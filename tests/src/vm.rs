//! A Feedline appliance as users flash it: a Debian 12 image with the .deb installed, booted
//! under QEMU (TCG) with user-mode networking and host port forwards. Commands run in the guest
//! through the QEMU guest agent (`guest-exec`), so the image needs no login or sshd.

use base64::Engine;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The files `scripts/vm-image.sh` writes.
pub struct Image {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    pub root: PathBuf,
}

impl Image {
    /// Builds the image from a .deb, with `config` as `/etc/feedline/feedline.toml`.
    pub fn build(deb: &Path, config: &Path, out: &Path) -> Image {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/vm-image.sh");
        std::fs::create_dir_all(out).expect("image dir");
        let log = out.join("vm-image.log");
        let status = Command::new(script)
            .arg(deb)
            .arg(out)
            .arg(config)
            .stdout(std::fs::File::create(&log).expect("image log"))
            .stderr(
                std::fs::OpenOptions::new()
                    .append(true)
                    .open(&log)
                    .expect("image log"),
            )
            .status()
            .expect("run scripts/vm-image.sh");
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: String = tail.lines().rev().take(30).collect::<Vec<_>>().join("\n");
        assert!(
            status.success(),
            "vm-image.sh failed; last lines (reversed):\n{tail}"
        );
        Image {
            kernel: out.join("vmlinuz"),
            initrd: out.join("initrd.img"),
            root: out.join("root.ext4"),
        }
    }
}

/// A host port forwarded to a guest port.
#[derive(Debug, Clone, Copy)]
pub enum Forward {
    Tcp { host: u16, guest: u16 },
    Udp { host: u16, guest: u16 },
}

/// A booted guest; killed when dropped.
pub struct Vm {
    qemu: Child,
    agent: PathBuf,
    pub console: PathBuf,
}

impl Vm {
    /// Boots the image (its disk as a throw-away snapshot) with 2 vCPUs and 2 GiB.
    pub fn boot(image: &Image, dir: &Path, forwards: &[Forward]) -> Vm {
        let agent = dir.join("qga.sock");
        let console = dir.join("console.log");
        let hostfwd: String = forwards
            .iter()
            .map(|f| match f {
                Forward::Tcp { host, guest } => format!(",hostfwd=tcp:127.0.0.1:{host}-:{guest}"),
                Forward::Udp { host, guest } => format!(",hostfwd=udp:127.0.0.1:{host}-:{guest}"),
            })
            .collect();
        let qemu = Command::new("qemu-system-x86_64")
            .args([
                "-accel",
                "tcg",
                // Every instruction set extension the emulator has (SSE4, AVX2), so x264 and
                // libswscale in the guest take their SIMD paths rather than plain C.
                "-cpu",
                "max",
                "-smp",
                "2",
                "-m",
                "2048",
                "-nodefaults",
                "-no-reboot",
            ])
            .args(["-display", "none", "-monitor", "none"])
            .arg("-kernel")
            .arg(&image.kernel)
            .arg("-initrd")
            .arg(&image.initrd)
            .args(["-append", "root=/dev/vda rw console=ttyS0 panic=-1"])
            .arg("-drive")
            .arg(format!(
                "file={},format=raw,if=virtio,snapshot=on",
                image.root.display()
            ))
            .args(["-netdev", &format!("user,id=net0{hostfwd}")])
            .args(["-device", "virtio-net-pci,netdev=net0"])
            .args(["-serial", &format!("file:{}", console.display())])
            .arg("-chardev")
            .arg(format!(
                "socket,path={},server=on,wait=off,id=qga0",
                agent.display()
            ))
            .args(["-device", "virtio-serial"])
            .args([
                "-device",
                "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("qemu.stderr")).expect("qemu log"))
            .spawn()
            .expect("start qemu-system-x86_64");
        Vm {
            qemu,
            agent,
            console,
        }
    }

    pub fn console_text(&self) -> String {
        std::fs::read_to_string(&self.console).unwrap_or_default()
    }

    /// Waits until the guest agent answers (the guest booted to userspace).
    pub fn wait_agent(&self, timeout: Duration) {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            if self.agent_call("guest-ping", json!({})).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        panic!(
            "guest agent silent after {timeout:?}; console:\n{}",
            tail(&self.console_text(), 40)
        );
    }

    fn agent_call(&self, command: &str, arguments: Value) -> Result<Value, String> {
        let stream = UnixStream::connect(&self.agent).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
        let mut reader = BufReader::new(stream);
        // guest-sync first: it discards whatever a previous, timed-out exchange left behind.
        let sync_id = SYNC_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut line = String::new();
        writeln!(
            writer,
            "{}",
            json!({"execute": "guest-sync", "arguments": {"id": sync_id}})
        )
        .map_err(|e| e.to_string())?;
        loop {
            line.clear();
            reader.read_line(&mut line).map_err(|e| e.to_string())?;
            let v: Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
            if v["return"].as_u64() == Some(sync_id) {
                break;
            }
        }
        writeln!(
            writer,
            "{}",
            json!({"execute": command, "arguments": arguments})
        )
        .map_err(|e| e.to_string())?;
        line.clear();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
        if let Some(err) = v.get("error") {
            return Err(err.to_string());
        }
        Ok(v["return"].clone())
    }

    /// Runs a program in the guest as root; returns (exit code, stdout, stderr).
    pub fn exec(&self, program: &str, args: &[&str]) -> (i64, String, String) {
        let started = self
            .agent_call(
                "guest-exec",
                json!({"path": program, "arg": args, "capture-output": true}),
            )
            .unwrap_or_else(|e| panic!("guest-exec {program} {args:?}: {e}"));
        let pid = started["pid"].as_i64().expect("guest pid");
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            let status = self
                .agent_call("guest-exec-status", json!({"pid": pid}))
                .unwrap_or_else(|e| panic!("guest-exec-status: {e}"));
            if status["exited"].as_bool() == Some(true) {
                let text = |key: &str| {
                    status[key]
                        .as_str()
                        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default()
                };
                return (
                    status["exitcode"].as_i64().unwrap_or(-1),
                    text("out-data"),
                    text("err-data"),
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("{program} {args:?} still running in the guest after 60 s");
    }

    /// `sh -c script` in the guest; panics unless it exits 0. Returns stdout.
    pub fn sh(&self, script: &str) -> String {
        let (code, out, err) = self.exec("/bin/sh", &["-c", script]);
        assert_eq!(code, 0, "guest `{script}` exited {code}: {out}{err}");
        out
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.qemu.kill();
        let _ = self.qemu.wait();
    }
}

/// `guest-sync` ids: each exchange's own, so a stale reply is recognised and skipped.
static SYNC_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The .deb of the binary built here (the debug build; a release is `cargo deb -p feedline`),
/// written into `out`.
pub fn build_deb(out: &Path) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (ok, output) = crate::api::run(
        Command::new("cargo")
            .current_dir(workspace)
            .args([
                "deb",
                "-p",
                "feedline",
                "--profile",
                "dev",
                "--no-build",
                "-o",
            ])
            .arg(out),
    );
    assert!(ok, "cargo deb: {output}");
    std::fs::read_dir(out)
        .expect("out dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .unwrap_or_else(|| panic!("no .deb in {}: {output}", out.display()))
}
