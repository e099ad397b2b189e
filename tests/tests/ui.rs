//! Issue #4: the browser UI, in Debian's Chromium driven by playwright-core, against the real
//! daemon (fresh store, no channels). The scenarios themselves are in `web-ui/e2e/ui.mjs`;
//! screenshots and the heap report land in `target/ui-artifacts/`.

use feedline_tests::api::{setup_code, wait_ready, Deployment, ServerPorts};
use feedline_tests::{free_port, require_tool};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

#[test]
fn browser_scenarios_pass_in_real_chromium() {
    require_tool("node");
    require_tool("chromium");
    require_tool("ffprobe");
    require_tool("srt-live-transmit");
    require_tool("openssl");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    assert!(
        root.join("web-ui/node_modules/playwright-core").is_dir(),
        "web-ui's packages are not installed: run scripts/setup.sh (npm ci in web-ui/)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let ports = ServerPorts::pick();
    // As the appliance ships: HTTPS with its self-signed certificate (the browser is told to
    // accept it; the test then installs a certificate of its own through the UI).
    let d = Deployment::new(dir.path(), ports, true, &ports.toml(true, ""));
    let appliance = d.start();
    wait_ready(&d.client(), &appliance, Duration::from_secs(20));
    let code = setup_code(&appliance);
    let artifacts = root.join("target/ui-artifacts");
    let status = Command::new("node")
        .arg("web-ui/e2e/ui.mjs")
        .current_dir(&root)
        .env("FEEDLINE_URL", d.base())
        .env("SETUP_CODE", &code)
        .env("SRT_PORT", free_port().to_string())
        .env("ARTIFACTS", &artifacts)
        .env("WORK_DIR", dir.path())
        // The editor shows the appliance's defaults from a copy of its own; this ties the copy
        // to the source.
        .env(
            "FAILOVER_NO_DATA_MS",
            feedline_config::Failover::default().no_data_ms.to_string(),
        )
        .status()
        .expect("run node");
    assert!(
        status.success(),
        "browser scenarios failed (screenshots in {}); appliance log:\n{}",
        artifacts.display(),
        appliance.log()
    );
}
