//! An SRT socket group as a sender: every link connects to the same receiver (over its own
//! path), and the group carries one stream over all of them.

use crate::ffi;
use crate::silence::{self, Hearing};
use crate::stranded::{self, Stranding};
use crate::warm_up;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long `connect` waits, once one link is up, for the others still shaking hands. The
/// first packets then go out on every path that is up at start, not only on the fastest; a
/// dead path delays the first packet by at most this.
const OTHER_LINKS_GRACE: Duration = Duration::from_millis(1000);

/// How the group uses its links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupMode {
    /// Every packet on every link; the receiver keeps the first copy.
    Broadcast,
    /// One link carries the stream; the next by weight takes over when it becomes unstable.
    Backup,
}

/// One member link: from a local address (its own interface or ISP) to the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Local address to send from; `None` lets the kernel choose.
    pub bind: Option<SocketAddr>,
    /// Network interface the link is tied to (`SO_BINDTODEVICE`): it leaves by that interface
    /// whatever address the interface has (a modem's changes with each lease).
    pub interface: Option<String>,
    pub peer: SocketAddr,
    /// Backup mode: the highest weight is the main link.
    pub weight: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSettings {
    pub mode: GroupMode,
    pub links: Vec<Link>,
    pub latency_ms: u32,
    pub passphrase: Option<String>,
    /// AES key length in bytes: 16, 24 or 32.
    pub key_bytes: u32,
    pub stream_id: Option<String>,
    /// libsrt packet filter, e.g. `fec,cols:10,rows:5`. The appliance never sets one (its
    /// config refuses FEC on a group: libsrt's filter is per link and broke when a link joined
    /// mid-stream); kept so the library test can measure that.
    pub packet_filter: Option<String>,
    pub connect_timeout_ms: u32,
    /// `SRTO_RETRANSMITALGO`: 0 answers every loss report, 1 (libsrt's default) skips reports
    /// for packets retransmitted less than an RTT ago.
    pub retransmit_algorithm: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SrtError {
    #[error("cannot create the SRT group: {0}")]
    Create(String),
    #[error("SRT group option {option}: {message}")]
    Option {
        option: &'static str,
        message: String,
    },
    #[error("no link of the SRT group connected: {0}")]
    Connect(String),
    #[error("sending on the SRT group: {0}")]
    Send(String),
}

/// A link's state in the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    /// Connected and carrying the stream.
    Active,
    /// Connected in libsrt's eyes and sending, but nothing heard from the receiver for
    /// `SILENT_AFTER`: the path is most likely dead (libsrt breaks it after its 5 s peer
    /// idle timeout, and the link goes `Down`).
    Silent,
    /// Connected, standing by (backup mode).
    Standby,
    /// Broken or not in the group (libsrt drops broken members); reconnected by `maintain`.
    Down,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Connecting => "connecting",
            LinkState::Active => "active",
            LinkState::Silent => "silent",
            LinkState::Standby => "standby",
            LinkState::Down => "down",
        }
    }

    /// Connected to the receiver, carrying the stream or ready to.
    pub fn is_up(self) -> bool {
        matches!(self, LinkState::Active | LinkState::Standby)
    }
}

/// What status and metrics show per link.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkStatus {
    pub peer: SocketAddr,
    pub state: LinkState,
    pub packets_sent: i64,
    pub packets_retransmitted: i64,
    pub packets_lost: i64,
    /// Packets the sender dropped as too late to be played out.
    pub packets_dropped: i64,
    pub rtt_ms: f64,
    pub send_rate_mbps: f64,
    /// The latency agreed with the receiver (0 until the link connects).
    pub negotiated_latency_ms: i64,
}

/// A connected SRT group. Dropping it closes every link.
pub struct SrtGroup {
    id: ffi::SrtSocket,
    settings: GroupSettings,
    /// Per configured link: what is being watched on its member.
    watches: Mutex<Vec<LinkWatch>>,
}

impl SrtGroup {
    /// Creates the group and connects its links; returns once at least one is connected (and,
    /// for a broadcast group, the others have connected or failed, or `OTHER_LINKS_GRACE` has
    /// passed).
    pub fn connect(settings: GroupSettings) -> Result<Self, SrtError> {
        ffi::startup();
        let kind = match settings.mode {
            GroupMode::Broadcast => ffi::SRT_GTYPE_BROADCAST,
            GroupMode::Backup => ffi::SRT_GTYPE_BACKUP,
        };
        let id = ffi::create_group(kind);
        if id == ffi::SRT_INVALID_SOCK {
            let error = ffi::last_error();
            ffi::cleanup();
            return Err(SrtError::Create(error));
        }
        let group = SrtGroup {
            id,
            watches: Mutex::new(vec![LinkWatch::default(); settings.links.len()]),
            settings,
        };
        group.configure()?;
        let options = group
            .settings
            .links
            .iter()
            .map(member_options)
            .collect::<Result<Vec<_>, _>>()?;
        let mut endpoints: Vec<_> = group
            .settings
            .links
            .iter()
            .zip(&options)
            .map(|(l, o)| ffi::prepare_endpoint(l.bind, &l.peer, l.weight, o.as_ref()))
            .collect();
        if ffi::connect_group(group.id, &mut endpoints) == ffi::SRT_ERROR {
            return Err(SrtError::Connect(ffi::last_error()));
        }
        // A backup group's standby carries nothing until it takes over, so there is nothing to
        // protect by waiting for it; and measured, a standby connected before the first packet
        // made the switch-over lose a packet in 2 of 12 runs (0 of 10 when it joined after).
        if group.settings.mode == GroupMode::Broadcast {
            group.wait_for_links_connecting();
        }
        Ok(group)
    }

    /// libsrt's blocking connect returns with the first link (in the group test the second
    /// was still shaking hands, a few milliseconds behind); the first packets would then go
    /// out on one path only, unprotected by the other. Measured on the appliance's group
    /// output with the packet-filter FEC: without this wait, 4 runs of 4 wrote hundreds of
    /// continuity errors (garbage "rebuilt" packets, cause inside libsrt not pinned down);
    /// with it, none. (A link joining later broke FEC too, under load, so the appliance no
    /// longer offers FEC on a group; the wait still starts the stream protected on all paths.)
    fn wait_for_links_connecting(&self) {
        let deadline = Instant::now() + OTHER_LINKS_GRACE;
        while Instant::now() < deadline
            && self
                .members()
                .iter()
                .any(|seen| seen.state == LinkState::Connecting)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Options set on the group apply to every member link.
    fn configure(&self) -> Result<(), SrtError> {
        let s = &self.settings;
        let int = |option: &'static str, opt, value: u32| {
            let value = i32::try_from(value).unwrap_or(i32::MAX);
            check(option, ffi::set_flag_int(self.id, opt, value))
        };
        let text = |option: &'static str, opt, value: &str| {
            check(option, ffi::set_flag_bytes(self.id, opt, value.as_bytes()))
        };
        int("latency", ffi::SRTO_LATENCY, s.latency_ms)?;
        int("connect_timeout", ffi::SRTO_CONNTIMEO, s.connect_timeout_ms)?;
        int(
            "retransmitalgo",
            ffi::SRTO_RETRANSMITALGO,
            s.retransmit_algorithm,
        )?;
        if let Some(passphrase) = &s.passphrase {
            text("passphrase", ffi::SRTO_PASSPHRASE, passphrase)?;
            int("pbkeylen", ffi::SRTO_PBKEYLEN, s.key_bytes)?;
        }
        if let Some(stream_id) = &s.stream_id {
            text("streamid", ffi::SRTO_STREAMID, stream_id)?;
        }
        if let Some(filter) = &s.packet_filter {
            text("packetfilter", ffi::SRTO_PACKETFILTER, filter)?;
        }
        Ok(())
    }

    /// Sends `warm_up::WARM_UP` of MPEG-TS null packets, so that every link's receiver has
    /// measured the round trip before the first packet of the programme (see `warm_up`).
    pub fn warm_up(&self) {
        warm_up::run(|message| {
            // A link that cannot take a null packet now will say so when the programme starts.
            let _ = self.send(message);
        });
    }

    /// Sends one message: up to 1316 bytes (seven TS packets).
    pub fn send(&self, payload: &[u8]) -> Result<(), SrtError> {
        if ffi::send(self.id, payload) == ffi::SRT_ERROR {
            return Err(SrtError::Send(ffi::last_error()));
        }
        Ok(())
    }

    /// Every configured link, with its state and statistics.
    pub fn links(&self) -> Vec<LinkStatus> {
        self.members()
            .into_iter()
            .zip(&self.settings.links)
            .map(|(seen, link)| {
                // A running link's figures were read to judge its silence; the others' now.
                let stats = seen
                    .stats
                    .or_else(|| seen.member.and_then(|m| ffi::stats(m.id)))
                    .unwrap_or_default();
                LinkStatus {
                    peer: link.peer,
                    state: seen.state,
                    packets_sent: stats.pkt_sent_total,
                    packets_retransmitted: i64::from(stats.pkt_retrans_total),
                    packets_lost: i64::from(stats.pkt_snd_loss_total),
                    packets_dropped: i64::from(stats.pkt_snd_drop_total),
                    rtt_ms: stats.ms_rtt,
                    send_rate_mbps: stats.mbps_send_rate,
                    negotiated_latency_ms: i64::from(stats.ms_snd_tsb_pd_delay),
                }
            })
            .collect()
    }

    /// Each configured link's state and its member in the group, if libsrt still has one.
    fn members(&self) -> Vec<SeenLink> {
        let members = ffi::group_data(self.id, self.settings.links.len() * 2).unwrap_or_default();
        // Only links tied to an interface need each member's interface asked for.
        let by_interface = self.settings.links.iter().any(|l| l.interface.is_some());
        // Each member with its local address, once: a link is told apart by where it goes and
        // where it comes from (two links may call one receiver address from two interfaces).
        let mut unclaimed: Vec<Member> = members
            .iter()
            .map(|m| {
                let device = if by_interface {
                    ffi::bound_device(m.id)
                } else {
                    None
                };
                (*m, ffi::local_addr(m.id), device)
            })
            .collect();
        let mut watches = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        self.settings
            .links
            .iter()
            .zip(watches.iter_mut())
            .map(|(link, watch)| {
                let ours = |(m, local, device): &Member| {
                    ffi::socket_addr(&m.peeraddr) == Some(link.peer)
                        && link
                            .bind
                            .is_none_or(|b| local.map(|l| l.ip()) == Some(b.ip()))
                        && link.interface == *device
                };
                // A broken member lingers beside the one that replaced it: the live one counts.
                let alive = |(m, _, _): &Member| m.memberstate != ffi::SRT_GST_BROKEN;
                let position = unclaimed
                    .iter()
                    .position(|c| ours(c) && alive(c))
                    .or_else(|| unclaimed.iter().position(ours));
                let member = position.map(|p| unclaimed.remove(p).0);
                let pending_while_connected = member.is_some_and(|m| {
                    m.memberstate == ffi::SRT_GST_PENDING
                        && ffi::sock_state(m.id) == ffi::SRTS_CONNECTED
                });
                let stranded = member.is_some_and(|m| {
                    stranded::is_stranded(&mut watch.stranding, m.id, pending_while_connected, now)
                });
                let mut stats = None;
                let state = match member {
                    None => LinkState::Down,
                    // Not carrying the stream, and it never will: `maintain` dials it again.
                    Some(_) if pending_while_connected => LinkState::Connecting,
                    Some(m) if m.sockstate == ffi::SRTS_CONNECTING => LinkState::Connecting,
                    Some(m) if m.sockstate != ffi::SRTS_CONNECTED => LinkState::Down,
                    Some(m) if m.memberstate == ffi::SRT_GST_RUNNING => {
                        let now_stats = ffi::stats(m.id).unwrap_or_default();
                        stats = Some(now_stats);
                        let replies = i64::from(now_stats.pkt_recv_acktotal)
                            + i64::from(now_stats.pkt_recv_naktotal);
                        let sent = now_stats.pkt_sent_total;
                        if silence::is_silent(&mut watch.hearing, m.id, replies, sent, now) {
                            LinkState::Silent
                        } else {
                            LinkState::Active
                        }
                    }
                    Some(m) if m.memberstate == ffi::SRT_GST_BROKEN => LinkState::Down,
                    Some(_) => LinkState::Standby,
                };
                SeenLink {
                    state,
                    member,
                    stats,
                    stranded,
                }
            })
            .collect()
    }

    /// Dials the links that are down again: libsrt removes a broken member from its group and
    /// never re-establishes it itself. A member libsrt left stranded (see `stranded`) is
    /// closed and its link dialled again. Once the group is connected, libsrt finishes a dial
    /// in the background, so one to a dead path is accepted too, fails later, and is dialled
    /// again.
    pub fn maintain(&self) -> Maintenance {
        let seen = self.members();
        let mut done = Maintenance::default();
        for (seen, link) in seen.iter().zip(&self.settings.links) {
            match seen.member {
                Some(member) if seen.stranded => {
                    ffi::close(member.id);
                    done.stranded_closed += 1;
                }
                _ if seen.state == LinkState::Down => {}
                _ => continue,
            }
            // The interface name was accepted at connect; a failure now is a dial that failed.
            let Ok(options) = member_options(link) else {
                continue;
            };
            let mut endpoint = [ffi::prepare_endpoint(
                link.bind,
                &link.peer,
                link.weight,
                options.as_ref(),
            )];
            if ffi::connect_group(self.id, &mut endpoint) != ffi::SRT_ERROR {
                done.dialled += 1;
            }
        }
        done
    }
}

impl Drop for SrtGroup {
    fn drop(&mut self) {
        ffi::close(self.id);
        // The startup `connect` made: the last group's drop stops libsrt's threads.
        ffi::cleanup();
    }
}

/// What one pass of `SrtGroup::maintain` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Maintenance {
    /// Dials libsrt accepted.
    pub dialled: usize,
    /// Members closed because libsrt left them stranded (their links are among `dialled`).
    pub stranded_closed: usize,
}

/// What is watched on one configured link's member.
#[derive(Debug, Clone, Copy, Default)]
struct LinkWatch {
    /// What it last heard from the receiver (see `silence`).
    hearing: Option<Hearing>,
    /// Since when libsrt has left it pending while connected (see `stranded`).
    stranding: Option<Stranding>,
}

/// One configured link as `members` found it.
struct SeenLink {
    state: LinkState,
    /// Its member in the group, if libsrt still has one.
    member: Option<ffi::SrtSockGroupData>,
    /// Its figures, when they were read to judge its silence (running links).
    stats: Option<ffi::SrtTraceBStats>,
    /// libsrt has left its member pending while connected for `stranded::STRANDED_AFTER`.
    stranded: bool,
}

/// A member as libsrt reports it, with the local address and interface it is tied to: a link
/// is told apart by where it goes and where it comes from.
type Member = (ffi::SrtSockGroupData, Option<SocketAddr>, Option<String>);

/// The link's own socket options: its interface, when it has one.
fn member_options(link: &Link) -> Result<Option<ffi::MemberOptions>, SrtError> {
    link.interface
        .as_deref()
        .map(ffi::MemberOptions::bound_to_device)
        .transpose()
        .map_err(|message| SrtError::Option {
            option: "bindtodevice",
            message,
        })
}

fn check(option: &'static str, result: i32) -> Result<(), SrtError> {
    if result == ffi::SRT_ERROR {
        return Err(SrtError::Option {
            option,
            message: ffi::last_error(),
        });
    }
    Ok(())
}
