//! H.264 `pic_timing` SEI (ITU-T H.264 D.1.3) carrying the frame's timecode, written by us.
//!
//! x264 (with `pic-struct=1`) writes a `pic_timing` SEI on every picture, with its HRD delays and
//! no clock timestamp. GStreamer 1.22's `h264parse update-timecode=true` fills the timecode in,
//! but splices its rewritten SEI in at the wrong offset: it cut the last bytes (`00 80`) off
//! x264's user-data SEI on the first IDR and left the old SEI's tail after the new one (`80` on
//! every picture, `00 20 80` where x264's SEI carried an emulation-prevention byte). FFmpeg
//! reported every picture's SEI as broken (`SEI type 128 size 1024 truncated at 8`,
//! `trace_headers`: "Failed to read unit"); a strict receiver may drop the timecode or worse.
//! So a pad probe after h264parse rewrites the whole `pic_timing` NAL unit itself: x264's
//! delays and picture structure kept, a full clock timestamp added, lengths taken from the SPS.

use crate::nal_bits::{escape, nal_units, unescape, BitReader, BitWriter};
use crate::timecode_sei::{rewrite_access_units, Timecode};
use gstreamer as gst;
use std::sync::Mutex;

const NAL_SPS: u8 = 7;
const NAL_SEI: u8 = 6;
const SEI_PIC_TIMING: u32 = 1;

/// What the SPS says the `pic_timing` SEI holds (its VUI and HRD parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PicTimingLayout {
    /// `CpbDpbDelaysPresentFlag`: NAL or VCL HRD parameters present.
    pub delays: bool,
    pub cpb_removal_delay_bits: u8,
    pub dpb_output_delay_bits: u8,
    pub time_offset_bits: u8,
    pub pic_struct_present: bool,
}

/// Reads the `pic_timing` layout from an SPS (RBSP without the NAL header byte); `None` when
/// the SPS cannot be read or has no VUI.
pub fn layout_from_sps(sps: &[u8]) -> Option<PicTimingLayout> {
    let mut r = BitReader::new(sps);
    let profile_idc = r.bits(8)?;
    r.bits(16)?; // constraint flags, level_idc
    r.ue()?; // seq_parameter_set_id
    if [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].contains(&profile_idc) {
        let chroma_format_idc = r.ue()?;
        if chroma_format_idc == 3 {
            r.bit()?; // separate_colour_plane_flag
        }
        r.ue()?; // bit_depth_luma_minus8
        r.ue()?; // bit_depth_chroma_minus8
        r.bit()?; // qpprime_y_zero_transform_bypass_flag
        if r.bit()? == 1 {
            let lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.bit()? == 1 {
                    skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num_minus4
    match r.ue()? {
        0 => {
            r.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            r.bit()?; // delta_pic_order_always_zero_flag
            r.se()?; // offset_for_non_ref_pic
            r.se()?; // offset_for_top_to_bottom_field
            for _ in 0..r.ue()? {
                r.se()?; // offset_for_ref_frame
            }
        }
        _ => {}
    }
    r.ue()?; // max_num_ref_frames
    r.bit()?; // gaps_in_frame_num_value_allowed_flag
    r.ue()?; // pic_width_in_mbs_minus1
    r.ue()?; // pic_height_in_map_units_minus1
    if r.bit()? == 0 {
        r.bit()?; // mb_adaptive_frame_field_flag
    }
    r.bit()?; // direct_8x8_inference_flag
    if r.bit()? == 1 {
        for _ in 0..4 {
            r.ue()?; // frame_crop_*_offset
        }
    }
    if r.bit()? == 0 {
        return None; // no VUI: no pic_struct, no HRD
    }
    if r.bit()? == 1 && r.bits(8)? == 255 {
        r.bits(32)?; // sar_width, sar_height
    }
    if r.bit()? == 1 {
        r.bit()?; // overscan_appropriate_flag
    }
    if r.bit()? == 1 {
        r.bits(4)?; // video_format, video_full_range_flag
        if r.bit()? == 1 {
            r.bits(24)?; // colour_primaries, transfer, matrix
        }
    }
    if r.bit()? == 1 {
        r.ue()?; // chroma_sample_loc_type_top_field
        r.ue()?; // chroma_sample_loc_type_bottom_field
    }
    if r.bit()? == 1 {
        r.bits(32)?; // num_units_in_tick
        r.bits(32)?; // time_scale
        r.bit()?; // fixed_frame_rate_flag
    }
    let mut layout = PicTimingLayout::default();
    let nal_hrd = r.bit()? == 1;
    if nal_hrd {
        read_hrd(&mut r, &mut layout)?;
    }
    let vcl_hrd = r.bit()? == 1;
    if vcl_hrd {
        read_hrd(&mut r, &mut layout)?;
    }
    if nal_hrd || vcl_hrd {
        layout.delays = true;
        r.bit()?; // low_delay_hrd_flag
    }
    layout.pic_struct_present = r.bit()? == 1;
    Some(layout)
}

fn skip_scaling_list(r: &mut BitReader, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i32, 8i32);
    for _ in 0..size {
        if next != 0 {
            next = (last + r.se()? + 256) % 256;
        }
        last = if next == 0 { last } else { next };
    }
    Some(())
}

/// hrd_parameters(): only the field lengths matter here (NAL and VCL must agree).
fn read_hrd(r: &mut BitReader, layout: &mut PicTimingLayout) -> Option<()> {
    let cpb_count = r.ue()? + 1;
    r.bits(8)?; // bit_rate_scale, cpb_size_scale
    for _ in 0..cpb_count {
        r.ue()?; // bit_rate_value_minus1
        r.ue()?; // cpb_size_value_minus1
        r.bit()?; // cbr_flag
    }
    r.bits(5)?; // initial_cpb_removal_delay_length_minus1
    layout.cpb_removal_delay_bits = r.bits(5)? as u8 + 1;
    layout.dpb_output_delay_bits = r.bits(5)? as u8 + 1;
    layout.time_offset_bits = r.bits(5)? as u8;
    Some(())
}

/// Clock timestamps a picture structure carries (Table D-1).
fn clock_timestamps(pic_struct: u32) -> u32 {
    match pic_struct {
        0..=2 => 1,
        3 | 4 | 7 => 2,
        5 | 6 | 8 => 3,
        _ => 1,
    }
}

/// A `pic_timing` payload: the encoder's delays and picture structure (read from `old`), then
/// `tc` as a full clock timestamp.
pub fn pic_timing_payload(old: &[u8], layout: &PicTimingLayout, tc: &Timecode) -> Option<Vec<u8>> {
    let mut r = BitReader::new(old);
    let mut w = BitWriter::new();
    if layout.delays {
        w.put(
            r.bits(layout.cpb_removal_delay_bits)?,
            layout.cpb_removal_delay_bits,
        );
        w.put(
            r.bits(layout.dpb_output_delay_bits)?,
            layout.dpb_output_delay_bits,
        );
    }
    if layout.pic_struct_present {
        let pic_struct = r.bits(4)?;
        w.put(pic_struct, 4);
        for i in 0..clock_timestamps(pic_struct) {
            // The timecode in the first; the others (field repeats) carry none.
            w.put(u32::from(i == 0), 1); // clock_timestamp_flag
            if i > 0 {
                continue;
            }
            w.put(u32::from(pic_struct != 0), 2); // ct_type: progressive frame, or interlaced
                                                  // The VUI's tick is a field (time_scale = 2 × frame rate), so a frame counts 2.
            w.put(1, 1); // nuit_field_based_flag
            w.put(if tc.drop_frame { 4 } else { 0 }, 5); // counting_type
            w.put(1, 1); // full_timestamp_flag: every picture stands alone
            w.put(0, 1); // discontinuity_flag
            w.put(0, 1); // cnt_dropped_flag
            w.put(tc.frames & 0xff, 8);
            w.put(tc.seconds & 0x3f, 6);
            w.put(tc.minutes & 0x3f, 6);
            w.put(tc.hours & 0x1f, 5);
            if layout.time_offset_bits > 0 {
                w.put(0, layout.time_offset_bits);
            }
        }
    }
    w.align_payload();
    Some(w.bytes)
}

/// One SEI message: its type and payload bytes (RBSP).
struct SeiMessage {
    payload_type: u32,
    payload: Vec<u8>,
}

/// The messages of an SEI RBSP (after the header byte), up to its trailing bits; anything
/// after those (h264parse's leftovers) is dropped. `None` when a size runs past the end.
fn sei_messages(rbsp: &[u8]) -> Option<Vec<SeiMessage>> {
    let mut messages = Vec::new();
    let mut i = 0;
    // A message starts unless only the trailing bits (0x80) are left here.
    while i < rbsp.len() && rbsp[i] != 0x80 {
        let read_value = |i: &mut usize| -> Option<u32> {
            let mut v = 0u32;
            loop {
                let b = *rbsp.get(*i)?;
                *i += 1;
                v += u32::from(b);
                if b != 0xff {
                    return Some(v);
                }
            }
        };
        let payload_type = read_value(&mut i)?;
        let size = read_value(&mut i)? as usize;
        let payload = rbsp.get(i..i + size)?.to_vec();
        i += size;
        messages.push(SeiMessage {
            payload_type,
            payload,
        });
    }
    Some(messages)
}

fn put_value(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0xff {
        out.push(0xff);
        v -= 0xff;
    }
    out.push(v as u8);
}

/// An SEI NAL unit (header byte first, escaped) with its `pic_timing` message rewritten to
/// carry `tc`; `None` when it has no `pic_timing` or cannot be read.
pub fn rewrite_sei(nal: &[u8], layout: &PicTimingLayout, tc: &Timecode) -> Option<Vec<u8>> {
    let (&header, body) = nal.split_first()?;
    let mut messages = sei_messages(&unescape(body))?;
    let timing = messages
        .iter_mut()
        .find(|m| m.payload_type == SEI_PIC_TIMING)?;
    timing.payload = pic_timing_payload(&timing.payload, layout, tc)?;
    let mut rbsp = Vec::with_capacity(nal.len() + 8);
    for m in &messages {
        put_value(&mut rbsp, m.payload_type as usize);
        put_value(&mut rbsp, m.payload.len());
        rbsp.extend_from_slice(&m.payload);
    }
    rbsp.push(0x80); // rbsp_trailing_bits
    let mut out = vec![header];
    out.extend(escape(&rbsp));
    Some(out)
}

/// The access unit with its `pic_timing` SEI carrying `tc`. `layout` is the last SPS's,
/// updated from this access unit's SPS if it has one. `None` when nothing was rewritten.
pub fn rewrite_access_unit(
    au: &[u8],
    layout: &mut Option<PicTimingLayout>,
    tc: &Timecode,
) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    for span in nal_units(au) {
        let nal = &au[span.start..span.end];
        match nal.first().map(|h| h & 0x1f) {
            Some(NAL_SPS) => *layout = layout_from_sps(&unescape(&nal[1..])),
            Some(NAL_SEI) => {
                let Some(new) = layout.as_ref().and_then(|l| rewrite_sei(nal, l, tc)) else {
                    continue;
                };
                let buf = out.get_or_insert_with(|| Vec::with_capacity(au.len() + 16));
                buf.extend_from_slice(&au[copied..span.start]);
                buf.extend_from_slice(&new);
                copied = span.end;
            }
            Some(t) if (1..=5).contains(&t) => break, // slices: no SEI after them
            _ => {}
        }
    }
    let mut out = out?;
    out.extend_from_slice(&au[copied..]);
    Some(out)
}

/// Writes the frame's timecode into the `pic_timing` SEI of every access unit leaving
/// `parser` (an h264parse without `update-timecode`).
pub fn install(parser: &gst::Element) {
    let layout = Mutex::new(None);
    rewrite_access_units(parser, move |au, tc| {
        let mut layout = layout.lock().unwrap_or_else(|p| p.into_inner());
        rewrite_access_unit(au, &mut layout, tc)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
            .collect()
    }

    const TC: Timecode = Timecode {
        hours: 10,
        minutes: 20,
        seconds: 30,
        frames: 15,
        drop_frame: false,
    };

    /// The SPS of a 320x180 Main-profile rung of ours (x264, NAL HRD for CBR, pic_struct).
    const RUNG_SPS: &str =
        "674d400dda05067e7c05a830303528000003000800000301e71300186a0030d7249007c50aa8";
    /// x264 in High 4:4:4 Predictive (the chroma format and bit depth fields are present).
    const HIGH444_SPS: &str =
        "67f4000d90d96405067e37016a0c0c0c80000003008000001e701000f42000249fc5a601f142a480";

    fn x264_layout() -> PicTimingLayout {
        PicTimingLayout {
            delays: true,
            cpb_removal_delay_bits: 10,
            dpb_output_delay_bits: 5,
            time_offset_bits: 0,
            pic_struct_present: true,
        }
    }

    /// The layouts read from whole SPSs match what FFmpeg's `trace_headers` printed for them
    /// (cpb_removal_delay_length_minus1, dpb_output_delay_length_minus1, time_offset_length,
    /// pic_struct_present_flag).
    #[test]
    fn layout_of_x264_sps() {
        let rung = hex(RUNG_SPS);
        assert_eq!(layout_from_sps(&unescape(&rung[1..])), Some(x264_layout()));
        let high444 = hex(HIGH444_SPS);
        assert_eq!(
            layout_from_sps(&unescape(&high444[1..])),
            Some(PicTimingLayout {
                cpb_removal_delay_bits: 14,
                dpb_output_delay_bits: 7,
                ..x264_layout()
            })
        );
        // Cut short: unreadable, not a guess.
        assert_eq!(layout_from_sps(&unescape(&rung[1..12])), None);
    }

    #[test]
    fn payload_keeps_the_delays_and_adds_a_full_timestamp() {
        // x264's payload: cpb_removal_delay 2, dpb_output_delay 0, pic_struct 0, no clock
        // timestamp, then alignment.
        let old = hex("0080002080");
        let bits: String = pic_timing_payload(&old[..4], &x264_layout(), &TC)
            .unwrap_or_default()
            .iter()
            .map(|b| format!("{b:08b}"))
            .collect();
        let fields = [
            "0000000010", // cpb_removal_delay 2
            "00000",      // dpb_output_delay 0
            "0000",       // pic_struct: frame
            "1",          // clock_timestamp_flag
            "00",         // ct_type progressive
            "1",          // nuit_field_based_flag
            "00000",      // counting_type
            "1",          // full_timestamp_flag
            "0",          // discontinuity_flag
            "0",          // cnt_dropped_flag
            "00001111",   // n_frames 15
            "011110",     // seconds 30
            "010100",     // minutes 20
            "01010",      // hours 10
        ];
        // 56 bits: byte aligned, so no payload alignment bits.
        assert_eq!(bits, fields.concat());
    }

    /// The SEI h264parse wrote on a non-IDR picture (`06 01 06 … 80` followed by x264's old
    /// trailing `80`) and on the first IDR (with the old tail `00 20 80`): both come out as
    /// one `pic_timing` message and one trailing byte.
    #[test]
    fn leftovers_after_the_trailing_bits_are_dropped() {
        for broken in ["06010600080048000a8080", "0601060000030048000280002080"] {
            let out = rewrite_sei(&hex(broken), &x264_layout(), &TC).expect("rewritten");
            let rbsp = unescape(&out[1..]);
            assert_eq!(rbsp[0], 1, "pic_timing");
            let size = rbsp[1] as usize;
            assert_eq!(rbsp.len(), 2 + size + 1, "{broken}: {}", hex_of(&out));
            assert_eq!(rbsp.last(), Some(&0x80));
        }
    }

    fn hex_of(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// x264's own SEI (`06 01 04 00 00 03 00 20 80`: an emulation-prevention byte inside)
    /// rewritten: its delays survive, and the new NAL is escaped again.
    #[test]
    fn x264_sei_with_emulation_prevention() {
        let out = rewrite_sei(&hex("060104000003002080"), &x264_layout(), &TC).expect("rewritten");
        let rbsp = unescape(&out[1..]);
        let mut r = BitReader::new(&rbsp[2..]);
        assert_eq!(r.bits(10), Some(0), "cpb_removal_delay");
        assert_eq!(r.bits(5), Some(0), "dpb_output_delay");
        assert!(!out
            .windows(3)
            .any(|w| w[0] == 0 && w[1] == 0 && w[2] <= 3 && w[2] != 3));
    }

    #[test]
    fn other_messages_in_the_same_nal_are_kept() {
        // buffering_period (type 0, 1 byte) then pic_timing.
        let nal = hex("0600018001040008002080");
        let out = rewrite_sei(&nal, &x264_layout(), &TC).expect("rewritten");
        let rbsp = unescape(&out[1..]);
        assert_eq!(&rbsp[..3], &[0, 1, 0x80]);
        assert_eq!(rbsp[3], 1);
        assert_eq!(rbsp.len(), 3 + 2 + rbsp[4] as usize + 1);
    }

    #[test]
    fn an_sei_without_pic_timing_is_left_alone() {
        assert!(rewrite_sei(&hex("06000597bb60a8c480"), &x264_layout(), &TC).is_none());
    }

    /// A whole access unit: the SPS gives the layout, the SEI before the slice is rewritten,
    /// everything else is byte for byte the same; without an SPS seen yet nothing changes.
    #[test]
    fn access_unit_rewrite() {
        let sps = hex(RUNG_SPS);
        let mut au = vec![0, 0, 0, 1, 9, 0x10, 0, 0, 0, 1];
        au.extend_from_slice(&sps);
        au.extend_from_slice(&[0, 0, 0, 1]);
        au.extend_from_slice(&hex("060104000800208000"));
        let slice_at = au.len();
        au.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88, 0x84]);
        let mut layout = None;
        let out = rewrite_access_unit(&au, &mut layout, &TC).expect("rewritten");
        assert_eq!(layout, Some(x264_layout()));
        assert_eq!(&out[..slice_at - 9], &au[..slice_at - 9]);
        assert!(
            out.ends_with(&au[slice_at - 1..]),
            "slice and its start code kept"
        );
        let without_sps: Vec<u8> = [&au[..10], &au[10 + sps.len() + 4..]].concat();
        assert!(rewrite_access_unit(&without_sps, &mut None, &TC).is_none());
    }
}
