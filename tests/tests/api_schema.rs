//! Issue #3 §8: schemathesis (PyPI) generates requests from the served OpenAPI document and
//! checks every response: no server error, status codes, content types, headers and bodies as
//! documented, invalid data rejected, auth not ignored. Zero failures, and the process survives.
//!
//! One check is left out: `positive_data_acceptance` expects every schema-valid body to be
//! accepted, but a configuration has rules JSON Schema cannot state (ladder rungs no larger than
//! the input, ports unique across outputs, GOP length and frame-rate relations, an existing V4L2
//! device…). Those bodies are rightly answered 422 naming the field.

use feedline_tests::api::{set_up_admin, Deployment};
use feedline_tests::{free_port, srt_output};
use std::path::PathBuf;
use std::process::Command;

fn schemathesis() -> PathBuf {
    let path = std::env::var_os("FEEDLINE_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv-tools/bin/schemathesis")
        });
    assert!(
        path.exists(),
        "schemathesis not found at {}: run scripts/setup.sh (it installs it from PyPI)",
        path.display()
    );
    path
}

#[test]
fn schemathesis_finds_no_server_errors_and_no_contract_violations() {
    let st = schemathesis();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = Deployment::two_rung(
        dir.path(),
        false,
        "",
        &srt_output("primary", "listener", free_port(), ""),
    );
    let mut appliance = d.start();
    let (admin, _) = set_up_admin(&d, &appliance);
    let token = admin.token.clone().unwrap_or_default();
    let out = Command::new(&st)
        .args(["run", &format!("{}/api/v1/openapi.json", d.base())])
        .args([
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
        ])
        .args([
            "--max-examples",
            "20",
            "--workers",
            "1",
            "--seed",
            "20261122",
        ])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        // An endless stream: covered by the live-status test.
        .args(["--exclude-path", "/api/v1/status/stream"])
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .output()
        .expect("run schemathesis");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: String = report
        .lines()
        .skip_while(|l| !l.contains("SUMMARY"))
        .collect::<Vec<_>>()
        .join("\n");
    eprintln!("{summary}");
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}"
    );
    assert!(!report.contains("Server error"), "{report}");
    assert!(
        appliance.is_running(),
        "the daemon survived:\n{}",
        appliance.log()
    );
    assert!(!appliance.log().contains("panicked"), "{}", appliance.log());
}
