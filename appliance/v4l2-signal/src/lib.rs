//! Signal detection on V4L2 HDMI/SDI capture inputs through DV timings: what a receiver chip
//! locked to (`1920x1080p60`), or why it locked to nothing (no signal, no lock, out of range).
//!
//! The `v4l` crate has no DV-timings calls and its bindings need libclang at build time, so the
//! three ioctls (`VIDIOC_QUERY_DV_TIMINGS`, `VIDIOC_G_DV_TIMINGS`, `VIDIOC_S_DV_TIMINGS`) are
//! made here on a buffer of the kernel structure's exact size, decoded field by field.

mod ioctl;
mod timings;

pub use timings::DvTimings;

use std::io;
use std::path::Path;

/// What an HDMI/SDI input sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// The receiver locked to a format.
    Locked(DvTimings),
    /// Nothing on the cable (`ENOLINK`).
    NoSignal,
    /// Something there, but the receiver cannot lock to it (`ENOLCK`).
    NoLock,
    /// A signal the receiver cannot capture: too fast, too large (`ERANGE`).
    OutOfRange,
}

impl Signal {
    /// What is wrong, in the operator's words: `no signal`, `no lock`, `out of range`; `None`
    /// when locked.
    pub fn fault(&self) -> Option<&'static str> {
        match self {
            Signal::Locked(_) => None,
            Signal::NoSignal => Some("no signal"),
            Signal::NoLock => Some("no lock"),
            Signal::OutOfRange => Some("out of range"),
        }
    }

    /// The detected format (`1920x1080p60`) or the fault.
    pub fn describe(&self) -> String {
        match (self, self.fault()) {
            (Signal::Locked(t), _) => t.to_string(),
            (_, fault) => fault.unwrap_or_default().to_string(),
        }
    }

    pub fn timings(&self) -> Option<&DvTimings> {
        match self {
            Signal::Locked(t) => Some(t),
            _ => None,
        }
    }
}

/// The signal on the device's current input; `Ok(None)` when that input has no DV timings (a
/// webcam, an analogue input, a driver without them).
pub fn query(device: &Path) -> io::Result<Option<Signal>> {
    let file = ioctl::open(device)?;
    match ioctl::query_dv_timings(&file) {
        Ok(raw) => Ok(Some(Signal::Locked(DvTimings::decode(&raw)))),
        Err(e) => classify(e),
    }
}

/// Queries the signal and, when it is locked to a format other than the one the device is set
/// to capture, sets the device to it (what a capture application must do before streaming: the
/// driver captures the timings it was set to, not the ones it detects). Fails with `EBUSY` while
/// the device streams.
pub fn adopt(device: &Path) -> io::Result<Option<Signal>> {
    let file = ioctl::open(device)?;
    let detected = match ioctl::query_dv_timings(&file) {
        Ok(raw) => raw,
        Err(e) => return classify(e),
    };
    let current = ioctl::get_dv_timings(&file)?;
    if current != detected {
        match ioctl::set_dv_timings(&file, &detected) {
            // Streaming elsewhere: the format cannot change under it; opening will say so.
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
            other => other?,
        }
    }
    Ok(Some(Signal::Locked(DvTimings::decode(&detected))))
}

fn classify(e: io::Error) -> io::Result<Option<Signal>> {
    match e.raw_os_error() {
        Some(libc::ENOLINK) => Ok(Some(Signal::NoSignal)),
        Some(libc::ENOLCK) => Ok(Some(Signal::NoLock)),
        Some(libc::ERANGE) => Ok(Some(Signal::OutOfRange)),
        Some(libc::ENOTTY | libc::ENODATA | libc::EINVAL) => Ok(None),
        _ => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_that_is_not_a_device_is_an_error_not_a_signal() {
        assert!(query(Path::new("/nonexistent/video0")).is_err());
        // A regular file answers the ioctl with ENOTTY: no DV timings there.
        let file = std::env::temp_dir().join(format!("feedline-v4l2-{}", std::process::id()));
        std::fs::write(&file, b"not a device").expect("temp file");
        assert_eq!(query(&file).expect("ENOTTY is not an error"), None);
        let _ = std::fs::remove_file(&file);
    }

    #[test]
    fn faults_are_named_as_an_operator_reads_them() {
        assert_eq!(Signal::NoSignal.describe(), "no signal");
        assert_eq!(Signal::NoLock.describe(), "no lock");
        assert_eq!(Signal::OutOfRange.describe(), "out of range");
        let errno = |n| classify(io::Error::from_raw_os_error(n)).expect("classified");
        assert_eq!(errno(libc::ENOLINK), Some(Signal::NoSignal));
        assert_eq!(errno(libc::ENOLCK), Some(Signal::NoLock));
        assert_eq!(errno(libc::ERANGE), Some(Signal::OutOfRange));
        assert_eq!(errno(libc::ENOTTY), None);
        assert!(classify(io::Error::from_raw_os_error(libc::EIO)).is_err());
    }
}
