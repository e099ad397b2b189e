//! Bits of H.264/H.265 NAL units: reading and writing fields (fixed width and Exp-Golomb),
//! emulation prevention, and finding NAL units in an Annex-B access unit. Shared by the
//! timecode SEI writers.

/// Writes fields most significant bit first.
pub struct BitWriter {
    pub bytes: Vec<u8>,
    bit: u8,
}

impl BitWriter {
    pub fn new() -> Self {
        BitWriter {
            bytes: Vec::new(),
            bit: 0,
        }
    }

    pub fn put(&mut self, value: u32, bits: u8) {
        for i in (0..bits).rev() {
            if self.bit == 0 {
                self.bytes.push(0);
            }
            let b = ((value >> i) & 1) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= b << (7 - self.bit);
            }
            self.bit = (self.bit + 1) % 8;
        }
    }

    pub fn aligned(&self) -> bool {
        self.bit == 0
    }

    /// An SEI payload's end: a one bit, then zeros to the byte boundary, unless already there.
    pub fn align_payload(&mut self) {
        if !self.aligned() {
            self.put(1, 1);
            while !self.aligned() {
                self.put(0, 1);
            }
        }
    }
}

/// Reads fields of an RBSP (emulation prevention already removed); `None` past its end.
pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    pub fn bit(&mut self) -> Option<u32> {
        let byte = self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(b))
    }

    pub fn bits(&mut self, n: u8) -> Option<u32> {
        (0..n).try_fold(0u32, |v, _| Some((v << 1) | self.bit()?))
    }

    /// ue(v): unsigned Exp-Golomb.
    pub fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0u8;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        Some((1u32 << zeros) - 1 + self.bits(zeros)?)
    }

    /// se(v): signed Exp-Golomb.
    pub fn se(&mut self) -> Option<i32> {
        let k = self.ue()?;
        let magnitude = k.div_ceil(2) as i32;
        Some(if k % 2 == 1 { magnitude } else { -magnitude })
    }
}

/// Inserts emulation-prevention bytes: no 00 00 0x (x ≤ 3) may appear inside a NAL unit.
pub fn escape(rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + 4);
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

/// Removes emulation-prevention bytes (the 03 of each 00 00 03).
pub fn unescape(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

/// Where one NAL unit lies in an Annex-B access unit: `start..end` is the unit itself (header
/// byte first), without its start code and without the zero bytes before the next start code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NalSpan {
    pub start: usize,
    pub end: usize,
}

/// The NAL units of an Annex-B access unit, in order; found as they are read, so a caller that
/// stops at the first slice never scans the picture data.
pub fn nal_units(au: &[u8]) -> NalUnits<'_> {
    NalUnits {
        au,
        next: start_code_after(au, 0),
    }
}

pub struct NalUnits<'a> {
    au: &'a [u8],
    /// Where the next unit starts (just after its start code).
    next: Option<usize>,
}

/// The position just after the first `00 00 01` at or after `from`.
fn start_code_after(au: &[u8], from: usize) -> Option<usize> {
    au.get(from..)?
        .windows(3)
        .position(|w| w == [0, 0, 1])
        .map(|p| from + p + 3)
}

impl Iterator for NalUnits<'_> {
    type Item = NalSpan;

    fn next(&mut self) -> Option<NalSpan> {
        let start = self.next?;
        self.next = start_code_after(self.au, start);
        let mut end = self.next.map_or(self.au.len(), |next| next - 3);
        while end > start && self.au[end - 1] == 0 {
            end -= 1;
        }
        Some(NalSpan { start, end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulation_prevention_round_trips() {
        let rbsp = [0, 0, 1, 0, 0, 0, 5, 0, 0, 3];
        let escaped = escape(&rbsp);
        assert_eq!(escaped, vec![0, 0, 3, 1, 0, 0, 3, 0, 5, 0, 0, 3, 3]);
        assert_eq!(unescape(&escaped), rbsp);
    }

    #[test]
    fn exp_golomb_fields() {
        // ue: 1 → 0, 010 → 1, 011 → 2, 00100 → 3; se: 00101 → -2 (k = 4)
        let mut w = BitWriter::new();
        for (v, n) in [(1, 1), (2, 3), (3, 3), (4, 5), (5, 5)] {
            w.put(v, n);
        }
        let mut r = BitReader::new(&w.bytes);
        assert_eq!(
            [r.ue(), r.ue(), r.ue(), r.ue()],
            [Some(0), Some(1), Some(2), Some(3)]
        );
        assert_eq!(r.se(), Some(-2));
        assert_eq!(BitReader::new(&[]).bit(), None);
    }

    #[test]
    fn payload_alignment_adds_a_one_then_zeros_only_when_needed() {
        let mut w = BitWriter::new();
        w.put(0b101, 3);
        w.align_payload();
        assert_eq!(w.bytes, vec![0b1011_0000]);
        w.put(0xab, 8);
        w.align_payload();
        assert_eq!(w.bytes, vec![0b1011_0000, 0xab]);
    }

    #[test]
    fn nal_units_of_an_access_unit() {
        // AUD with a 4-byte start code, SEI with a 3-byte one, a slice at the end.
        let au = [
            0, 0, 0, 1, 9, 0x10, 0, 0, 1, 6, 1, 0x80, 0, 0, 0, 1, 0x65, 0xaa,
        ];
        let units: Vec<&[u8]> = nal_units(&au).map(|s| &au[s.start..s.end]).collect();
        assert_eq!(units, vec![&[9, 0x10][..], &[6, 1, 0x80], &[0x65, 0xaa]]);
    }
}
