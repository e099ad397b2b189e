//! A second test host: a network namespace joined to this one by a veth pair (a path), with
//! its own address; more paths can be added, each its own /30 and interface pair. Only for the
//! tests' own traffic; removed on drop.

use std::process::{Command, Stdio};

pub struct TestHost {
    pub name: String,
    /// This machine's end of the first path.
    pub local_ip: String,
    /// The namespace's address on the first path.
    pub remote_ip: String,
    /// Every path to the namespace, the first one first.
    pub paths: Vec<HostPath>,
}

/// One veth pair between this machine and the namespace.
#[derive(Debug, Clone)]
pub struct HostPath {
    pub local_ip: String,
    pub remote_ip: String,
    /// The interface on this machine's side.
    pub interface: String,
    /// The interface inside the namespace.
    pub peer_interface: String,
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn ip_checked(args: &[&str]) -> Result<(), String> {
    if ip(args) {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed (needs root and iproute2)",
            args.join(" ")
        ))
    }
}

impl TestHost {
    /// `id` picks a private /30 (10.231.id.0/30) so parallel hosts do not collide.
    pub fn create(id: u8) -> Result<TestHost, String> {
        let name = format!("feedline-t{id}-{}", std::process::id());
        ip_checked(&["netns", "add", &name])?;
        let mut host = TestHost {
            name: name.clone(),
            local_ip: String::new(),
            remote_ip: String::new(),
            paths: Vec::new(),
        };
        ip_checked(&["-n", &name, "link", "set", "lo", "up"])?;
        let first = host.add_path(id)?;
        host.local_ip = first.local_ip;
        host.remote_ip = first.remote_ip;
        Ok(host)
    }

    /// Another veth pair into the namespace, on 10.231.id.0/30.
    pub fn add_path(&mut self, id: u8) -> Result<HostPath, String> {
        let pid = std::process::id() % 10000;
        let path = HostPath {
            local_ip: format!("10.231.{id}.1"),
            remote_ip: format!("10.231.{id}.2"),
            interface: format!("flv{id}h{pid}"),
            peer_interface: format!("flv{id}n{pid}"),
        };
        let (veth, peer, name) = (&path.interface, &path.peer_interface, &self.name);
        ip_checked(&["link", "add", veth, "type", "veth", "peer", "name", peer])?;
        // Recorded at once, so that drop removes it even if a later step fails.
        self.paths.push(path.clone());
        ip_checked(&["link", "set", peer, "netns", name])?;
        ip_checked(&["addr", "add", &format!("{}/30", path.local_ip), "dev", veth])?;
        ip_checked(&["link", "set", veth, "up"])?;
        ip_checked(&[
            "-n",
            name,
            "addr",
            "add",
            &format!("{}/30", path.remote_ip),
            "dev",
            peer,
        ])?;
        ip_checked(&["-n", name, "link", "set", peer, "up"])?;
        Ok(path)
    }

    /// Runs `ip -n <namespace> args…`.
    pub fn ip(&self, args: &[&str]) -> Result<(), String> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip_checked(&all)
    }

    /// A command that runs inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        for path in &self.paths {
            ip(&["link", "del", &path.interface]);
        }
        ip(&["netns", "del", &self.name]);
    }
}

/// Bytes this machine sent out of `interface` so far.
pub fn tx_bytes(interface: &str) -> u64 {
    std::fs::read_to_string(format!("/sys/class/net/{interface}/statistics/tx_bytes"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}
