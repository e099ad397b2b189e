//! Issue #6 §2: the udev rules parse. `udevadm test` reads every rules file and names each bad
//! line (`file:line Invalid key …`); it runs in a private mount namespace whose
//! /etc/udev/rules.d holds only our rules, so the machine's own udev setup is never touched.
//! A broken copy of the rules must be reported, so the check can fail.

use feedline_tests::require_tool;
use std::path::Path;
use std::process::Command;

/// `udevadm test` output with `rules_dir` mounted over /etc/udev/rules.d.
fn udevadm_test_with(rules_dir: &Path) -> String {
    let script = format!(
        "mount --bind '{}' /etc/udev/rules.d && udevadm test /sys/class/net/lo 2>&1",
        rules_dir.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output()
        .expect("unshare");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn problems(output: &str, file: &str) -> Vec<String> {
    output
        .lines()
        .filter(|l| l.starts_with(&format!("/etc/udev/rules.d/{file}:")))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_rules_parse_without_a_complaint_and_a_broken_copy_is_caught() {
    require_tool("udevadm");
    require_tool("unshare");
    let rules = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../udev/60-feedline.rules"),
    )
    .expect("udev/60-feedline.rules");
    for needle in [
        "SUBSYSTEM==\"video4linux\", GROUP=\"video\"",
        "SUBSYSTEM==\"blackmagic\"",
        "KERNEL==\"nvidia*\"",
        "KERNEL==\"renderD*\", GROUP=\"render\"",
        "feedline/capture/by-serial/",
    ] {
        assert!(rules.contains(needle), "rules lack {needle}");
    }

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("60-feedline.rules"), &rules).expect("copy");
    let output = udevadm_test_with(dir.path());
    assert!(
        output.contains("Reading rules file: /etc/udev/rules.d/60-feedline.rules"),
        "udevadm did not read the rules:\n{output}"
    );
    let found = problems(&output, "60-feedline.rules");
    assert!(found.is_empty(), "udevadm complains: {found:#?}");

    let broken = rules.replacen("MODE=\"0660\"", "MODEE=\"0660\"", 1);
    std::fs::write(dir.path().join("60-feedline.rules"), broken).expect("broken copy");
    let found = problems(&udevadm_test_with(dir.path()), "60-feedline.rules");
    assert!(
        found.iter().any(|l| l.contains("Invalid key 'MODEE'")),
        "a broken rule went unnoticed: {found:#?}"
    );
}
