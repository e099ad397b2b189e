//! Is a picture black, or the same as the one before? Judged on a coarse grid of luma samples,
//! so the check costs the same few hundred reads whatever the resolution.

/// Grid of luma samples taken from each picture.
const GRID_W: usize = 32;
const GRID_H: usize = 18;
/// Limited-range black is 16; a black picture with a little noise or a logo bug stays under
/// these.
const BLACK_MEAN: f64 = 24.0;
const BLACK_PEAK: u8 = 48;
/// Mean absolute difference per sample below which two pictures count as the same. Encoding
/// noise on a frozen picture stays well below it; camera noise on a live shot stays above it.
const SAME_PICTURE_DIFF: f64 = 0.5;

/// Luma samples of one picture on the fixed grid.
#[derive(Debug, Clone, PartialEq)]
pub struct LumaGrid(Vec<u8>);

impl LumaGrid {
    /// Samples an 8-bit luma plane (`stride` bytes per row). A plane too small for its stated
    /// size gives an empty grid, which is neither black nor frozen.
    pub fn sample(plane: &[u8], stride: usize, width: usize, height: usize) -> LumaGrid {
        let mut points = Vec::with_capacity(GRID_W * GRID_H);
        if width == 0
            || height == 0
            || stride < width
            || plane.len() < stride * (height - 1) + width
        {
            return LumaGrid(points);
        }
        for gy in 0..GRID_H {
            let y = (gy * 2 + 1) * height / (GRID_H * 2);
            for gx in 0..GRID_W {
                let x = (gx * 2 + 1) * width / (GRID_W * 2);
                points.push(plane[y * stride + x]);
            }
        }
        LumaGrid(points)
    }

    pub fn is_black(&self) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let sum: u64 = self.0.iter().map(|&v| u64::from(v)).sum();
        let mean = sum as f64 / self.0.len() as f64;
        let peak = self.0.iter().copied().max().unwrap_or(0);
        mean < BLACK_MEAN && peak < BLACK_PEAK
    }

    pub fn same_picture_as(&self, other: &LumaGrid) -> bool {
        if self.0.is_empty() || self.0.len() != other.0.len() {
            return false;
        }
        let diff: u64 = self
            .0
            .iter()
            .zip(&other.0)
            .map(|(&a, &b)| u64::from(a.abs_diff(b)))
            .sum();
        (diff as f64 / self.0.len() as f64) < SAME_PICTURE_DIFF
    }
}

/// RMS level of interleaved signed 16-bit samples in dBFS (−∞ for digital silence).
pub fn rms_dbfs(samples: &[u8]) -> f64 {
    let count = samples.len() / 2;
    if count == 0 {
        return f64::NEG_INFINITY;
    }
    let energy: f64 = samples
        .chunks_exact(2)
        .map(|s| {
            let v = f64::from(i16::from_le_bytes([s[0], s[1]])) / 32768.0;
            v * v
        })
        .sum();
    10.0 * (energy / count as f64).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(width: usize, height: usize, f: impl Fn(usize, usize) -> u8) -> Vec<u8> {
        let mut p = vec![0; width * height];
        for y in 0..height {
            for x in 0..width {
                p[y * width + x] = f(x, y);
            }
        }
        p
    }

    #[test]
    fn limited_range_black_with_noise_is_black() {
        let p = plane(640, 360, |x, y| 16 + ((x * 7 + y * 3) % 5) as u8);
        assert!(LumaGrid::sample(&p, 640, 640, 360).is_black());
    }

    #[test]
    fn bars_and_a_dark_scene_with_a_bright_spot_are_not_black() {
        let bars = plane(640, 360, |x, _| if x < 320 { 235 } else { 16 });
        assert!(!LumaGrid::sample(&bars, 640, 640, 360).is_black());
        let night = plane(640, 360, |x, y| if x > 300 && y > 150 { 180 } else { 18 });
        assert!(!LumaGrid::sample(&night, 640, 640, 360).is_black());
    }

    #[test]
    fn a_repeated_picture_is_the_same_and_motion_is_not() {
        let a = plane(640, 360, |x, y| ((x + y) % 200) as u8 + 16);
        let moved = plane(640, 360, |x, y| ((x + y + 4) % 200) as u8 + 16);
        let grid = LumaGrid::sample(&a, 640, 640, 360);
        assert!(grid.same_picture_as(&LumaGrid::sample(&a, 640, 640, 360)));
        assert!(!grid.same_picture_as(&LumaGrid::sample(&moved, 640, 640, 360)));
    }

    #[test]
    fn encoding_noise_on_a_still_picture_is_still_the_same() {
        let a = plane(640, 360, |x, y| ((x + y) % 200) as u8 + 16);
        // About one sample in seven off by one: what re-encoding a still picture does.
        let noisy = plane(640, 360, |x, y| {
            ((x + y) % 200) as u8 + 16 + u8::from(x % 7 == 3)
        });
        assert!(LumaGrid::sample(&a, 640, 640, 360)
            .same_picture_as(&LumaGrid::sample(&noisy, 640, 640, 360)));
    }

    #[test]
    fn stride_padding_is_skipped_and_a_short_plane_is_no_verdict() {
        let p = plane(704, 360, |x, _| if x >= 640 { 255 } else { 16 });
        assert!(LumaGrid::sample(&p, 704, 640, 360).is_black());
        let short = LumaGrid::sample(&p[..1000], 704, 640, 360);
        assert!(!short.is_black());
        assert!(!short.same_picture_as(&short.clone()));
    }

    #[test]
    fn rms_of_full_scale_square_wave_is_zero_dbfs_and_silence_is_minus_infinity() {
        let square: Vec<u8> = (0..960)
            .flat_map(|i| if i % 2 == 0 { i16::MAX } else { -i16::MAX }.to_le_bytes())
            .collect();
        assert!(rms_dbfs(&square).abs() < 0.01);
        assert_eq!(rms_dbfs(&[0; 960]), f64::NEG_INFINITY);
        // -18 dBFS sine-ish: amplitude 0.125 square is -18.06 dBFS.
        let quiet: Vec<u8> = (0..960)
            .flat_map(|i| if i % 2 == 0 { 4096i16 } else { -4096 }.to_le_bytes())
            .collect();
        assert!((rms_dbfs(&quiet) + 18.06).abs() < 0.05);
    }
}
