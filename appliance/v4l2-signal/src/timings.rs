//! `struct v4l2_bt_timings` decoded from its bytes, and the format name an operator reads.

use crate::ioctl::RawTimings;
use std::fmt;

/// `V4L2_DV_FL_REDUCED_FPS`: the real rate is the nominal one × 1000/1001 (59.94, 29.97).
const FLAG_REDUCED_FPS: u32 = 1 << 2;

/// A detected format: active picture and frame rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DvTimings {
    pub width: u32,
    pub height: u32,
    pub interlaced: bool,
    /// Frames (not fields) per second, as a reduced fraction.
    pub rate_num: u32,
    pub rate_den: u32,
}

impl DvTimings {
    /// Decodes the BT.656/1120 timings (`type` 0, the only kind V4L2 defines).
    pub fn decode(raw: &RawTimings) -> DvTimings {
        // bt starts after the 4-byte `type`.
        let u32_at = |offset: usize| {
            let at = 4 + offset;
            u32::from_le_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]])
        };
        let pixelclock = u64::from_le_bytes(raw[4 + 16..4 + 24].try_into().unwrap_or([0; 8]));
        let (width, height, interlaced) = (u32_at(0), u32_at(4), u32_at(8) != 0);
        let (hfp, hsync, hbp) = (u32_at(24), u32_at(28), u32_at(32));
        let (vfp, vsync, vbp) = (u32_at(36), u32_at(40), u32_at(44));
        let (il_vfp, il_vsync, il_vbp) = (u32_at(48), u32_at(52), u32_at(56));
        let flags = u32_at(64);
        let total_h = u64::from(width + hfp + hsync + hbp);
        let mut total_v = u64::from(height + vfp + vsync + vbp);
        if interlaced {
            // `height` is the frame; the second field's blanking is counted separately.
            total_v += u64::from(il_vfp + il_vsync + il_vbp);
        }
        let (mut num, mut den) = (pixelclock, total_h * total_v);
        if flags & FLAG_REDUCED_FPS != 0 {
            num *= 1000;
            den *= 1001;
        }
        let (rate_num, rate_den) = reduce(num, den);
        DvTimings {
            width,
            height,
            interlaced,
            rate_num,
            rate_den,
        }
    }

    /// Frames per second.
    pub fn fps(&self) -> f64 {
        if self.rate_den == 0 {
            0.0
        } else {
            f64::from(self.rate_num) / f64::from(self.rate_den)
        }
    }
}

fn reduce(num: u64, den: u64) -> (u32, u32) {
    if num == 0 || den == 0 {
        return (0, 1);
    }
    let (mut a, mut b) = (num, den);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    let (n, d) = (num / a, den / a);
    (
        u32::try_from(n).unwrap_or(u32::MAX),
        u32::try_from(d).unwrap_or(u32::MAX),
    )
}

/// `1920x1080p60`, `1280x720p59.94`, `1920x1080i50` (interlaced formats by field rate, as
/// broadcast names them).
impl fmt::Display for DvTimings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = if self.interlaced {
            self.fps() * 2.0
        } else {
            self.fps()
        };
        let rate = format!("{rate:.2}");
        let rate = rate.trim_end_matches('0').trim_end_matches('.');
        let scan = if self.interlaced { 'i' } else { 'p' };
        write!(f, "{}x{}{scan}{rate}", self.width, self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ioctl::DV_TIMINGS_SIZE;

    /// Lays out a `struct v4l2_dv_timings` as the kernel does.
    #[allow(clippy::too_many_arguments)]
    fn raw(
        width: u32,
        height: u32,
        interlaced: bool,
        pixelclock: u64,
        h: (u32, u32, u32),
        v: (u32, u32, u32),
        il_v: (u32, u32, u32),
        flags: u32,
    ) -> RawTimings {
        let mut b = [0u8; DV_TIMINGS_SIZE];
        let mut put =
            |offset: usize, v: u32| b[4 + offset..8 + offset].copy_from_slice(&v.to_le_bytes());
        put(0, width);
        put(4, height);
        put(8, u32::from(interlaced));
        put(24, h.0);
        put(28, h.1);
        put(32, h.2);
        put(36, v.0);
        put(40, v.1);
        put(44, v.2);
        put(48, il_v.0);
        put(52, il_v.1);
        put(56, il_v.2);
        put(64, flags);
        b[4 + 16..4 + 24].copy_from_slice(&pixelclock.to_le_bytes());
        b
    }

    #[test]
    fn cea_720p60_as_vivid_reports_it() {
        // The values `v4l2-ctl --query-dv-timings` printed for vivid's default HDMI input.
        let t = DvTimings::decode(&raw(
            1280,
            720,
            false,
            74_250_000,
            (110, 40, 220),
            (5, 5, 20),
            (0, 0, 0),
            0,
        ));
        assert_eq!((t.width, t.height, t.interlaced), (1280, 720, false));
        assert_eq!((t.rate_num, t.rate_den), (60, 1));
        assert_eq!(t.to_string(), "1280x720p60");
    }

    #[test]
    fn reduced_rate_1080p_is_59_94() {
        let t = DvTimings::decode(&raw(
            1920,
            1080,
            false,
            148_500_000,
            (88, 44, 148),
            (4, 5, 36),
            (0, 0, 0),
            FLAG_REDUCED_FPS,
        ));
        assert_eq!((t.rate_num, t.rate_den), (60000, 1001));
        assert_eq!(t.to_string(), "1920x1080p59.94");
    }

    #[test]
    fn interlaced_1080i50_counts_both_fields_blanking_and_is_named_by_field_rate() {
        // CEA-861 1080i50: 2640 x 1125 total, 74.25 MHz, 25 frames (50 fields) a second.
        let t = DvTimings::decode(&raw(
            1920,
            1080,
            true,
            74_250_000,
            (528, 44, 148),
            (2, 5, 15),
            (2, 5, 16),
            0,
        ));
        assert_eq!((t.rate_num, t.rate_den), (25, 1));
        assert_eq!(t.to_string(), "1920x1080i50");
    }

    #[test]
    fn empty_timings_do_not_divide_by_zero() {
        let t = DvTimings::decode(&[0; DV_TIMINGS_SIZE]);
        assert_eq!((t.rate_num, t.rate_den), (0, 1));
        assert_eq!(t.to_string(), "0x0p0");
    }
}
