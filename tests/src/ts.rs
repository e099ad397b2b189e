//! MPEG-TS packet-level checks on raw captured bytes: sync, PIDs and continuity counters.

use std::collections::HashMap;

pub const PACKET: usize = 188;

#[derive(Debug, Default)]
pub struct TsReport {
    pub packets: u64,
    pub sync_errors: u64,
    pub continuity_errors: u64,
    pub pids: HashMap<u16, u64>,
    /// Human-readable description of the first few errors.
    pub errors: Vec<String>,
}

/// Checks continuity counters per PID, following ISO/IEC 13818-1 §2.4.3.3: the counter
/// increments on packets with payload, may repeat once (duplicate packet), and restarts freely
/// after a discontinuity_indicator. The capture may begin mid-packet: it resyncs on 0x47.
pub fn check(bytes: &[u8]) -> TsReport {
    let mut report = TsReport::default();
    let mut last_cc: HashMap<u16, (u8, bool)> = HashMap::new();
    let mut offset = (0..PACKET.min(bytes.len()))
        .find(|&o| (0..3).all(|k| bytes.get(o + k * PACKET).is_none_or(|b| *b == 0x47)))
        .unwrap_or(0);
    let mut in_sync = true;
    while offset + PACKET <= bytes.len() {
        let p = &bytes[offset..offset + PACKET];
        if p[0] != 0x47 {
            // Where the stream broke, to find it in the capture afterwards.
            if in_sync && report.errors.len() < 10 {
                report.errors.push(format!(
                    "sync lost at byte {offset} (after packet {})",
                    report.packets
                ));
            }
            in_sync = false;
            report.sync_errors += 1;
            offset += 1;
            continue;
        }
        if !in_sync && report.errors.len() < 10 {
            report
                .errors
                .push(format!("sync found again at byte {offset}"));
        }
        in_sync = true;
        offset += PACKET;
        report.packets += 1;
        let pid = (u16::from(p[1] & 0x1f) << 8) | u16::from(p[2]);
        *report.pids.entry(pid).or_default() += 1;
        if pid == 0x1fff {
            continue; // null packets carry no meaningful counter
        }
        let afc = (p[3] >> 4) & 0x3;
        let cc = p[3] & 0x0f;
        let has_payload = afc & 0x1 != 0;
        let discontinuity = afc & 0x2 != 0 && p[4] > 0 && p[5] & 0x80 != 0;
        match last_cc.get(&pid) {
            Some(&(prev, _)) if !discontinuity => {
                let expected = if has_payload { (prev + 1) & 0x0f } else { prev };
                let duplicate = has_payload && cc == prev;
                if cc != expected && !duplicate {
                    report.continuity_errors += 1;
                    if report.errors.len() < 10 {
                        report.errors.push(format!(
                            "PID 0x{pid:04x} at packet {}: expected CC {expected}, got {cc}",
                            report.packets
                        ));
                    }
                }
            }
            _ => {}
        }
        last_cc.insert(pid, (cc, has_payload));
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(pid: u16, cc: u8) -> Vec<u8> {
        let mut p = vec![0xffu8; PACKET];
        p[0] = 0x47;
        p[1] = (pid >> 8) as u8 & 0x1f;
        p[2] = pid as u8;
        p[3] = 0x10 | (cc & 0x0f);
        p
    }

    #[test]
    fn counts_a_gap_as_a_continuity_error() {
        let mut bytes = Vec::new();
        for cc in [0, 1, 2, 4, 5] {
            bytes.extend(packet(0x100, cc));
        }
        let r = check(&bytes);
        assert_eq!(r.packets, 5);
        assert_eq!(r.continuity_errors, 1);
    }

    #[test]
    fn says_where_sync_was_lost_and_found() {
        // A 40-byte piece of a packet after the first: the checker reads it as a packet
        // running into the next one, then finds the packet after that.
        let mut bytes = packet(0x100, 0);
        bytes.extend(&packet(0x100, 1)[..40]);
        for cc in 2..5 {
            bytes.extend(packet(0x100, cc));
        }
        let r = check(&bytes);
        assert_eq!(r.packets, 4);
        assert_eq!(r.sync_errors, 40);
        // (The piece also broke the counter: packet 3 follows packet 1's piece.)
        assert_eq!(
            r.errors,
            [
                "sync lost at byte 376 (after packet 2)",
                "sync found again at byte 416",
                "PID 0x0100 at packet 3: expected CC 2, got 3"
            ]
        );
    }

    #[test]
    fn wraps_and_tolerates_one_duplicate() {
        let mut bytes = Vec::new();
        for cc in [14, 15, 15, 0, 1] {
            bytes.extend(packet(0x101, cc));
        }
        assert_eq!(check(&bytes).continuity_errors, 0);
    }

    #[test]
    fn resyncs_after_a_partial_first_packet() {
        let mut bytes = vec![0u8; 50];
        for cc in 0..5 {
            bytes.extend(packet(0x100, cc));
        }
        let r = check(&bytes);
        assert_eq!(r.packets, 5);
        assert_eq!(r.continuity_errors, 0);
    }
}
