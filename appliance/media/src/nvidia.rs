//! Why this box has no NVIDIA encoder, in words an engineer can act on.
//!
//! GStreamer's nvcodec plugin registers `nvh264enc` only when libcuda and the driver's encode
//! library load and a GPU opens an NVENC session; when any of that fails it registers nothing
//! and says nothing. "No device or driver" is then wrong half the time: data-centre GPUs (A100,
//! H100) have a driver and decoders (NVDEC) but no NVENC engine, and a box can have a GPU whose
//! driver lacks its encode library. The driver's `/proc` files and the libraries tell which.

use std::path::Path;

/// The libraries nvcodec opens, as it names them.
pub const CUDA_LIBRARY: &str = "libcuda.so.1";
pub const ENCODE_LIBRARY: &str = "libnvidia-encode.so.1";

/// Why no NVENC encoder was registered, from the driver's files under `proc` (normally
/// `/proc`) and whether each library is `found`.
pub fn why_no_nvenc(proc: &Path, found: impl Fn(&str) -> bool) -> String {
    let driver = proc.join("driver/nvidia");
    let Ok(version) = std::fs::read_to_string(driver.join("version")) else {
        return "no NVIDIA driver is loaded (no /proc/driver/nvidia)".into();
    };
    let version = driver_version(&version).unwrap_or("of unknown version");
    let models = gpu_models(&driver.join("gpus"));
    if models.is_empty() {
        return format!("the NVIDIA driver {version} is loaded but lists no GPU");
    }
    let gpus = described(&models);
    if !found(CUDA_LIBRARY) {
        return format!(
            "{gpus} (driver {version}) found, but {CUDA_LIBRARY} is not installed: install the \
             driver's CUDA library (Debian package libcuda1)"
        );
    }
    if !found(ENCODE_LIBRARY) {
        return format!(
            "{gpus} (driver {version}) found, but {ENCODE_LIBRARY} is not installed: install the \
             driver's encode library (Debian package libnvidia-encode1)"
        );
    }
    format!(
        "{gpus} (driver {version}) found with its encode library, but no NVENC session opened: \
         this GPU has no NVENC engine (data-centre GPUs such as the A100 and H100 have none), \
         or all its encode sessions are in use"
    )
}

/// `NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.159.04  Tue …` → `580.159.04`.
fn driver_version(text: &str) -> Option<&str> {
    text.lines()
        .next()?
        .split_whitespace()
        .find(|word| word.contains('.') && word.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `NVIDIA H100 80GB HBM3`, `2 × NVIDIA L4`, `NVIDIA L4, NVIDIA A100-SXM4-40GB`.
fn described(models: &[String]) -> String {
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for model in models {
        match kinds.iter_mut().find(|(m, _)| m == model) {
            Some((_, n)) => *n += 1,
            None => kinds.push((model, 1)),
        }
    }
    kinds
        .iter()
        .map(|(model, n)| match n {
            1 => model.to_string(),
            n => format!("{n} × {model}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `Model:` line of each GPU's `information` file, in bus order.
fn gpu_models(gpus: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(gpus) else {
        return Vec::new();
    };
    let mut buses: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    buses.sort();
    buses
        .iter()
        .filter_map(|bus| std::fs::read_to_string(bus.join("information")).ok())
        .map(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("Model:"))
                .map_or_else(|| "an NVIDIA GPU".to_string(), |m| m.trim().to_string())
        })
        .collect()
}

/// Whether the dynamic linker would find `library`, where nvcodec's `dlopen` looks: the
/// directories of `LD_LIBRARY_PATH`, the linker's cache (`ldconfig -p`), the default
/// directories. (Found is not loaded: a library for another driver version can still refuse.)
pub fn library_found(library: &str) -> bool {
    let search_path = std::env::var("LD_LIBRARY_PATH").unwrap_or_default();
    let in_dirs = search_path
        .split(':')
        .filter(|d| !d.is_empty())
        .chain(["/lib", "/usr/lib", "/lib64", "/usr/lib64"])
        .any(|dir| Path::new(dir).join(library).exists());
    in_dirs || linker_cache_lists(library)
}

/// Whether `ldconfig -p` lists `library` (`\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/…`).
fn linker_cache_lists(library: &str) -> bool {
    ["/sbin/ldconfig", "ldconfig"].iter().any(|ldconfig| {
        std::process::Command::new(ldconfig)
            .arg("-p")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .is_some_and(|o| cache_lists(&String::from_utf8_lossy(&o.stdout), library))
    })
}

fn cache_lists(listing: &str, library: &str) -> bool {
    listing
        .lines()
        .any(|line| line.split_whitespace().next() == Some(library))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `/proc` with the driver's files as an H100 box shows them.
    fn proc_with(gpus: &[(&str, &str)]) -> tempfile::TempDir {
        let proc = tempfile::tempdir().expect("tempdir");
        let driver = proc.path().join("driver/nvidia");
        std::fs::create_dir_all(driver.join("gpus")).expect("dirs");
        std::fs::write(
            driver.join("version"),
            "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  \
             (dvs-builder@U22-I3-AM02-24-3)  Thu Oct 23 2025\nGCC version:  gcc version 12.2.0\n",
        )
        .expect("version");
        for (bus, model) in gpus {
            let dir = driver.join("gpus").join(bus);
            std::fs::create_dir_all(&dir).expect("gpu dir");
            std::fs::write(
                dir.join("information"),
                format!("Model: \t\t {model}\nIRQ:   \t\t 35\nGPU UUID: \t GPU-0\nBus Location: \t {bus}\n"),
            )
            .expect("information");
        }
        proc
    }

    #[test]
    fn without_the_driver_it_says_so() {
        let proc = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            why_no_nvenc(proc.path(), |_| true),
            "no NVIDIA driver is loaded (no /proc/driver/nvidia)"
        );
    }

    #[test]
    fn a_driver_without_a_gpu() {
        let proc = proc_with(&[]);
        assert_eq!(
            why_no_nvenc(proc.path(), |_| true),
            "the NVIDIA driver 580.159.04 is loaded but lists no GPU"
        );
    }

    #[test]
    fn a_missing_library_is_named_with_its_package() {
        let proc = proc_with(&[("0000:01:00.0", "NVIDIA RTX A4000")]);
        let without_encode = why_no_nvenc(proc.path(), |l| l == CUDA_LIBRARY);
        assert_eq!(
            without_encode,
            "NVIDIA RTX A4000 (driver 580.159.04) found, but libnvidia-encode.so.1 is not \
             installed: install the driver's encode library (Debian package libnvidia-encode1)"
        );
        let without_cuda = why_no_nvenc(proc.path(), |_| false);
        assert!(
            without_cuda.contains("libcuda.so.1 is not installed"),
            "{without_cuda}"
        );
    }

    #[test]
    fn a_gpu_without_nvenc_is_named() {
        let proc = proc_with(&[
            ("0000:2a:00.0", "NVIDIA H100 80GB HBM3"),
            ("0000:18:00.0", "NVIDIA H100 80GB HBM3"),
        ]);
        assert_eq!(
            why_no_nvenc(proc.path(), |_| true),
            "2 × NVIDIA H100 80GB HBM3 (driver 580.159.04) found with its \
             encode library, but no NVENC session opened: this GPU has no NVENC engine \
             (data-centre GPUs such as the A100 and H100 have none), or all its encode sessions \
             are in use"
        );
    }

    #[test]
    fn the_c_library_is_found_and_a_made_up_one_is_not() {
        assert!(library_found("libc.so.6"));
        assert!(!library_found("libfeedline-no-such-library.so.1"));
    }

    #[test]
    fn the_linker_cache_listing_is_read_by_name() {
        let listing = "3 libs found in cache `/etc/ld.so.cache'\n\
            \tlibnvidia-encode.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libnvidia-encode.so.1\n\
            \tlibcuda.so (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so\n";
        assert!(cache_lists(listing, ENCODE_LIBRARY));
        assert!(
            !cache_lists(listing, CUDA_LIBRARY),
            "libcuda.so is not libcuda.so.1"
        );
    }
}
