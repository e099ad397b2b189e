//! The libsrt 1.5 declarations the group sender uses (srt/srt.h of Debian's libsrt-gnutls-dev
//! 1.5.1), and nothing else. Layouts are the header's, field for field.
#![allow(unsafe_code)]

use libc::{c_char, c_int, sockaddr, sockaddr_storage};
use std::ffi::c_void;

pub type SrtSocket = i32;
pub const SRT_INVALID_SOCK: SrtSocket = -1;
pub const SRT_ERROR: c_int = -1;

pub const SRT_GTYPE_BROADCAST: c_int = 1;
pub const SRT_GTYPE_BACKUP: c_int = 2;

// SRT_SOCKOPT values.
pub const SRTO_LATENCY: c_int = 23;
pub const SRTO_PASSPHRASE: c_int = 26;
pub const SRTO_PBKEYLEN: c_int = 27;
pub const SRTO_CONNTIMEO: c_int = 36;
pub const SRTO_STREAMID: c_int = 46;
pub const SRTO_BINDTODEVICE: c_int = 56;
pub const SRTO_PACKETFILTER: c_int = 60;
pub const SRTO_RETRANSMITALGO: c_int = 61;

// SRT_SOCKSTATUS values.
pub const SRTS_CONNECTING: c_int = 4;
pub const SRTS_CONNECTED: c_int = 5;

// SRT_MEMBERSTATUS values.
pub const SRT_GST_PENDING: c_int = 0;
pub const SRT_GST_RUNNING: c_int = 2;
pub const SRT_GST_BROKEN: c_int = 3;

/// `SRT_SOCKGROUPCONFIG`: one member link to connect.
#[repr(C)]
pub struct SrtSockGroupConfig {
    pub id: SrtSocket,
    pub srcaddr: sockaddr_storage,
    pub peeraddr: sockaddr_storage,
    pub weight: u16,
    pub config: *mut c_void,
    pub errorcode: c_int,
    pub token: c_int,
}

/// `SRT_SOCKGROUPDATA`: one member's state as the group sees it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SrtSockGroupData {
    pub id: SrtSocket,
    pub peeraddr: sockaddr_storage,
    pub sockstate: c_int,
    pub weight: u16,
    pub memberstate: c_int,
    pub result: c_int,
    pub token: c_int,
}

/// `SRT_MSGCTRL`.
#[repr(C)]
pub struct SrtMsgCtrl {
    pub flags: c_int,
    pub msgttl: c_int,
    pub inorder: c_int,
    pub boundary: c_int,
    pub srctime: i64,
    pub pktseq: i32,
    pub msgno: i32,
    pub grpdata: *mut SrtSockGroupData,
    pub grpdata_size: usize,
}

/// `SRT_TRACEBSTATS` (`struct CBytePerfMon`), generated from the header.
#[repr(C)]
#[derive(Default, Clone, Copy, Debug)]
pub struct SrtTraceBStats {
    pub ms_time_stamp: i64,
    pub pkt_sent_total: i64,
    pub pkt_recv_total: i64,
    pub pkt_snd_loss_total: c_int,
    pub pkt_rcv_loss_total: c_int,
    pub pkt_retrans_total: c_int,
    pub pkt_sent_acktotal: c_int,
    pub pkt_recv_acktotal: c_int,
    pub pkt_sent_naktotal: c_int,
    pub pkt_recv_naktotal: c_int,
    pub us_snd_duration_total: i64,
    pub pkt_snd_drop_total: c_int,
    pub pkt_rcv_drop_total: c_int,
    pub pkt_rcv_undecrypt_total: c_int,
    pub byte_sent_total: u64,
    pub byte_recv_total: u64,
    pub byte_rcv_loss_total: u64,
    pub byte_retrans_total: u64,
    pub byte_snd_drop_total: u64,
    pub byte_rcv_drop_total: u64,
    pub byte_rcv_undecrypt_total: u64,
    pub pkt_sent: i64,
    pub pkt_recv: i64,
    pub pkt_snd_loss: c_int,
    pub pkt_rcv_loss: c_int,
    pub pkt_retrans: c_int,
    pub pkt_rcv_retrans: c_int,
    pub pkt_sent_ack: c_int,
    pub pkt_recv_ack: c_int,
    pub pkt_sent_nak: c_int,
    pub pkt_recv_nak: c_int,
    pub mbps_send_rate: f64,
    pub mbps_recv_rate: f64,
    pub us_snd_duration: i64,
    pub pkt_reorder_distance: c_int,
    pub pkt_rcv_avg_belated_time: f64,
    pub pkt_rcv_belated: i64,
    pub pkt_snd_drop: c_int,
    pub pkt_rcv_drop: c_int,
    pub pkt_rcv_undecrypt: c_int,
    pub byte_sent: u64,
    pub byte_recv: u64,
    pub byte_rcv_loss: u64,
    pub byte_retrans: u64,
    pub byte_snd_drop: u64,
    pub byte_rcv_drop: u64,
    pub byte_rcv_undecrypt: u64,
    pub us_pkt_snd_period: f64,
    pub pkt_flow_window: c_int,
    pub pkt_congestion_window: c_int,
    pub pkt_flight_size: c_int,
    pub ms_rtt: f64,
    pub mbps_bandwidth: f64,
    pub byte_avail_snd_buf: c_int,
    pub byte_avail_rcv_buf: c_int,
    pub mbps_max_bw: f64,
    pub byte_mss: c_int,
    pub pkt_snd_buf: c_int,
    pub byte_snd_buf: c_int,
    pub ms_snd_buf: c_int,
    pub ms_snd_tsb_pd_delay: c_int,
    pub pkt_rcv_buf: c_int,
    pub byte_rcv_buf: c_int,
    pub ms_rcv_buf: c_int,
    pub ms_rcv_tsb_pd_delay: c_int,
    pub pkt_snd_filter_extra_total: c_int,
    pub pkt_rcv_filter_extra_total: c_int,
    pub pkt_rcv_filter_supply_total: c_int,
    pub pkt_rcv_filter_loss_total: c_int,
    pub pkt_snd_filter_extra: c_int,
    pub pkt_rcv_filter_extra: c_int,
    pub pkt_rcv_filter_supply: c_int,
    pub pkt_rcv_filter_loss: c_int,
    pub pkt_reorder_tolerance: c_int,
    pub pkt_sent_unique_total: i64,
    pub pkt_recv_unique_total: i64,
    pub byte_sent_unique_total: u64,
    pub byte_recv_unique_total: u64,
    pub pkt_sent_unique: i64,
    pub pkt_recv_unique: i64,
    pub byte_sent_unique: u64,
    pub byte_recv_unique: u64,
}

// Linked statically by build.rs (libsrt with ENABLE_BONDING).
extern "C" {
    pub fn srt_startup() -> c_int;
    pub fn srt_cleanup() -> c_int;
    pub fn srt_create_group(kind: c_int) -> SrtSocket;
    pub fn srt_prepare_endpoint(
        src: *const sockaddr,
        adr: *const sockaddr,
        namelen: c_int,
    ) -> SrtSockGroupConfig;
    pub fn srt_connect_group(
        group: SrtSocket,
        name: *mut SrtSockGroupConfig,
        arraysize: c_int,
    ) -> c_int;
    pub fn srt_group_data(
        group: SrtSocket,
        output: *mut SrtSockGroupData,
        inoutlen: *mut usize,
    ) -> c_int;
    pub fn srt_setsockflag(u: SrtSocket, opt: c_int, optval: *const c_void, optlen: c_int)
        -> c_int;
    pub fn srt_getsockflag(
        u: SrtSocket,
        opt: c_int,
        optval: *mut c_void,
        optlen: *mut c_int,
    ) -> c_int;
    pub fn srt_create_config() -> *mut c_void;
    pub fn srt_delete_config(config: *mut c_void);
    pub fn srt_config_add(
        config: *mut c_void,
        option: c_int,
        contents: *const c_void,
        len: c_int,
    ) -> c_int;
    pub fn srt_sendmsg2(
        u: SrtSocket,
        buf: *const c_char,
        len: c_int,
        mctrl: *mut SrtMsgCtrl,
    ) -> c_int;
    pub fn srt_bistats(
        u: SrtSocket,
        perf: *mut SrtTraceBStats,
        clear: c_int,
        instantaneous: c_int,
    ) -> c_int;
    pub fn srt_getsockname(u: SrtSocket, name: *mut sockaddr, namelen: *mut c_int) -> c_int;
    pub fn srt_getlasterror_str() -> *const c_char;
    pub fn srt_close(u: SrtSocket) -> c_int;
    pub fn srt_getsockstate(u: SrtSocket) -> c_int;
}

// Safe wrappers: each checks what it hands to libsrt, so the group code above them has no
// `unsafe`.

/// libsrt's text for the calling thread's last error.
pub fn last_error() -> String {
    // SAFETY: libsrt returns a pointer to a thread-local, NUL-terminated string.
    let text = unsafe { srt_getlasterror_str() };
    if text.is_null() {
        return "unknown libsrt error".into();
    }
    // SAFETY: non-null and NUL-terminated, as above; copied before any other libsrt call.
    unsafe { std::ffi::CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned()
}

pub fn startup() -> c_int {
    // SAFETY: no arguments; libsrt counts startups.
    unsafe { srt_startup() }
}

/// Balances one `startup`: libsrt counts them and stops its threads at the last cleanup.
/// Without it, libsrt's static objects are destroyed at process exit while its garbage
/// collector thread still runs, and the process crashes on the way out.
pub fn cleanup() -> c_int {
    // SAFETY: no arguments; paired with a startup by the caller.
    unsafe { srt_cleanup() }
}

pub fn create_group(kind: c_int) -> SrtSocket {
    // SAFETY: an enum value by value.
    unsafe { srt_create_group(kind) }
}

pub fn set_flag_int(u: SrtSocket, opt: c_int, value: c_int) -> c_int {
    // SAFETY: a pointer to a live c_int with its size.
    unsafe {
        srt_setsockflag(
            u,
            opt,
            (&value as *const c_int).cast(),
            std::mem::size_of::<c_int>() as c_int,
        )
    }
}

pub fn set_flag_bytes(u: SrtSocket, opt: c_int, value: &[u8]) -> c_int {
    let Ok(len) = c_int::try_from(value.len()) else {
        return SRT_ERROR;
    };
    // SAFETY: a pointer to `len` live bytes; libsrt copies them.
    unsafe { srt_setsockflag(u, opt, value.as_ptr().cast(), len) }
}

/// `sockaddr_storage` holding `addr`, and its length.
fn storage(addr: &std::net::SocketAddr) -> (sockaddr_storage, c_int) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut out: sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        std::net::SocketAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((&mut out as *mut sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        std::net::SocketAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write((&mut out as *mut sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (out, len as c_int)
}

/// The socket address in a `sockaddr_storage` libsrt filled, if it is IPv4 or IPv6.
pub fn socket_addr(storage: &sockaddr_storage) -> Option<std::net::SocketAddr> {
    match c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin: libc::sockaddr_in =
                unsafe { std::ptr::read((storage as *const sockaddr_storage).cast()) };
            let ip = std::net::Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some((ip, u16::from_be(sin.sin_port)).into())
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6: libc::sockaddr_in6 =
                unsafe { std::ptr::read((storage as *const sockaddr_storage).cast()) };
            let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some((ip, u16::from_be(sin6.sin6_port)).into())
        }
        _ => None,
    }
}

/// One member's own socket options (`SRT_SOCKOPT_CONFIG`); libsrt applies them to the member
/// socket inside `srt_connect_group`, and they are freed on drop.
pub struct MemberOptions(*mut c_void);

impl MemberOptions {
    /// Options that tie the member to one network interface (`SO_BINDTODEVICE`): its packets
    /// leave by that interface whatever its address is now.
    pub fn bound_to_device(interface: &str) -> Result<MemberOptions, String> {
        // SAFETY: no arguments; a null answer is handled below.
        let config = unsafe { srt_create_config() };
        if config.is_null() {
            return Err(last_error());
        }
        let options = MemberOptions(config);
        let Ok(len) = c_int::try_from(interface.len()) else {
            return Err("interface name too long".into());
        };
        // SAFETY: a live config from srt_create_config and `len` live bytes; libsrt copies them.
        let r =
            unsafe { srt_config_add(options.0, SRTO_BINDTODEVICE, interface.as_ptr().cast(), len) };
        if r == SRT_ERROR {
            return Err(format!("interface {interface:?}: {}", last_error()));
        }
        Ok(options)
    }
}

impl Drop for MemberOptions {
    fn drop(&mut self) {
        // SAFETY: a config from srt_create_config, freed once.
        unsafe { srt_delete_config(self.0) }
    }
}

/// The interface a member socket is tied to, if any.
pub fn bound_device(u: SrtSocket) -> Option<String> {
    let mut name = [0u8; 64];
    let mut len = name.len() as c_int;
    // SAFETY: a live, exclusively borrowed buffer of `len` bytes; libsrt writes at most that
    // and sets `len` to what it wrote.
    let r = unsafe { srt_getsockflag(u, SRTO_BINDTODEVICE, name.as_mut_ptr().cast(), &mut len) };
    if r == SRT_ERROR {
        return None;
    }
    let written = &name[..usize::try_from(len).unwrap_or(0).min(name.len())];
    let text = written.split(|b| *b == 0).next().unwrap_or_default();
    (!text.is_empty()).then(|| String::from_utf8_lossy(text).into_owned())
}

/// A member endpoint: from `bind` (any local address of the peer's family if `None`) to `peer`,
/// with the member's own `options` (which must outlive the connect call).
pub fn prepare_endpoint(
    bind: Option<std::net::SocketAddr>,
    peer: &std::net::SocketAddr,
    weight: u16,
    options: Option<&MemberOptions>,
) -> SrtSockGroupConfig {
    let (peer_storage, len) = storage(peer);
    let bind_storage = bind.map(|b| storage(&b).0);
    let src = bind_storage
        .as_ref()
        .map_or(std::ptr::null(), |s| (s as *const sockaddr_storage).cast());
    // SAFETY: both addresses live for the call; libsrt copies them into the returned struct.
    let mut endpoint = unsafe {
        srt_prepare_endpoint(src, (&peer_storage as *const sockaddr_storage).cast(), len)
    };
    endpoint.weight = weight;
    endpoint.config = options.map_or(std::ptr::null_mut(), |o| o.0);
    endpoint
}

/// Connects the group's members; returns the first connected member or SRT_ERROR, and fills
/// each endpoint's `id` and `errorcode`.
pub fn connect_group(group: SrtSocket, endpoints: &mut [SrtSockGroupConfig]) -> c_int {
    let Ok(n) = c_int::try_from(endpoints.len()) else {
        return SRT_ERROR;
    };
    // SAFETY: a live, exclusively borrowed array of `n` endpoints.
    unsafe { srt_connect_group(group, endpoints.as_mut_ptr(), n) }
}

/// The group's members as libsrt sees them (at most `capacity`).
pub fn group_data(group: SrtSocket, capacity: usize) -> Result<Vec<SrtSockGroupData>, String> {
    // SAFETY: all-zero is a valid SrtSockGroupData (integers and a sockaddr_storage).
    let empty: SrtSockGroupData = unsafe { std::mem::zeroed() };
    let mut data = vec![empty; capacity];
    let mut len = capacity;
    // SAFETY: `data` has room for `len` entries; libsrt writes at most that many and sets
    // `len` to how many it wrote.
    let r = unsafe { srt_group_data(group, data.as_mut_ptr(), &mut len) };
    if r == SRT_ERROR {
        return Err(last_error());
    }
    data.truncate(len.min(capacity));
    Ok(data)
}

/// Sends one message (up to 1316 bytes of TS in live mode) on the group.
pub fn send(u: SrtSocket, payload: &[u8]) -> c_int {
    let Ok(len) = c_int::try_from(payload.len()) else {
        return SRT_ERROR;
    };
    // SAFETY: `len` live bytes; a null message control asks for the defaults.
    unsafe { srt_sendmsg2(u, payload.as_ptr().cast(), len, std::ptr::null_mut()) }
}

/// The local address a socket is bound to.
pub fn local_addr(u: SrtSocket) -> Option<std::net::SocketAddr> {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut out: sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<sockaddr_storage>() as c_int;
    // SAFETY: a live, exclusively borrowed storage of `len` bytes; libsrt writes at most that.
    let r = unsafe { srt_getsockname(u, (&mut out as *mut sockaddr_storage).cast(), &mut len) };
    if r == SRT_ERROR {
        return None;
    }
    socket_addr(&out)
}

/// A member socket's statistics since it connected.
pub fn stats(u: SrtSocket) -> Option<SrtTraceBStats> {
    let mut perf = SrtTraceBStats::default();
    // SAFETY: a live, exclusively borrowed struct of the header's layout.
    let r = unsafe { srt_bistats(u, &mut perf, 0, 1) };
    (r != SRT_ERROR).then_some(perf)
}

/// A socket's own state (a group member's, unlike `SrtSockGroupData::sockstate`, which is
/// what the group last recorded).
pub fn sock_state(u: SrtSocket) -> c_int {
    // SAFETY: any id; a stale one answers SRTS_NONEXIST.
    unsafe { srt_getsockstate(u) }
}

pub fn close(u: SrtSocket) {
    // SAFETY: closing an id libsrt gave; a stale id only returns an error.
    unsafe {
        srt_close(u);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The C compiler's sizes of the header's structs (and the one option number whose enum
    /// entry has no explicit value), from a program built against the same include directory
    /// the library was built with.
    fn c_sizes() -> Vec<usize> {
        let prefix = std::env::var("FEEDLINE_SRT_PREFIX")
            .unwrap_or_else(|_| "/opt/feedline/libsrt-bonding".to_string());
        let dir = std::env::temp_dir().join(format!("srt-layout-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let source = dir.join("sizes.c");
        std::fs::write(
            &source,
            "#include <srt/srt.h>\n#include <stdio.h>\nint main(void){printf(\"%zu %zu %zu %zu\\n\", \
             sizeof(SRT_SOCKGROUPCONFIG), sizeof(SRT_SOCKGROUPDATA), sizeof(SRT_TRACEBSTATS), \
             sizeof(SRT_MSGCTRL));printf(\"%d\\n\", (int)SRTO_BINDTODEVICE);return 0;}\n",
        )
        .expect("write sizes.c");
        let binary = dir.join("sizes");
        let built = std::process::Command::new("cc")
            .arg(&source)
            .arg(format!("-I{prefix}/include"))
            .arg("-o")
            .arg(&binary)
            .status()
            .expect("cc");
        assert!(built.success(), "cc could not build the size probe");
        let out = std::process::Command::new(&binary)
            .output()
            .expect("size probe");
        let _ = std::fs::remove_dir_all(&dir);
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(|n| n.parse().expect("a size"))
            .collect()
    }

    #[test]
    fn structs_and_options_match_the_header() {
        use std::mem::size_of;
        assert_eq!(
            c_sizes(),
            vec![
                size_of::<SrtSockGroupConfig>(),
                size_of::<SrtSockGroupData>(),
                size_of::<SrtTraceBStats>(),
                size_of::<SrtMsgCtrl>(),
                SRTO_BINDTODEVICE as usize,
            ],
            "SRT_SOCKGROUPCONFIG, SRT_SOCKGROUPDATA, SRT_TRACEBSTATS, SRT_MSGCTRL, SRTO_BINDTODEVICE"
        );
    }

    #[test]
    fn addresses_survive_the_round_trip_through_sockaddr_storage() {
        for addr in ["127.0.0.1:9000", "[2001:db8::7]:5004"] {
            let addr: std::net::SocketAddr = addr.parse().expect("address");
            assert_eq!(socket_addr(&storage(&addr).0), Some(addr));
        }
    }

    #[test]
    fn a_group_is_created_with_this_library() {
        // Debian's libsrt answers SRT_INVALID_SOCK here: it is built without bonding.
        startup();
        let group = create_group(SRT_GTYPE_BROADCAST);
        assert_ne!(group, SRT_INVALID_SOCK, "{}", last_error());
        close(group);
        cleanup();
    }
}
