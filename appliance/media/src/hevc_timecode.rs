//! HEVC `time_code` SEI (ITU-T H.265 D.2.27, payload type 136), written by us.
//!
//! GStreamer 1.22's h265parse cannot write timecode into HEVC streams, so every HEVC rung would
//! reach the cloud without the timecode that lets it align two feeds. A pad probe after h265parse
//! builds the SEI from the frame's `GstVideoTimeCodeMeta` and splices it in front of the access
//! unit's first slice.

use crate::nal_bits::{escape, nal_units, BitWriter};
use crate::timecode_sei::{rewrite_access_units, Timecode};
use gstreamer as gst;

/// The `time_code` payload: one clock timestamp, full (h:m:s:f), then payload byte alignment.
fn time_code_payload(tc: &Timecode) -> Vec<u8> {
    let mut w = BitWriter::new();
    w.put(1, 2); // num_clock_ts
    w.put(1, 1); // clock_timestamp_flag
    w.put(0, 1); // units_field_based_flag: progressive frames
    w.put(if tc.drop_frame { 4 } else { 0 }, 5); // counting_type
    w.put(1, 1); // full_timestamp_flag
    w.put(0, 1); // discontinuity_flag
    w.put(0, 1); // cnt_dropped_flag
    w.put(tc.frames & 0x1ff, 9);
    w.put(tc.seconds & 0x3f, 6);
    w.put(tc.minutes & 0x3f, 6);
    w.put(tc.hours & 0x1f, 5);
    w.put(0, 5); // time_offset_length
    w.align_payload();
    w.bytes
}

/// A complete prefix-SEI NAL unit (with a 4-byte start code) carrying `tc`.
pub fn time_code_sei_nal(tc: &Timecode) -> Vec<u8> {
    let payload = time_code_payload(tc);
    let mut rbsp = vec![136u8, payload.len() as u8];
    rbsp.extend_from_slice(&payload);
    rbsp.push(0x80); // rbsp_trailing_bits
                     // nal_unit_type 39 (PREFIX_SEI), layer 0, temporal id 1.
    let mut nal = vec![0, 0, 0, 1, 39 << 1, 1];
    nal.extend(escape(&rbsp));
    nal
}

/// Byte offset of the start code of the first VCL NAL unit (types 0–31) in an Annex-B access unit.
pub fn first_slice_offset(au: &[u8]) -> Option<usize> {
    let slice = nal_units(au).find(|u| au.get(u.start).is_some_and(|h| (h >> 1) & 0x3f < 32))?;
    // Back over the start code, and the fourth zero of a 4-byte one.
    let at = slice.start - 3;
    Some(if at > 0 && au[at - 1] == 0 {
        at - 1
    } else {
        at
    })
}

/// The access unit with `sei` spliced in before its first slice.
pub fn insert_before_first_slice(au: &[u8], sei: &[u8]) -> Option<Vec<u8>> {
    let at = first_slice_offset(au)?;
    let mut out = Vec::with_capacity(au.len() + sei.len());
    out.extend_from_slice(&au[..at]);
    out.extend_from_slice(sei);
    out.extend_from_slice(&au[at..]);
    Some(out)
}

/// Writes the frame's timecode into every access unit leaving `parser` (an h265parse).
pub fn install(parser: &gst::Element) {
    rewrite_access_units(parser, |au, tc| {
        insert_before_first_slice(au, &time_code_sei_nal(tc))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_bits_for_a_known_timecode() {
        // 10:20:30:15 non-drop, field by field:
        // num_clock_ts 01 | flag 1 | field 0 | counting 00000 | full 1 | disc 0 | dropped 0 |
        // frames 000001111 | s 011110 | m 010100 | h 01010 | offset_len 00000 | align 1 0000
        let tc = Timecode {
            hours: 10,
            minutes: 20,
            seconds: 30,
            frames: 15,
            drop_frame: false,
        };
        let bits: String = time_code_payload(&tc)
            .iter()
            .map(|b| format!("{b:08b}"))
            .collect();
        let fields = [
            "01",
            "1",
            "0",
            "00000",
            "1",
            "0",
            "0",
            "000001111",
            "011110",
            "010100",
            "01010",
            "00000",
            "1",
            "0000",
        ];
        assert_eq!(bits, fields.concat());
        assert_eq!(bits.len(), 48);
    }

    #[test]
    fn sei_nal_is_a_prefix_sei_with_type_136_and_trailing_bits() {
        let nal = time_code_sei_nal(&Timecode {
            hours: 1,
            minutes: 2,
            seconds: 3,
            frames: 4,
            drop_frame: true,
        });
        assert_eq!(&nal[..6], &[0, 0, 0, 1, 0x4e, 0x01]);
        assert_eq!(nal[6], 136);
        assert_eq!(nal[7] as usize, nal.len() - 9);
        assert_eq!(*nal.last().unwrap_or(&0), 0x80);
    }

    #[test]
    fn inserted_after_parameter_sets_before_the_first_slice() {
        // AUD (35), VPS (32), IDR slice (19)
        let au = [
            0,
            0,
            0,
            1,
            35 << 1,
            1,
            0x50,
            0,
            0,
            0,
            1,
            32 << 1,
            1,
            9,
            0,
            0,
            1,
            19 << 1,
            1,
            0xaa,
        ];
        let sei = [0, 0, 0, 1, 39 << 1, 1, 0xee];
        let out = insert_before_first_slice(&au, &sei).unwrap_or_default();
        let expected: Vec<u8> = [&au[..14], &sei[..], &au[14..]].concat();
        assert_eq!(out, expected);
        assert_eq!(
            insert_before_first_slice(&au[..14], &sei),
            None,
            "no slice, nothing to do"
        );
    }
}
