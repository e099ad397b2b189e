//! `feedlineswscale`: a GStreamer video filter that scales I420 through libswscale, for the
//! ladder's rungs. Same caps contract as `videoscale` (any size in, the size downstream asks
//! for out, passthrough when they match); the work is done by `ffi::Scaler`.

use crate::ffi::{Kernel, PictureSize, Planes, Scaler};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::subclass::prelude::*;
use gst_video::VideoFrameExt;
use gstreamer as gst;
use gstreamer_base as gst_base;
use gstreamer_video as gst_video;
use std::sync::{LazyLock, Mutex, PoisonError};

gst::glib::wrapper! {
    pub struct SwScale(ObjectSubclass<imp::SwScale>)
        @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

/// The `method` property: which libswscale kernel the element uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "FeedlineSwScaleMethod")]
pub enum Method {
    #[enum_value(
        name = "Bilinear (kernel widened by the shrink factor)",
        nick = "bilinear"
    )]
    Bilinear,
    #[default]
    #[enum_value(name = "Bicubic (ffmpeg's default)", nick = "bicubic")]
    Bicubic,
    #[enum_value(name = "Lanczos", nick = "lanczos")]
    Lanczos,
}

impl From<Method> for Kernel {
    fn from(method: Method) -> Self {
        match method {
            Method::Bilinear => Kernel::Bilinear,
            Method::Bicubic => Kernel::Bicubic,
            Method::Lanczos => Kernel::Lanczos,
        }
    }
}

// glib's subclass macros expand to the unsafe GObject type registration.
#[allow(unsafe_code)]
mod imp {
    use super::*;

    static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
        gst::DebugCategory::new(
            "feedlineswscale",
            gst::DebugColorFlags::empty(),
            Some("Feedline ladder scaler (libswscale)"),
        )
    });

    #[derive(Default)]
    pub struct SwScale {
        method: Mutex<Method>,
        scaler: Mutex<Option<Scaler>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SwScale {
        const NAME: &'static str = "FeedlineSwScale";
        type Type = super::SwScale;
        type ParentType = gst_video::VideoFilter;
    }

    impl ObjectImpl for SwScale {
        fn properties() -> &'static [glib::ParamSpec] {
            static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
                vec![glib::ParamSpecEnum::builder::<Method>("method")
                    .nick("Method")
                    .blurb("libswscale kernel")
                    .mutable_ready()
                    .build()]
            });
            PROPERTIES.as_ref()
        }

        fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
            if pspec.name() == "method" {
                let method = value.get::<Method>().unwrap_or_default();
                *self.method.lock().unwrap_or_else(PoisonError::into_inner) = method;
            }
        }

        fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
            match pspec.name() {
                "method" => self
                    .method
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .to_value(),
                _ => glib::Value::from_type(pspec.value_type()),
            }
        }
    }

    impl GstObjectImpl for SwScale {}

    impl ElementImpl for SwScale {
        fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
            static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
                gst::subclass::ElementMetadata::new(
                    "Feedline ladder scaler",
                    "Filter/Converter/Video/Scaler",
                    "Scales I420 video with FFmpeg's libswscale",
                    "Feedline",
                )
            });
            Some(&*METADATA)
        }

        fn pad_templates() -> &'static [gst::PadTemplate] {
            static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
                let caps = gst_video::VideoCapsBuilder::new()
                    .format(gst_video::VideoFormat::I420)
                    .build();
                [gst::PadDirection::Src, gst::PadDirection::Sink]
                    .into_iter()
                    .map(|direction| {
                        let name = if direction == gst::PadDirection::Src {
                            "src"
                        } else {
                            "sink"
                        };
                        gst::PadTemplate::new(name, direction, gst::PadPresence::Always, &caps)
                            .expect("static pad template")
                    })
                    .collect()
            });
            TEMPLATES.as_ref()
        }
    }

    impl BaseTransformImpl for SwScale {
        const MODE: gst_base::subclass::BaseTransformMode =
            gst_base::subclass::BaseTransformMode::NeverInPlace;
        const PASSTHROUGH_ON_SAME_CAPS: bool = true;
        const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

        /// The same caps first (so an unscaled rung passes through), then any size and aspect.
        fn transform_caps(
            &self,
            _direction: gst::PadDirection,
            caps: &gst::Caps,
            filter: Option<&gst::Caps>,
        ) -> Option<gst::Caps> {
            let mut any_size = caps.clone();
            for s in any_size.make_mut().iter_mut() {
                s.set("width", gst::IntRange::new(1, i32::MAX));
                s.set("height", gst::IntRange::new(1, i32::MAX));
                s.remove_field("pixel-aspect-ratio");
            }
            let mut result = caps.clone();
            result.merge(any_size);
            Some(match filter {
                Some(filter) => filter.intersect_with_mode(&result, gst::CapsIntersectMode::First),
                None => result,
            })
        }

        fn stop(&self) -> Result<(), gst::ErrorMessage> {
            *self.scaler.lock().unwrap_or_else(PoisonError::into_inner) = None;
            Ok(())
        }
    }

    impl VideoFilterImpl for SwScale {
        fn set_info(
            &self,
            _incaps: &gst::Caps,
            in_info: &gst_video::VideoInfo,
            _outcaps: &gst::Caps,
            out_info: &gst_video::VideoInfo,
        ) -> Result<(), gst::LoggableError> {
            let from = PictureSize {
                width: in_info.width(),
                height: in_info.height(),
            };
            let to = PictureSize {
                width: out_info.width(),
                height: out_info.height(),
            };
            let method = *self.method.lock().unwrap_or_else(PoisonError::into_inner);
            let scaler = if from == to {
                None
            } else {
                let scaler = Scaler::new(from, to, method.into())
                    .map_err(|e| gst::loggable_error!(CAT, "{e}"))?;
                gst::debug!(
                    CAT,
                    imp = self,
                    "scaling {from:?} to {to:?} with {method:?}"
                );
                Some(scaler)
            };
            *self.scaler.lock().unwrap_or_else(PoisonError::into_inner) = scaler;
            Ok(())
        }

        fn transform_frame(
            &self,
            inframe: &gst_video::VideoFrameRef<&gst::BufferRef>,
            outframe: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
        ) -> Result<gst::FlowSuccess, gst::FlowError> {
            let mut guard = self.scaler.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(scaler) = guard.as_mut() else {
                // Same size, other caps (e.g. only the aspect-ratio field differs): a copy.
                return inframe
                    .copy(outframe)
                    .map(|_| gst::FlowSuccess::Ok)
                    .map_err(|_| {
                        gst::element_imp_error!(
                            self,
                            gst::CoreError::Negotiation,
                            ["cannot copy the frame"]
                        );
                        gst::FlowError::NotNegotiated
                    });
            };
            let strides = |s: &[i32]| [0, 1, 2].map(|p| usize::try_from(s[p]).unwrap_or(0));
            let [y, u, v, _] = inframe.planes_data();
            let src = Planes::new(
                [y, u, v],
                strides(inframe.plane_stride()),
                PictureSize {
                    width: inframe.width(),
                    height: inframe.height(),
                },
            );
            let out_strides = strides(outframe.plane_stride());
            let out_size = PictureSize {
                width: outframe.width(),
                height: outframe.height(),
            };
            let [y, u, v, _] = outframe.planes_data_mut();
            let mut dst = Planes::new([y, u, v], out_strides, out_size);
            scaler.scale(&src, &mut dst).map_err(|e| {
                gst::element_imp_error!(self, gst::StreamError::Failed, ["{e}"]);
                gst::FlowError::Error
            })?;
            Ok(gst::FlowSuccess::Ok)
        }
    }
}
