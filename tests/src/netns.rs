//! A second test host: a network namespace joined to this one by a veth pair, with its own
//! address. Only for the tests' own traffic; removed on drop.

use std::process::{Command, Stdio};

pub struct TestHost {
    pub name: String,
    /// This machine's end of the link.
    pub local_ip: String,
    /// The namespace's address.
    pub remote_ip: String,
    veth: String,
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

impl TestHost {
    /// `id` picks a private /30 (10.231.id.0/30) so parallel hosts do not collide.
    pub fn create(id: u8) -> Result<TestHost, String> {
        let name = format!("feedline-t{id}-{}", std::process::id());
        let veth = format!("flv{id}h{}", std::process::id() % 10000);
        let peer = format!("flv{id}n{}", std::process::id() % 10000);
        let local_ip = format!("10.231.{id}.1");
        let remote_ip = format!("10.231.{id}.2");
        let host = TestHost {
            name: name.clone(),
            local_ip: local_ip.clone(),
            remote_ip: remote_ip.clone(),
            veth: veth.clone(),
        };
        let steps: Vec<Vec<String>> = vec![
            vec!["netns".into(), "add".into(), name.clone()],
            vec![
                "link".into(),
                "add".into(),
                veth.clone(),
                "type".into(),
                "veth".into(),
                "peer".into(),
                "name".into(),
                peer.clone(),
            ],
            vec![
                "link".into(),
                "set".into(),
                peer.clone(),
                "netns".into(),
                name.clone(),
            ],
            vec![
                "addr".into(),
                "add".into(),
                format!("{local_ip}/30"),
                "dev".into(),
                veth.clone(),
            ],
            vec!["link".into(), "set".into(), veth.clone(), "up".into()],
            vec![
                "-n".into(),
                name.clone(),
                "addr".into(),
                "add".into(),
                format!("{remote_ip}/30"),
                "dev".into(),
                peer.clone(),
            ],
            vec![
                "-n".into(),
                name.clone(),
                "link".into(),
                "set".into(),
                peer,
                "up".into(),
            ],
            vec![
                "-n".into(),
                name.clone(),
                "link".into(),
                "set".into(),
                "lo".into(),
                "up".into(),
            ],
        ];
        for step in steps {
            let args: Vec<&str> = step.iter().map(String::as_str).collect();
            if !ip(&args) {
                return Err(format!(
                    "`ip {}` failed (needs root and iproute2)",
                    args.join(" ")
                ));
            }
        }
        Ok(host)
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
        ip(&["link", "del", &self.veth]);
        ip(&["netns", "del", &self.name]);
    }
}
