//! What the timecode SEI writers share: the frame's timecode, read from GStreamer's meta, and a
//! pad probe that rewrites each access unit leaving a parser.

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_video as gst_video;

/// A SMPTE timecode value for one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timecode {
    pub hours: u32,
    pub minutes: u32,
    pub seconds: u32,
    pub frames: u32,
    pub drop_frame: bool,
}

impl Timecode {
    /// The timecode GStreamer attached to the buffer (`GstVideoTimeCodeMeta`).
    pub fn of(buffer: &gst::BufferRef) -> Option<Timecode> {
        let tc = buffer.meta::<gst_video::VideoTimeCodeMeta>()?.tc();
        Some(Timecode {
            hours: tc.hours(),
            minutes: tc.minutes(),
            seconds: tc.seconds(),
            frames: tc.frames(),
            drop_frame: tc
                .flags()
                .contains(gst_video::VideoTimeCodeFlags::DROP_FRAME),
        })
    }
}

/// Replaces the buffer's bytes, keeping its flags, timestamps and metas.
fn replace_bytes(buffer: &mut gst::Buffer, bytes: Vec<u8>) {
    let mut out = gst::Buffer::from_mut_slice(bytes);
    {
        let out_mut = out.make_mut();
        let _ = buffer.copy_into(
            out_mut,
            gst::BufferCopyFlags::FLAGS
                | gst::BufferCopyFlags::TIMESTAMPS
                | gst::BufferCopyFlags::META,
            ..,
        );
    }
    *buffer = out;
}

/// Rewrites every access unit leaving `parser` that carries a timecode meta, with `rewrite`
/// (the access unit's bytes and the frame's timecode → the new bytes, `None` to leave it).
pub fn rewrite_access_units<F>(parser: &gst::Element, rewrite: F)
where
    F: Fn(&[u8], &Timecode) -> Option<Vec<u8>> + Send + Sync + 'static,
{
    let Some(pad) = parser.static_pad("src") else {
        return;
    };
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        let Some(gst::PadProbeData::Buffer(buffer)) = info.data.as_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(timecode) = Timecode::of(buffer) else {
            return gst::PadProbeReturn::Ok;
        };
        let Ok(map) = buffer.map_readable() else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(bytes) = rewrite(map.as_slice(), &timecode) else {
            return gst::PadProbeReturn::Ok;
        };
        drop(map);
        replace_bytes(buffer, bytes);
        gst::PadProbeReturn::Ok
    });
}
