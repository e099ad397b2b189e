//! The three libswscale calls the ladder needs, behind a safe `Scaler` that checks every plane
//! it hands to C.
#![allow(unsafe_code)]

use std::ffi::{c_double, c_int, c_void};
use std::ptr::NonNull;

/// `AV_PIX_FMT_YUV420P`: planar 4:2:0, what the ladder carries (GStreamer's I420).
const AV_PIX_FMT_YUV420P: c_int = 0;

#[link(name = "swscale")]
extern "C" {
    fn sws_getContext(
        src_w: c_int,
        src_h: c_int,
        src_format: c_int,
        dst_w: c_int,
        dst_h: c_int,
        dst_format: c_int,
        flags: c_int,
        src_filter: *mut c_void,
        dst_filter: *mut c_void,
        param: *const c_double,
    ) -> *mut c_void;
    fn sws_scale(
        context: *mut c_void,
        src_slice: *const *const u8,
        src_stride: *const c_int,
        src_slice_y: c_int,
        src_slice_h: c_int,
        dst: *const *mut u8,
        dst_stride: *const c_int,
    ) -> c_int;
    fn sws_freeContext(context: *mut c_void);
}

/// The filter that shapes each output pixel from the input's. libswscale widens every kernel by
/// the shrink factor, so even `Bilinear` does not alias on a large step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Bilinear,
    Bicubic,
    Lanczos,
}

impl Kernel {
    fn sws_flags(self) -> c_int {
        match self {
            Kernel::Bilinear => 0x2,
            Kernel::Bicubic => 0x4,
            Kernel::Lanczos => 0x200,
        }
    }
}

/// Size of a 4:2:0 picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureSize {
    pub width: u32,
    pub height: u32,
}

impl PictureSize {
    /// (bytes per row, rows) of plane 0 (luma) or 1 and 2 (chroma, half size rounded up).
    fn plane(self, plane: usize) -> (usize, usize) {
        let (w, h) = (self.width as usize, self.height as usize);
        if plane == 0 {
            (w, h)
        } else {
            (w.div_ceil(2), h.div_ceil(2))
        }
    }
}

/// One I420 picture's three planes, as borrowed from a mapped video frame.
pub struct Planes<T> {
    pub data: [T; 3],
    pub strides: [usize; 3],
    pub size: PictureSize,
}

impl<T: AsRef<[u8]>> Planes<T> {
    pub fn new(data: [T; 3], strides: [usize; 3], size: PictureSize) -> Self {
        Planes {
            data,
            strides,
            size,
        }
    }

    /// Whether every plane holds its rows at its stride: what libswscale will read or write.
    fn fits(&self) -> Result<(), ScaleError> {
        for plane in 0..3 {
            let (row, rows) = self.size.plane(plane);
            let stride = self.strides[plane];
            let needed = stride * (rows - 1) + row;
            let len = self.data[plane].as_ref().len();
            if stride < row || len < needed || c_int::try_from(stride).is_err() {
                return Err(ScaleError::PlaneTooSmall { plane, len, needed });
            }
        }
        Ok(())
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum ScaleError {
    /// libswscale refused the sizes (zero, or beyond its limits).
    Context { from: PictureSize, to: PictureSize },
    /// A plane is shorter than its rows at its stride.
    PlaneTooSmall {
        plane: usize,
        len: usize,
        needed: usize,
    },
    /// The pictures handed over are not the sizes the scaler was made for.
    SizeMismatch,
}

impl std::fmt::Display for ScaleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScaleError::Context { from, to } => write!(
                f,
                "libswscale cannot scale {}x{} to {}x{}",
                from.width, from.height, to.width, to.height
            ),
            ScaleError::PlaneTooSmall { plane, len, needed } => {
                write!(f, "plane {plane} holds {len} bytes, {needed} needed")
            }
            ScaleError::SizeMismatch => write!(f, "picture size differs from the scaler's"),
        }
    }
}

impl std::error::Error for ScaleError {}

/// A libswscale context for one I420 size change.
pub struct Scaler {
    context: NonNull<c_void>,
    from: PictureSize,
    to: PictureSize,
}

// A context is plain memory that one thread at a time may use; `&mut self` on `scale` keeps
// it to one caller.
unsafe impl Send for Scaler {}

impl Scaler {
    pub fn new(from: PictureSize, to: PictureSize, kernel: Kernel) -> Result<Self, ScaleError> {
        let dims = [from.width, from.height, to.width, to.height].map(c_int::try_from);
        let [Ok(sw), Ok(sh), Ok(dw), Ok(dh)] = dims else {
            return Err(ScaleError::Context { from, to });
        };
        // SAFETY: plain integers in; no filters or parameters (null is libswscale's default).
        let context = unsafe {
            sws_getContext(
                sw,
                sh,
                AV_PIX_FMT_YUV420P,
                dw,
                dh,
                AV_PIX_FMT_YUV420P,
                kernel.sws_flags(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null(),
            )
        };
        NonNull::new(context)
            .map(|context| Scaler { context, from, to })
            .ok_or(ScaleError::Context { from, to })
    }

    pub fn scale<S: AsRef<[u8]>, D: AsMut<[u8]> + AsRef<[u8]>>(
        &mut self,
        src: &Planes<S>,
        dst: &mut Planes<D>,
    ) -> Result<(), ScaleError> {
        if src.size != self.from || dst.size != self.to {
            return Err(ScaleError::SizeMismatch);
        }
        src.fits()?;
        dst.fits()?;
        let src_ptrs = [0, 1, 2].map(|p| src.data[p].as_ref().as_ptr());
        let dst_ptrs = [0, 1, 2].map(|p| dst.data[p].as_mut().as_mut_ptr());
        // `fits` checked each stride fits a c_int.
        let src_strides = src.strides.map(|s| s as c_int);
        let dst_strides = dst.strides.map(|s| s as c_int);
        // SAFETY: the context was made for exactly these sizes in I420, and `fits` checked
        // that every plane holds its rows at its stride, so libswscale reads and writes
        // inside the slices; `dst` is borrowed mutably for the call.
        unsafe {
            sws_scale(
                self.context.as_ptr(),
                src_ptrs.as_ptr(),
                src_strides.as_ptr(),
                0,
                self.from.height as c_int,
                dst_ptrs.as_ptr(),
                dst_strides.as_ptr(),
            );
        }
        Ok(())
    }
}

impl Drop for Scaler {
    fn drop(&mut self) {
        // SAFETY: the context came from sws_getContext and is freed once.
        unsafe { sws_freeContext(self.context.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(width: u32, height: u32) -> PictureSize {
        PictureSize { width, height }
    }

    fn picture(s: PictureSize, luma: impl Fn(usize, usize) -> u8) -> [Vec<u8>; 3] {
        let (w, h) = s.plane(0);
        let (cw, ch) = s.plane(1);
        let y = (0..h)
            .flat_map(|r| (0..w).map(move |c| (r, c)))
            .map(|(r, c)| luma(r, c));
        [y.collect(), vec![128; cw * ch], vec![128; cw * ch]]
    }

    #[test]
    fn a_flat_picture_stays_flat_at_any_size() {
        let (from, to) = (size(1920, 1080), size(1280, 720));
        let src = picture(from, |_, _| 100);
        let mut dst = [
            vec![0u8; 1280 * 720],
            vec![0; 640 * 360],
            vec![0; 640 * 360],
        ];
        let mut scaler = Scaler::new(from, to, Kernel::Bicubic).expect("context");
        let src_planes = Planes::new(src.each_ref().map(Vec::as_slice), [1920, 960, 960], from);
        let [y, u, v] = &mut dst;
        let mut dst_planes = Planes::new([y, u, v], [1280, 640, 640], to);
        scaler.scale(&src_planes, &mut dst_planes).expect("scale");
        assert!(
            dst[0].iter().all(|&p| p.abs_diff(100) <= 1),
            "luma stays 100"
        );
        assert!(
            dst[1].iter().chain(&dst[2]).all(|&p| p.abs_diff(128) <= 1),
            "chroma stays neutral"
        );
    }

    #[test]
    fn a_half_size_bilinear_averages_without_aliasing() {
        // Alternating black and white columns, 1 px wide: a kernel that does not widen when
        // shrinking by 2 keeps one of the two and the picture turns black or white; a
        // band-limited one gives mid-grey.
        let (from, to) = (size(64, 32), size(32, 16));
        let src = picture(from, |_, c| if c % 2 == 0 { 16 } else { 235 });
        let mut dst = [vec![0u8; 32 * 16], vec![0; 16 * 8], vec![0; 16 * 8]];
        let mut scaler = Scaler::new(from, to, Kernel::Bilinear).expect("context");
        let src_planes = Planes::new(src.each_ref().map(Vec::as_slice), [64, 32, 32], from);
        let [y, u, v] = &mut dst;
        let mut dst_planes = Planes::new([y, u, v], [32, 16, 16], to);
        scaler.scale(&src_planes, &mut dst_planes).expect("scale");
        for row in dst[0].chunks(32) {
            // Inside, every output pixel covers one black and one white column; the edge
            // ones see the border repeated, so they lean but stay far from black or white.
            assert!(row[1..31].iter().all(|&p| p.abs_diff(126) <= 2), "{row:?}");
            assert!(row.iter().all(|&p| p.abs_diff(126) <= 40), "{row:?}");
        }
    }

    #[test]
    fn short_planes_are_refused_before_libswscale_sees_them() {
        let (from, to) = (size(64, 32), size(32, 16));
        let src = picture(from, |_, _| 16);
        let mut dst = [vec![0u8; 32 * 16 - 1], vec![0; 16 * 8], vec![0; 16 * 8]];
        let mut scaler = Scaler::new(from, to, Kernel::Bilinear).expect("context");
        let src_planes = Planes::new(src.each_ref().map(Vec::as_slice), [64, 32, 32], from);
        let [y, u, v] = &mut dst;
        let mut dst_planes = Planes::new([y, u, v], [32, 16, 16], to);
        assert_eq!(
            scaler.scale(&src_planes, &mut dst_planes),
            Err(ScaleError::PlaneTooSmall {
                plane: 0,
                len: 511,
                needed: 512
            })
        );
        let mut wrong = Planes::new(
            [vec![0u8; 4], vec![0; 1], vec![0; 1]],
            [2, 1, 1],
            size(2, 2),
        );
        assert_eq!(
            scaler.scale(&src_planes, &mut wrong),
            Err(ScaleError::SizeMismatch)
        );
    }

    #[test]
    fn sizes_libswscale_cannot_take_are_an_error_not_a_crash() {
        assert!(Scaler::new(size(0, 0), size(32, 16), Kernel::Bicubic).is_err());
        assert!(Scaler::new(size(64, 32), size(u32::MAX, 16), Kernel::Bicubic).is_err());
    }
}
