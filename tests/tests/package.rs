//! Issue #6 §4: the Debian package, built with cargo-deb from the binary built here (the test
//! packages the debug build; a release is `cargo deb -p feedline`). It must declare its run-time
//! dependencies, carry the binary (with the UI inside), the units, the default config and the
//! sysusers/tmpfiles files, and be installable on this Debian 12 (`dpkg --dry-run -i`). Its
//! files are checked as installed: the packaged config passes the packaged binary's
//! `check-config`, the packaged units pass `systemd-analyze verify`.

use feedline_tests::api::run;
use feedline_tests::require_tool;
use feedline_tests::units;
use feedline_tests::vm::build_deb;

use std::process::Command;

#[test]
fn the_deb_declares_its_dependencies_carries_the_appliance_and_installs_here() {
    require_tool("cargo-deb");
    require_tool("dpkg-deb");
    require_tool("systemd-analyze");
    let dir = tempfile::tempdir().expect("tempdir");
    let deb = build_deb(dir.path());

    let (ok, info) = run(Command::new("dpkg-deb").arg("-f").arg(&deb).arg("Depends"));
    assert!(ok, "{info}");
    for dependency in [
        "gstreamer1.0-plugins-base",
        "gstreamer1.0-plugins-good",
        "gstreamer1.0-plugins-bad",
        "gstreamer1.0-plugins-ugly",
        "gstreamer1.0-libav",
        "libsrt1.5-gnutls",
        "linuxptp",
        "systemd",
        "libgstreamer1.0-0",
        // The ladder's scaler links libswscale (appliance/swscale): dpkg-shlibdeps must find it.
        "libswscale6",
    ] {
        assert!(
            info.contains(dependency),
            "Depends lacks {dependency}: {info}"
        );
    }

    let (ok, listing) = run(Command::new("dpkg-deb").arg("-c").arg(&deb));
    assert!(ok, "{listing}");
    for path in [
        "./usr/bin/feedline",
        "./etc/feedline/feedline.toml",
        "./etc/feedline/ptp4l.conf",
        "./usr/lib/systemd/system/feedline.service",
        "./usr/lib/systemd/system/feedline-ptp4l.service",
        "./usr/lib/systemd/system/feedline-phc2sys.service",
        "./usr/lib/systemd/system/feedline-console.service",
        "./usr/lib/feedline/show-setup-code",
        "./usr/lib/sysusers.d/feedline.conf",
        "./usr/lib/tmpfiles.d/feedline.conf",
        "./usr/lib/udev/rules.d/60-feedline.rules",
        "./usr/share/feedline/prometheus/feedline-alerts.yml",
    ] {
        assert!(
            listing.lines().any(|l| l.ends_with(path)),
            "{path} not in the package:\n{listing}"
        );
    }
    let (ok, conffiles) = run(Command::new("dpkg-deb")
        .arg("-I")
        .arg(&deb)
        .arg("conffiles"));
    assert!(
        ok && conffiles.contains("/etc/feedline/feedline.toml"),
        "{conffiles}"
    );
    let (ok, postinst) = run(Command::new("dpkg-deb").arg("-I").arg(&deb).arg("postinst"));
    assert!(ok, "{postinst}");
    for step in [
        "systemd-sysusers",
        "systemd-tmpfiles --create",
        "deb-systemd-helper",
    ] {
        assert!(
            postinst.contains(step),
            "postinst lacks {step}:\n{postinst}"
        );
    }

    // Installable on this machine: every declared dependency is satisfiable.
    let (ok, dry) = run(Command::new("dpkg").arg("--dry-run").arg("-i").arg(&deb));
    assert!(ok, "dpkg --dry-run -i: {dry}");

    // The files as they would be installed work together.
    let root = dir.path().join("root");
    let (ok, output) = run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    assert!(ok, "{output}");
    let binary = root.join("usr/bin/feedline");
    let (ok, output) = run(Command::new(&binary)
        .arg("check-config")
        .arg(root.join("etc/feedline/feedline.toml")));
    assert!(ok, "packaged config vs packaged binary: {output}");
    let unit_dir = root.join("usr/lib/systemd/system");
    let packaged_units: Vec<_> = [
        "feedline",
        "feedline-ptp4l",
        "feedline-phc2sys",
        "feedline-console",
    ]
    .iter()
    .map(|u| unit_dir.join(format!("{u}.service")))
    .collect();
    if let Err(complaint) = units::verify_with_binary(
        &packaged_units,
        &binary,
        &root.join("usr/lib/feedline"),
        dir.path(),
    ) {
        panic!("{complaint}");
    }
}
