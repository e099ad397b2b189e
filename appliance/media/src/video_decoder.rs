//! Which video decoder an input's stream goes through. decodebin picks, when the stream
//! starts, the highest-ranked decoder that accepts it: NVDEC's `nvh264dec` on a box with an
//! NVIDIA GPU (seen on an H100), libav's `avdec_h264` elsewhere. The status names it, so an
//! engineer can tell whether an input leans on the GPU.

use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::{Arc, Mutex};
use tracing::info;

/// The factory name of the video decoder an input uses, once decodebin has added one.
#[derive(Debug, Default)]
pub struct VideoDecoder(Mutex<Option<Arc<str>>>);

impl VideoDecoder {
    /// The decoder's factory name (`avdec_h264`, `nvh264dec`); `None` before the stream has
    /// started, and for inputs that arrive raw (test pattern, capture).
    pub fn name(&self) -> Option<Arc<str>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, name: &str) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(name.into());
    }

    /// A new pipeline: its decoder is not known until decodebin picks one.
    pub fn forget(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Records in `decoder` every video decoder added anywhere inside `bin` from now on (decodebin
/// adds its decoder to itself, a bin inside `bin`), and logs it for `input`.
pub fn watch(bin: &gst::Bin, decoder: Arc<VideoDecoder>, input: &str) {
    let input = input.to_string();
    bin.connect_deep_element_added(move |_, _, element| {
        if let Some(factory) = element.factory().filter(is_video_decoder) {
            let name = factory.name();
            info!(%input, decoder = %name, hardware = factory.klass().contains("Hardware"), "video decoder");
            decoder.set(name.as_str());
        }
    });
}

fn is_video_decoder(factory: &gst::ElementFactory) -> bool {
    let klass = factory.klass();
    klass.contains("Decoder") && klass.contains("Video")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoder_decodebin_picks_is_recorded_and_a_parser_is_not() {
        crate::init().expect("gstreamer");
        let pipeline = gst::Pipeline::new();
        let decoder = Arc::new(VideoDecoder::default());
        watch(pipeline.upcast_ref(), decoder.clone(), "test");
        assert_eq!(decoder.name(), None);
        // As decodebin does: its parser and its decoder land in a bin inside the pipeline.
        let decodebin = gst::Bin::new();
        pipeline.add(&decodebin).expect("add bin");
        for factory in ["h264parse", "avdec_h264"] {
            let element = gst::ElementFactory::make(factory).build().expect(factory);
            decodebin.add(&element).expect("add element");
        }
        assert_eq!(decoder.name().as_deref(), Some("avdec_h264"));
        decoder.forget();
        assert_eq!(decoder.name(), None);
    }
}
