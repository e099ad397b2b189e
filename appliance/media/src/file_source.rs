//! A media file played as a live source, looped without a seam.
//!
//! The file is decoded in its own pipeline (`filesrc ! decodebin ! appsink`) and its raw frames
//! enter the channel through `appsrc`, with timestamps re-based on every loop: when the file
//! ends it is rewound *there*, so the channel's encoders and muxers never see a flush, an EOS or
//! a timestamp going back. (A segment seek in the channel pipeline cannot do this: tsdemux does
//! not support segment seeks.)

use crate::file_hold::LastPicture;
use crate::file_silence::SilenceFill;
use crate::spec::{build_chain, ElementSpec};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tracing::{info, warn};

/// Where each loop's timestamps start: the end of everything played before.
#[derive(Default)]
struct LoopClock {
    offset: gst::ClockTime,
    /// Furthest end time (pts + duration, after offset) any stream reached in this loop.
    end: gst::ClockTime,
}

pub struct FileSource {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Appsrc specs for the channel side: raw video and raw audio from the file.
pub fn appsrc_specs(prefix: &str) -> (ElementSpec, ElementSpec) {
    let src = |name: String, max_bytes: u64| {
        ElementSpec::new("appsrc", name)
            .prop("format", "time")
            .prop("is-live", false)
            .prop("block", true)
            // A few frames of look-ahead: the file pipeline runs only as fast as we consume.
            .prop("max-bytes", max_bytes)
    };
    (
        src(format!("{prefix}-file-video"), 32 * 1024 * 1024),
        src(format!("{prefix}-file-audio"), 256 * 1024),
    )
}

impl FileSource {
    /// Plays `path` into the channel's `video` and `audio` appsrcs on a thread of its own;
    /// `decoder` learns the video decoder the file's stream gets.
    pub fn start(
        path: &Path,
        loop_playback: bool,
        video: gst_app::AppSrc,
        audio: gst_app::AppSrc,
        decoder: Arc<crate::video_decoder::VideoDecoder>,
    ) -> FileSource {
        let stop = Arc::new(AtomicBool::new(false));
        let path = path.to_path_buf();
        let stop_flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("file-source".into())
            .spawn(move || run(&path, loop_playback, video, audio, decoder, &stop_flag))
            .ok();
        FileSource { stop, thread }
    }
}

impl Drop for FileSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn fail(target: &gst_app::AppSrc, message: &str, detail: &str) {
    gst::element_error!(
        target,
        gst::ResourceError::NotFound,
        ("{}", message),
        ["{}", detail]
    );
}

fn run(
    path: &Path,
    loop_playback: bool,
    video: gst_app::AppSrc,
    audio: gst_app::AppSrc,
    decoder: Arc<crate::video_decoder::VideoDecoder>,
    stop: &AtomicBool,
) {
    if !path.exists() {
        fail(
            &video,
            "Resource not found.",
            &format!("No such file {}", path.display()),
        );
        return;
    }
    let pipeline = gst::Pipeline::with_name("file-source");
    crate::video_decoder::watch(pipeline.upcast_ref(), decoder, &path.display().to_string());
    let built = ElementSpec::new("filesrc", "file-source-file")
        .prop("location", path.display())
        .build()
        .and_then(|src| {
            Ok((
                src,
                ElementSpec::new("decodebin", "file-source-decode").build()?,
            ))
        });
    let (filesrc, decodebin) = match built {
        Ok(pair) => pair,
        Err(e) => return fail(&video, "cannot build file reader", &e.to_string()),
    };
    if pipeline.add_many([&filesrc, &decodebin]).is_err() || filesrc.link(&decodebin).is_err() {
        return fail(&video, "cannot build file reader", "filesrc ! decodebin");
    }
    // libav's automatic thread count oversubscribes small machines: on 2 cores it cost 10 % more
    // CPU than one decoder thread per core, all of it in the kernel (measured on 1080p30 H.264).
    let cores = crate::ladder::cores();
    if let Some(bin) = decodebin.downcast_ref::<gst::Bin>() {
        bin.connect_deep_element_added(move |_, _, element| {
            let is_libav_decoder = element
                .factory()
                .is_some_and(|f| f.name().starts_with("avdec_"));
            if is_libav_decoder && element.find_property("max-threads").is_some() {
                element.set_property("max-threads", cores as i32);
            }
        });
    }
    let clock = Arc::new(Mutex::new(LoopClock::default()));
    let linked = Arc::new(Mutex::new((false, false)));
    let silence = Arc::new(SilenceFill::new(audio.clone()));
    let weak = pipeline.downgrade();
    let (v, a, c, l) = (video.clone(), audio.clone(), clock.clone(), linked.clone());
    let last_picture = Arc::new(LastPicture::new(video.clone()));
    let carry = Carry {
        silence: silence.clone(),
        hold: last_picture.clone(),
    };
    let loop_carry = carry.clone();
    decodebin.connect_pad_added(move |_, pad| {
        let Some(pipeline) = weak.upgrade() else {
            return;
        };
        let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
        let kind = caps
            .structure(0)
            .map(|s| s.name().to_string())
            .unwrap_or_default();
        let mut done = l.lock().unwrap_or_else(|p| p.into_inner());
        let is_video = kind.starts_with("video/");
        let target = if is_video && !done.0 {
            done.0 = true;
            v.clone()
        } else if kind.starts_with("audio/") && !done.1 {
            done.1 = true;
            a.clone()
        } else {
            return;
        };
        let stream = if is_video {
            Stream::Pictures
        } else {
            Stream::Sound
        };
        if let Err(e) = link_stream(&pipeline, pad, target, c.clone(), stream, carry.clone()) {
            warn!(%kind, error = %e, "cannot link stream of the file input");
        }
    });
    // decodebin has exposed every stream it found: a file without sound gets silence.
    let (l, shown) = (linked.clone(), path.display().to_string());
    decodebin.connect_no_more_pads(move |_| {
        if !l.lock().unwrap_or_else(|p| p.into_inner()).1 {
            info!(path = %shown, "file has no audio; sending silence");
            silence.start();
        }
    });
    if pipeline.set_state(gst::State::Playing).is_err() {
        return fail(&video, "cannot open the file", &path.display().to_string());
    }
    let Some(bus) = pipeline.bus() else { return };
    let mut loops = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(50)) else {
            continue;
        };
        match msg.view() {
            gst::MessageView::Error(err) => {
                fail(
                    &video,
                    &err.error().to_string(),
                    &err.debug().map(|d| d.to_string()).unwrap_or_default(),
                );
                break;
            }
            gst::MessageView::Eos(_) if loop_playback => {
                let mut c = clock.lock().unwrap_or_else(|p| p.into_inner());
                // The stream that ended first was carried along by the other as it went; the
                // last stretch to the loop's end now, so the next loop follows seamlessly.
                loop_carry.to_end(c.end);
                c.offset = c.end;
                drop(c);
                loops += 1;
                info!(path = %path.display(), loops, "file input looped");
                if pipeline
                    .seek_simple(
                        gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
                        gst::ClockTime::ZERO,
                    )
                    .is_err()
                {
                    fail(
                        &video,
                        "cannot rewind the file for looping",
                        &path.display().to_string(),
                    );
                    break;
                }
            }
            gst::MessageView::Eos(_) => {
                let end = clock.lock().unwrap_or_else(|p| p.into_inner()).end;
                loop_carry.to_end(end);
                let _ = video.end_of_stream();
                let _ = audio.end_of_stream();
                break;
            }
            _ => {}
        }
    }
    let _ = pipeline.set_state(gst::State::Null);
}

/// Which of the file's streams a pad carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stream {
    Pictures,
    Sound,
}

/// What carries one stream on when the other ends first within a loop: silence for the sound
/// (and for every picture of a file without sound), the last picture held for the pictures.
/// Each stream, as it goes, carries the one that has ended up to its own time, so what is made
/// up reaches the channel on time, right beside the real stream.
#[derive(Clone)]
struct Carry {
    silence: Arc<SilenceFill>,
    hold: Arc<LastPicture>,
}

impl Carry {
    /// The loop is over at `end`: both streams carried there, ready for the next loop.
    fn to_end(&self, end: gst::ClockTime) {
        self.hold.hold_to(end);
        let _ = self.silence.pad_to(end);
        self.hold.set_ended(false);
        self.silence.set_sound_ended(false);
    }
}

/// `pad ! appsink` (sound made interleaved first, so that zero bytes are its silence), whose
/// samples are re-timed onto the loop clock and pushed into the channel's appsrc. Pictures
/// arrive in place (no copy).
fn link_stream(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    target: gst_app::AppSrc,
    clock: Arc<Mutex<LoopClock>>,
    stream: Stream,
    carry: Carry,
) -> Result<(), String> {
    let is_video = stream == Stream::Pictures;
    let sink = gst_app::AppSink::builder()
        .sync(false)
        .max_buffers(2)
        .build();
    pipeline.add(&sink).map_err(|e| e.to_string())?;
    sink.sync_state_with_parent().map_err(|e| e.to_string())?;
    let sink_pad = sink.static_pad("sink").ok_or("appsink has no pad")?;
    if is_video {
        accept_padded_frames(&sink_pad);
        pad.link(&sink_pad).map_err(|e| format!("{e:?}"))?;
    } else {
        let convert = build_chain(
            pipeline.upcast_ref(),
            &[
                ElementSpec::new("audioconvert", "file-source-sound-convert"),
                ElementSpec::caps(
                    "file-source-sound-format",
                    crate::file_silence::ZERO_IS_SILENCE,
                ),
            ],
        )
        .map_err(|e| e.to_string())?;
        for element in &convert {
            element
                .sync_state_with_parent()
                .map_err(|e| e.to_string())?;
        }
        convert
            .last()
            .ok_or("empty sound chain")?
            .link(&sink)
            .map_err(|e| e.to_string())?;
        let convert_sink = convert[0]
            .static_pad("sink")
            .ok_or("audioconvert has no pad")?;
        pad.link(&convert_sink).map_err(|e| format!("{e:?}"))?;
    }
    if is_video {
        // decodebin answered the decoder's allocation query itself before this pad was exposed;
        // this makes the decoder ask again, and now it reaches the probe above.
        sink_pad.push_event(gst::event::Reconfigure::new());
    }
    let caps_set = AtomicBool::new(false);
    let ended = carry.clone();
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .eos(move |_| match stream {
                Stream::Pictures => ended.hold.set_ended(true),
                Stream::Sound => ended.silence.set_sound_ended(true),
            })
            .new_sample(move |s| {
                let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                if !caps_set.swap(true, Ordering::SeqCst) {
                    if let Some(caps) = sample.caps() {
                        target.set_caps(Some(&caps.to_owned()));
                    }
                }
                let Some(buffer) = sample.buffer_owned() else {
                    return Ok(gst::FlowSuccess::Ok);
                };
                let running = sample
                    .segment()
                    .and_then(|seg| seg.downcast_ref::<gst::ClockTime>().cloned())
                    .and_then(|seg| seg.to_running_time(buffer.pts()));
                let mut buffer = buffer;
                let span = {
                    let mut c = clock.lock().unwrap_or_else(|p| p.into_inner());
                    let pts = running.unwrap_or(gst::ClockTime::ZERO) + c.offset;
                    let end = pts + buffer.duration().unwrap_or(gst::ClockTime::ZERO);
                    if end > c.end {
                        c.end = end;
                    }
                    let b = buffer.make_mut();
                    b.set_pts(pts);
                    b.set_dts(gst::ClockTime::NONE);
                    (pts, end)
                };
                match stream {
                    Stream::Pictures => {
                        carry.silence.cover(span.0, span.1)?;
                        carry.hold.sent(&buffer);
                        target.push_buffer(buffer)?;
                        if carry.silence.sound_ended() {
                            carry.silence.pad_to(span.1)?;
                        }
                    }
                    Stream::Sound => {
                        carry.silence.sound_sent(sample.caps(), span.1);
                        target.push_buffer(buffer)?;
                        if carry.hold.ended() {
                            carry.hold.hold_to(span.1);
                        }
                    }
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    Ok(())
}

/// Tells the decoder that the channel takes frames with their own strides (`GstVideoMeta`): every
/// element after the appsrc maps frames through `GstVideoFrame` (x264, libswscale, deinterlace,
/// videoscale). Without it libav's decoder copies every picture out of its padded buffer, about
/// 0.5 CPU-s per 20 s of 1080p30.
fn accept_padded_frames(sink_pad: &gst::Pad) {
    sink_pad.add_probe(gst::PadProbeType::QUERY_DOWNSTREAM, |_, info| {
        let Some(gst::PadProbeData::Query(query)) = info.data.as_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        let gst::QueryViewMut::Allocation(allocation) = query.view_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        // libav renders straight into the frames only when downstream offers a pool as well.
        let (caps, _) = allocation.get();
        // A hardware decoder's own memory (CUDA, VA) is its business: only plain frames.
        let in_system_memory = |c: &gst::CapsRef| {
            c.features(0)
                .is_none_or(|f| f.contains(gst::CAPS_FEATURE_MEMORY_SYSTEM_MEMORY))
        };
        let Some(info) = caps
            .filter(|c| in_system_memory(c))
            .and_then(|c| gst_video::VideoInfo::from_caps(c).ok())
        else {
            return gst::PadProbeReturn::Ok;
        };
        let pool = gst_video::VideoBufferPool::new();
        let size = u32::try_from(info.size()).unwrap_or(u32::MAX);
        allocation.add_allocation_pool(Some(&pool), size, 0, 0);
        allocation.add_allocation_meta::<gst_video::VideoMeta>(None);
        gst::PadProbeReturn::Handled
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small H.264 file whose height (180) is not a whole number of macroblocks, so libav
    /// decodes into padded frames.
    fn h264_file(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("clip.mp4");
        let line = format!(
            "videotestsrc num-buffers=30 ! video/x-raw,width=320,height=180,framerate=30/1 ! \
             x264enc ! mp4mux ! filesink location={}",
            path.display()
        );
        let pipeline = gst::parse::launch(&line).expect("encoder pipeline");
        pipeline.set_state(gst::State::Playing).expect("play");
        let bus = pipeline.bus().expect("bus");
        let msg = bus
            .timed_pop_filtered(
                gst::ClockTime::from_seconds(20),
                &[gst::MessageType::Eos, gst::MessageType::Error],
            )
            .expect("encoder finished");
        assert!(matches!(msg.view(), gst::MessageView::Eos(_)), "{msg:?}");
        pipeline.set_state(gst::State::Null).expect("stop");
        path
    }

    /// The channel's side of a file input: its two appsrcs, each into an appsink to read from.
    struct ChannelSide {
        pipeline: gst::Pipeline,
        video: gst_app::AppSrc,
        audio: gst_app::AppSrc,
        frames: gst_app::AppSink,
        sound: gst_app::AppSink,
    }

    fn channel_side() -> ChannelSide {
        let pipeline = gst::Pipeline::new();
        let (video_spec, audio_spec) = appsrc_specs("t");
        let video = video_spec.build().expect("video appsrc");
        let audio = audio_spec.build().expect("audio appsrc");
        let frames = gst_app::AppSink::builder().sync(false).build();
        let sound = gst_app::AppSink::builder().sync(false).build();
        pipeline
            .add_many([&video, frames.upcast_ref(), &audio, sound.upcast_ref()])
            .expect("add");
        video.link(&frames).expect("link video");
        audio.link(&sound).expect("link audio");
        pipeline.set_state(gst::State::Playing).expect("play");
        ChannelSide {
            pipeline,
            video: video.downcast().expect("appsrc"),
            audio: audio.downcast().expect("appsrc"),
            frames,
            sound,
        }
    }

    /// Frames that reach the channel carry the decoder's own `GstVideoMeta`: libav rendered
    /// into them directly. Without the allocation answer each one was a copy, with no meta.
    #[test]
    fn decoded_frames_reach_the_channel_without_a_copy() {
        gst::init().expect("gst");
        let dir = tempfile::tempdir().expect("tempdir");
        let clip = h264_file(dir.path());
        let channel = channel_side();
        let decoder = Arc::new(crate::video_decoder::VideoDecoder::default());
        let source = FileSource::start(
            &clip,
            false,
            channel.video.clone(),
            channel.audio.clone(),
            decoder.clone(),
        );
        let mut with_meta = Vec::new();
        while let Some(sample) = channel
            .frames
            .try_pull_sample(gst::ClockTime::from_seconds(10))
        {
            let buffer = sample.buffer().expect("buffer");
            with_meta.push(buffer.meta::<gst_video::VideoMeta>().is_some());
        }
        drop(source);
        channel.pipeline.set_state(gst::State::Null).expect("stop");
        assert_eq!(with_meta.len(), 30, "every frame of the clip arrives");
        // The decoder the probe says inputs use (libav's without a GPU) is the one it got.
        let first = crate::probe::video_decoders()
            .into_iter()
            .find(|d| d.codec == feedline_config::Codec::H264)
            .map(|d| d.element);
        assert!(first.is_some());
        assert_eq!(decoder.name().map(|n| n.to_string()), first);
        // The first frames may be copies: the decoder asks again only after its pad is linked.
        let direct = with_meta.iter().filter(|m| **m).count();
        assert!(
            direct >= 25 && with_meta[5..].iter().all(|m| *m),
            "frames rendered in place: {with_meta:?}"
        );
    }

    /// A clip without sound (`h264_file` has none): its audio appsrc gets silence, 48 kHz
    /// stereo, exactly as long as its 30 pictures, starting with the first.
    #[test]
    fn a_file_without_audio_brings_silence_as_long_as_its_pictures() {
        gst::init().expect("gst");
        let dir = tempfile::tempdir().expect("tempdir");
        let clip = h264_file(dir.path());
        let channel = channel_side();
        let source = FileSource::start(
            &clip,
            false,
            channel.video.clone(),
            channel.audio.clone(),
            Arc::default(),
        );
        let (frames, sound) = (&channel.frames, &channel.sound);
        let mut first_picture = None;
        while let Some(sample) = frames.try_pull_sample(gst::ClockTime::from_seconds(10)) {
            first_picture = first_picture.or(sample.buffer().and_then(|b| b.pts()));
        }
        let mut samples = 0;
        let mut first_sound = None;
        let mut caps = None;
        while let Some(sample) = sound.try_pull_sample(gst::ClockTime::from_seconds(1)) {
            caps = caps.or(sample.caps().map(|c| c.to_owned()));
            let buffer = sample.buffer().expect("buffer");
            first_sound = first_sound.or(buffer.pts());
            let map = buffer.map_readable().expect("map");
            assert!(map.iter().all(|b| *b == 0), "not silent");
            samples += map.len() / 4;
        }
        drop(source);
        channel.pipeline.set_state(gst::State::Null).expect("stop");
        let caps = caps.expect("caps on the silence");
        let s = caps.structure(0).expect("structure");
        assert_eq!(s.get::<i32>("rate").ok(), Some(48_000), "{caps}");
        assert_eq!(s.get::<i32>("channels").ok(), Some(2), "{caps}");
        assert_eq!(
            samples, 48_000,
            "one second of sound for 30 pictures at 30 fps"
        );
        assert!(first_picture.is_some());
        assert_eq!(first_sound, first_picture);
    }
}
