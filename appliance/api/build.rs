//! Embeds the built web UI (`web-ui/dist`, made by `npm run build`) into the binary, so one file
//! serves everything. Without a build the binary still compiles and its UI route explains how to
//! build the UI.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    // A distribution build (the Yocto recipe) hands over a UI built elsewhere.
    println!("cargo:rerun-if-env-changed=FEEDLINE_UI_DIST");
    let dist = std::env::var_os("FEEDLINE_UI_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../web-ui/dist"));
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files = Vec::new();
    if dist.is_dir() {
        collect(&dist, &dist, &mut files);
    }
    files.sort();
    let mut code = String::from(
        "/// (path below the UI root, contents)\npub static UI_FILES: &[(&str, &[u8])] = &[\n",
    );
    for (relative, absolute) in &files {
        code.push_str(&format!(
            "    ({relative:?}, include_bytes!({absolute:?})),\n"
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("ui_files.rs");
    std::fs::write(out, code).expect("write ui_files.rs");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let absolute = path.canonicalize().unwrap_or(path.clone());
            files.push((
                relative.to_string_lossy().replace('\\', "/"),
                absolute.to_string_lossy().to_string(),
            ));
        }
    }
}
