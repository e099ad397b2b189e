//! The three DV-timings ioctls, on `struct v4l2_dv_timings` held as its 132 raw bytes
//! (`linux/videodev2.h`: a packed `__u32 type` and a 128-byte union).
#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// `sizeof(struct v4l2_dv_timings)`.
pub const DV_TIMINGS_SIZE: usize = 132;
pub type RawTimings = [u8; DV_TIMINGS_SIZE];

/// `_IOC(dir, 'V', nr, 132)` as `linux/ioctl.h` builds it.
const fn request(dir: u32, nr: u32) -> u32 {
    (dir << 30) | ((DV_TIMINGS_SIZE as u32) << 16) | ((b'V' as u32) << 8) | nr
}
const IOC_READ: u32 = 2;
const IOC_READ_WRITE: u32 = 3;
pub const VIDIOC_S_DV_TIMINGS: u32 = request(IOC_READ_WRITE, 87);
pub const VIDIOC_G_DV_TIMINGS: u32 = request(IOC_READ_WRITE, 88);
pub const VIDIOC_QUERY_DV_TIMINGS: u32 = request(IOC_READ, 99);

/// Opened non-blocking: querying never waits on a streaming capture.
pub fn open(device: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(device)
}

fn call(file: &File, request: u32, timings: &mut RawTimings) -> io::Result<()> {
    // SAFETY: every request here is defined with a `struct v4l2_dv_timings` argument, which is
    // exactly DV_TIMINGS_SIZE bytes; the kernel reads and writes only within that buffer, which
    // lives across the call. The descriptor is open for the duration of the borrow.
    let rc = unsafe {
        libc::ioctl(
            file.as_raw_fd(),
            request as libc::Ioctl,
            timings.as_mut_ptr().cast::<libc::c_void>(),
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

pub fn query_dv_timings(file: &File) -> io::Result<RawTimings> {
    let mut t = [0u8; DV_TIMINGS_SIZE];
    call(file, VIDIOC_QUERY_DV_TIMINGS, &mut t)?;
    Ok(t)
}

pub fn get_dv_timings(file: &File) -> io::Result<RawTimings> {
    let mut t = [0u8; DV_TIMINGS_SIZE];
    call(file, VIDIOC_G_DV_TIMINGS, &mut t)?;
    Ok(t)
}

pub fn set_dv_timings(file: &File, timings: &RawTimings) -> io::Result<()> {
    let mut t = *timings;
    call(file, VIDIOC_S_DV_TIMINGS, &mut t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_numbers_match_the_kernel_headers() {
        // From linux/videodev2.h as compiled for x86_64 (the values v4l2-ctl uses).
        assert_eq!(VIDIOC_QUERY_DV_TIMINGS, 0x8084_5663);
        assert_eq!(VIDIOC_G_DV_TIMINGS, 0xC084_5658);
        assert_eq!(VIDIOC_S_DV_TIMINGS, 0xC084_5657);
    }
}
