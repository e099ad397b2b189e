//! The Prometheus alerting rules shipped for remote monitoring
//! (`packaging/prometheus/feedline-alerts.yml`) load in Prometheus and fire when they should:
//! promtool checks them and runs their unit tests (`feedline-alerts.test.yml`: for each rule,
//! when it fires, when its `for:` holds it back, and a look-alike it must ignore). That every
//! metric they read exists is checked against a running appliance in `api_live`.

use feedline_tests::require_tool;
use std::path::PathBuf;
use std::process::Command;

fn rules_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../packaging/prometheus")
}

fn promtool(args: &[&str]) -> String {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(rules_dir())
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}:\n{text}");
    text
}

#[test]
fn the_shipped_alert_rules_load_and_pass_their_promtool_tests() {
    require_tool("promtool");
    let checked = promtool(&["check", "rules", "feedline-alerts.yml"]);
    assert!(checked.contains("SUCCESS: 11 rules found"), "{checked}");
    let tested = promtool(&["test", "rules", "feedline-alerts.test.yml"]);
    assert!(tested.contains("SUCCESS"), "{tested}");
}
