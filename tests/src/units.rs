//! Checking systemd units the way systemd would load them.

use crate::api::run;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `systemd-analyze verify` on each of `units`, copied together into `scratch` (so units that
/// name each other find each other) with `/usr/bin/feedline` replaced by `binary` and
/// `/usr/lib/feedline/` by `helpers` (verify requires every ExecStart program to exist; tests run
/// the ones here). `Err` names the first unit verify complains about, with what it printed.
pub fn verify_with_binary(
    units: &[PathBuf],
    binary: &Path,
    helpers: &Path,
    scratch: &Path,
) -> Result<(), String> {
    let copies: Vec<PathBuf> = units
        .iter()
        .map(|unit| {
            let text =
                std::fs::read_to_string(unit).unwrap_or_else(|_| panic!("{}", unit.display()));
            let copy = scratch.join(unit.file_name().expect("unit file name"));
            std::fs::write(
                &copy,
                text.replace("/usr/bin/feedline", &binary.display().to_string())
                    .replace("/usr/lib/feedline/", &format!("{}/", helpers.display())),
            )
            .expect("write unit copy");
            copy
        })
        .collect();
    for copy in &copies {
        let (ok, output) = run(Command::new("systemd-analyze").arg("verify").arg(copy));
        if !ok || !output.trim().is_empty() {
            return Err(format!("{}: {output}", copy.display()));
        }
    }
    Ok(())
}
