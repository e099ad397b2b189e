//! Issue #6 §5: the Yocto layer. It cannot be built here (no Yocto build host), so CI checks what
//! can be checked: every recipe and append passes `oelint-adv` for scarthgap with no finding at
//! all (one rule suppressed, see below), the fetch lists are in sync with the project's lock
//! files, and the layer carries the pieces the appliance needs. A broken recipe must be reported,
//! so the lint can fail.

use feedline_tests::api::run;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn layer() -> PathBuf {
    root().join("yocto/meta-feedline")
}

fn oelint() -> PathBuf {
    let tool = root().join(".venv-tools/bin/oelint-adv");
    assert!(
        tool.exists(),
        "oelint-adv is not installed: run scripts/setup.sh (it installs every test tool)"
    );
    tool
}

fn recipes(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("layer dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            recipes(&path, found);
        } else if path
            .extension()
            .is_some_and(|e| e == "bb" || e == "bbappend")
        {
            found.push(path);
        }
    }
}

/// `oelint-adv` on `files` as CI runs it. `oelint.var.bbclassextend` is suppressed: the daemon
/// is a target-only appliance service, a native variant of it would be meaningless.
fn lint(files: &[PathBuf]) -> (bool, String) {
    run(Command::new(oelint())
        .args([
            "--quiet",
            "--release",
            "scarthgap",
            "--suppress",
            "oelint.var.bbclassextend",
        ])
        .args(files))
}

#[test]
fn every_recipe_lints_clean_and_a_broken_one_does_not() {
    let mut files = Vec::new();
    recipes(&layer(), &mut files);
    files.sort();
    assert!(files.len() >= 5, "recipes found: {files:?}");
    let (ok, output) = lint(&files);
    assert!(ok && output.trim().is_empty(), "oelint-adv:\n{output}");

    let dir = tempfile::tempdir().expect("tempdir");
    let recipe =
        std::fs::read_to_string(layer().join("recipes-feedline/feedline/feedline_0.1.0.bb"))
            .expect("recipe");
    let broken = dir.path().join("feedline_0.1.0.bb");
    std::fs::write(
        &broken,
        recipe.replace("LICENSE = \"MIT | Apache-2.0\"\n", ""),
    )
    .expect("copy");
    std::fs::copy(
        layer().join("recipes-feedline/feedline/feedline-crates.inc"),
        dir.path().join("feedline-crates.inc"),
    )
    .expect("crates.inc");
    let (_, output) = lint(&[broken]);
    assert!(
        output.contains("LICENSE"),
        "a recipe without LICENSE went unnoticed:\n{output}"
    );
}

#[test]
fn fetch_lists_match_the_lock_files() {
    let (ok, output) = run(Command::new("python3")
        .arg(root().join("scripts/yocto-sources.py"))
        .arg("--check"));
    assert!(ok, "{output}");
    let crates =
        std::fs::read_to_string(layer().join("recipes-feedline/feedline/feedline-crates.inc"))
            .expect("crates.inc");
    assert!(
        crates.contains("crate://crates.io/gstreamer/"),
        "no gstreamer crate"
    );
}

#[test]
fn the_layer_carries_the_appliance() {
    let read = |p: &str| std::fs::read_to_string(layer().join(p)).unwrap_or_else(|_| panic!("{p}"));
    let conf = read("conf/layer.conf");
    assert!(conf.contains("LAYERSERIES_COMPAT_feedline"), "{conf}");
    let recipe = read("recipes-feedline/feedline/feedline_0.1.0.bb");
    for piece in [
        "inherit cargo",
        "feedline.service",
        "60-feedline.rules",
        "FEEDLINE_UI_DIST",
        "--groups video,render",
    ] {
        assert!(recipe.contains(piece), "feedline recipe lacks {piece}");
    }
    let image = read("recipes-feedline/images/feedline-image.bb");
    for piece in [
        "feedline",
        "linuxptp",
        "gstreamer1.0-plugins-good-meta",
        "rauc",
    ] {
        assert!(image.contains(piece), "image lacks {piece}");
    }
    let kernel = read("recipes-kernel/linux/linux-yocto/feedline-media.cfg");
    for option in [
        "CONFIG_VIDEO_DEV=y",
        "CONFIG_VIDEO_VIVID=m",
        "CONFIG_PTP_1588_CLOCK=y",
    ] {
        assert!(kernel.contains(option), "kernel fragment lacks {option}");
    }
    let rauc = read("recipes-core/rauc/files/system.conf");
    assert!(
        rauc.contains("[slot.rootfs.0]") && rauc.contains("[slot.rootfs.1]"),
        "RAUC needs an A and a B slot: {rauc}"
    );
}
