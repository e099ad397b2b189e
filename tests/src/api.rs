//! Talking to a running appliance's API the way an operator's tools do: with curl (a real HTTP
//! client nobody here wrote), over HTTPS with the box's self-signed certificate.

use crate::appliance::Appliance;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// TCP ports for one appliance's listeners.
#[derive(Debug, Clone, Copy)]
pub struct ServerPorts {
    pub http: u16,
    pub https: u16,
    pub metrics: u16,
}

impl ServerPorts {
    /// Three distinct free ports: all three are held open while they are picked, so the kernel
    /// cannot hand the same one out twice (it did, once in a while, when each was released at once).
    pub fn pick() -> ServerPorts {
        let hold = || std::net::TcpListener::bind("127.0.0.1:0").expect("no free TCP port");
        let held = [hold(), hold(), hold()];
        let port = |i: usize| {
            held[i]
                .local_addr()
                .map(|a| a.port())
                .expect("listener address")
        };
        ServerPorts {
            http: port(0),
            https: port(1),
            metrics: port(2),
        }
    }

    /// The `[server]` section for these ports, listening on loopback only.
    pub fn toml(&self, tls: bool, extra_metrics: &str) -> String {
        format!(
            "[server]\nbind = \"127.0.0.1\"\nhttp_port = {}\nhttps_port = {}\ntls = {tls}\n[server.metrics]\nport = {}\n{extra_metrics}\n",
            self.http, self.https, self.metrics
        )
    }
}

/// An appliance run with a data directory the test owns, so it can be killed and restarted on
/// the same store.
pub struct Deployment {
    pub data_dir: PathBuf,
    pub seed: PathBuf,
    pub ports: ServerPorts,
    pub tls: bool,
}

impl Deployment {
    pub fn new(dir: &Path, ports: ServerPorts, tls: bool, seed_toml: &str) -> Deployment {
        let seed = dir.join("seed.toml");
        std::fs::File::create(&seed)
            .and_then(|mut f| f.write_all(seed_toml.as_bytes()))
            .expect("write seed");
        Deployment {
            data_dir: dir.join("data"),
            seed,
            ports,
            tls,
        }
    }

    /// A box running `channels_toml` (its `[[channels]]`), its API over plain HTTP and its
    /// metrics on loopback and free ports.
    pub fn with_channels(dir: &Path, channels_toml: &str) -> Deployment {
        let ports = ServerPorts::pick();
        let seed = format!("{}{channels_toml}", ports.toml(false, ""));
        Deployment::new(dir, ports, false, &seed)
    }

    /// The usual test box: `two_rung_config` with `outputs`, listening on loopback and free ports.
    pub fn two_rung(dir: &Path, tls: bool, metrics_extra: &str, outputs: &str) -> Deployment {
        let ports = ServerPorts::pick();
        let seed = format!(
            "{}{}",
            ports.toml(tls, metrics_extra),
            crate::two_rung_config(outputs)
        );
        Deployment::new(dir, ports, tls, &seed)
    }

    pub fn start(&self) -> Appliance {
        Appliance::start_args(&[
            "run",
            "--config",
            self.seed.to_str().unwrap_or_default(),
            "--data-dir",
            self.data_dir.to_str().unwrap_or_default(),
        ])
    }

    /// The appliance's metrics, as a scraper (curl) gets them.
    pub fn scrape_metrics(&self) -> String {
        let scraped = Command::new("curl")
            .args([
                "-s",
                &format!("http://127.0.0.1:{}/metrics", self.ports.metrics),
            ])
            .output()
            .expect("curl metrics");
        String::from_utf8_lossy(&scraped.stdout).into_owned()
    }

    pub fn base(&self) -> String {
        if self.tls {
            format!("https://127.0.0.1:{}", self.ports.https)
        } else {
            format!("http://127.0.0.1:{}", self.ports.http)
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base())
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// One client: optional bearer token, or a cookie jar + CSRF token after `login`.
pub struct Client {
    pub base: String,
    pub token: Option<String>,
    pub csrf: Option<String>,
    jar: tempfile::NamedTempFile,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            base: base.to_string(),
            token: None,
            csrf: None,
            jar: tempfile::NamedTempFile::new().expect("cookie jar"),
        }
    }

    pub fn with_token(base: &str, token: &str) -> Client {
        let mut c = Client::new(base);
        c.token = Some(token.to_string());
        c
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None, &[])
    }

    pub fn send_json(&self, method: &str, path: &str, body: &serde_json::Value) -> Reply {
        self.request(
            method,
            path,
            Some(("application/json", body.to_string().as_bytes())),
            &[],
        )
    }

    /// A JSON merge patch (RFC 7396), as the channel endpoints take it.
    pub fn merge_patch(&self, path: &str, patch: &serde_json::Value) -> Reply {
        self.request(
            "PATCH",
            path,
            Some(("application/merge-patch+json", patch.to_string().as_bytes())),
            &[],
        )
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, &[u8])>,
        headers: &[&str],
    ) -> Reply {
        let head = tempfile::NamedTempFile::new().expect("header file");
        let jar = self.jar.path().to_str().unwrap_or_default().to_string();
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-k", "--max-time", "20", "-X", method])
            .args(["-b", &jar, "-c", &jar])
            .args(["-D", head.path().to_str().unwrap_or_default()])
            .args(["-w", "\n%{http_code}"]);
        if let Some(t) = &self.token {
            cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
        }
        if let Some(c) = &self.csrf {
            cmd.args(["-H", &format!("X-CSRF-Token: {c}")]);
        }
        for h in headers {
            cmd.args(["-H", h]);
        }
        if let Some((content_type, _)) = body {
            cmd.args([
                "-H",
                &format!("Content-Type: {content_type}"),
                "--data-binary",
                "@-",
            ]);
        }
        cmd.arg(format!("{}{path}", self.base));
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run curl");
        if let (Some((_, bytes)), Some(mut stdin)) = (body, child.stdin.take()) {
            let _ = stdin.write_all(bytes);
        }
        let out = child.wait_with_output().expect("curl output");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "000"));
        let status = code.trim().parse().unwrap_or(0);
        Reply {
            status,
            headers: std::fs::read_to_string(head.path()).unwrap_or_default(),
            // No HTTP status: keep curl's own error, so a failure says why.
            body: if status == 0 {
                String::from_utf8_lossy(&out.stderr).to_string()
            } else {
                body.to_string()
            },
        }
    }

    /// Logs in with the cookie session and keeps its CSRF token.
    pub fn login(&mut self, user: &str, password: &str) -> Reply {
        let reply = self.send_json(
            "POST",
            "/api/v1/login",
            &serde_json::json!({"username": user, "password": password}),
        );
        if reply.status == 200 {
            self.csrf = reply.json()["csrf_token"].as_str().map(str::to_string);
        }
        reply
    }
}

pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// The one-time setup code from the log.
pub fn setup_code(appliance: &Appliance) -> String {
    let line = appliance
        .wait_for_log(&["setup_code="], Duration::from_secs(20))
        .unwrap_or_else(|| panic!("no setup code logged:\n{}", appliance.log()));
    line.split("setup_code=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .map(str::to_string)
        .unwrap_or_default()
}

/// Waits for the API to answer its health endpoint.
pub fn wait_ready(client: &Client, appliance: &Appliance, timeout: Duration) {
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if client.get("/api/v1/health").status == 200 {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("API not ready in {timeout:?}:\n{}", appliance.log());
}

/// First start: setup with the logged code, then an admin API token. Returns (token client,
/// cookie client logged in as admin).
pub fn set_up_admin(b: &Deployment, appliance: &Appliance) -> (Client, Client) {
    let mut browser = b.client();
    wait_ready(&browser, appliance, Duration::from_secs(20));
    let code = setup_code(appliance);
    let reply = browser.send_json(
        "POST",
        "/api/v1/setup",
        &serde_json::json!({"code": code, "username": "admin", "password": ADMIN_PASSWORD}),
    );
    assert_eq!(reply.status, 201, "setup: {reply:?}");
    browser.csrf = reply.json()["csrf_token"].as_str().map(str::to_string);
    let reply = browser.send_json(
        "POST",
        "/api/v1/tokens",
        &serde_json::json!({"name": "test-automation", "role": "admin"}),
    );
    assert_eq!(reply.status, 201, "token: {reply:?}");
    let token = reply.json()["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (Client::with_token(&b.base(), &token), browser)
}

/// The frames `rendition` of the first channel has dropped so far, as its status reports them.
pub fn dropped_frames(client: &Client, rendition: &str) -> u64 {
    let status = client.get("/api/v1/status").json();
    status["channels"][0]["renditions"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == rendition))
        .and_then(|r| r["dropped_frames"].as_u64())
        .unwrap_or_else(|| panic!("no {rendition} in the status: {status}"))
}

/// The first channel's first output's `delay_from_capture_ms` in a status snapshot, in seconds.
pub fn delay_from_capture_s(status: &serde_json::Value) -> Option<f64> {
    status["channels"][0]["outputs"][0]["delay_from_capture_ms"]
        .as_f64()
        .map(|ms| ms / 1000.0)
}

/// Runs a command and returns (success, stdout+stderr).
pub fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("run command");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The appliance's metrics as Prometheus scrapes them (`token` for a protected endpoint),
/// after `promtool check metrics` accepted them.
pub fn scrape_checked_metrics(ports: ServerPorts, token: Option<&str>) -> String {
    let url = format!("http://127.0.0.1:{}/metrics", ports.metrics);
    let mut curl = Command::new("curl");
    curl.arg("-sS");
    if let Some(token) = token {
        curl.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    let scrape = curl.arg(&url).output().expect("curl");
    let text = String::from_utf8_lossy(&scrape.stdout).to_string();
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    promtool
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = promtool.wait_with_output().expect("promtool");
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}\n---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The value of the series `series` (name and labels, as exposed) in a metrics scrape.
pub fn metric_value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{series} missing:\n{metrics}"))
}
