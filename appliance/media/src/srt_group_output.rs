//! The sending side of an SRT group output: the output's TS goes out over every link of a
//! libsrt socket group (`feedline-srt`), a helper thread reconnects links that went down, and
//! each link's state and figures are turned into status.

use crate::status::{GroupLinkStatus, SrtLinkStats};
use crate::transport::{SRT_CONNECT_TIMEOUT_MS, SRT_RETRANSMIT_ALGORITHM};
use feedline_config::{OutputTransport, SrtGroupLink, SrtGroupMode};
use feedline_srt::{GroupMode, GroupSettings, Link, LinkState, LinkStatus, SrtGroup};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tracing::{info, warn};

/// SRT live mode carries at most 1316 bytes per message: seven TS packets.
const MESSAGE_BYTES: usize = 7 * 188;
/// How often the links that went down are tried again. Each try waits at most the connect
/// timeout, on the helper thread, so sending never waits for a dead path.
const RELINK_INTERVAL: Duration = Duration::from_millis(500);

/// The group's settings for libsrt, with every receiver address resolved now: a host name may
/// point elsewhere by the next attempt.
pub fn group_settings(transport: &OutputTransport) -> Result<GroupSettings, String> {
    let OutputTransport::SrtGroup {
        mode,
        links,
        latency_ms,
        passphrase,
        encryption,
        stream_id,
        // Validation refuses FEC on a group (libsrt's filter is per link).
        fec: _,
    } = transport
    else {
        return Err("not an SRT group output".into());
    };
    let links = links
        .iter()
        .enumerate()
        .map(|(i, link)| {
            resolve(link).map(|(bind, peer)| Link {
                bind,
                interface: link.interface.clone(),
                peer,
                weight: link.effective_weight(i, links.len()),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(GroupSettings {
        mode: match mode {
            SrtGroupMode::Broadcast => GroupMode::Broadcast,
            SrtGroupMode::Backup => GroupMode::Backup,
        },
        links,
        latency_ms: *latency_ms,
        passphrase: passphrase.as_ref().map(|p| p.expose().to_string()),
        key_bytes: encryption.key_bytes(),
        stream_id: stream_id.clone(),
        packet_filter: None,
        connect_timeout_ms: SRT_CONNECT_TIMEOUT_MS,
        retransmit_algorithm: SRT_RETRANSMIT_ALGORITHM,
    })
}

/// The link's local and remote socket addresses; the receiver's address is taken in the bind
/// address's family.
fn resolve(link: &SrtGroupLink) -> Result<(Option<SocketAddr>, SocketAddr), String> {
    let bind = match &link.bind {
        Some(text) => Some(
            text.parse::<IpAddr>()
                .map_err(|_| format!("link bind {text:?} is not an IP address"))?,
        ),
        None => None,
    };
    let candidates: Vec<SocketAddr> = (link.address.as_str(), link.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", link.address))?
        .collect();
    let peer = candidates
        .iter()
        .find(|a| bind.is_none_or(|b| b.is_ipv4() == a.is_ipv4()))
        .copied()
        .ok_or_else(|| {
            format!(
                "{} has no address of the bind address's family",
                link.address
            )
        })?;
    Ok((bind.map(|ip| SocketAddr::new(ip, 0)), peer))
}

/// A connected group and the helper thread that brings its dead links back.
pub struct GroupSender {
    group: Arc<SrtGroup>,
    stop: Arc<AtomicBool>,
    relinker: Option<JoinHandle<()>>,
}

impl GroupSender {
    /// Connects the links; returns once at least one of them is up.
    pub fn connect(settings: GroupSettings, label: String) -> Result<Self, String> {
        let group = Arc::new(SrtGroup::connect(settings).map_err(|e| e.to_string())?);
        // The programme waits meanwhile in the output's buffer and follows at once.
        group.warm_up();
        let stop = Arc::new(AtomicBool::new(false));
        let relinker = {
            let (group, stop) = (group.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("relink-{label}"))
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let done = group.maintain();
                        if done.stranded_closed > 0 {
                            warn!(
                                output = %label,
                                links = done.stranded_closed,
                                "SRT group links connected but never used by libsrt: closed, dialled again"
                            );
                        }
                        if done.dialled > 0 {
                            info!(output = %label, links = done.dialled, "SRT group links dialled again");
                        }
                        // In steps, so that stopping the output (SIGTERM: 2 s in all) waits at
                        // most one connect timeout here.
                        let until = std::time::Instant::now() + RELINK_INTERVAL;
                        while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < until {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                })
                .map_err(|e| format!("cannot start the link monitor: {e}"))?
        };
        Ok(GroupSender {
            group,
            stop,
            relinker: Some(relinker),
        })
    }

    /// Sends one TS buffer in live-mode messages. An error means no link could take it.
    pub fn send(&self, ts: &[u8]) -> Result<(), String> {
        ts.chunks(MESSAGE_BYTES)
            .try_for_each(|message| self.group.send(message))
            .map_err(|e| e.to_string())
    }

    pub fn links(&self) -> Vec<LinkStatus> {
        self.group.links()
    }
}

impl Drop for GroupSender {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // At most one connect timeout (a dead link being called).
        if let Some(thread) = self.relinker.take() {
            let _ = thread.join();
        }
    }
}

/// Status of each configured link, from libsrt's view of it (same order as the config).
pub fn link_statuses(configured: &[SrtGroupLink], links: &[LinkStatus]) -> Vec<GroupLinkStatus> {
    configured
        .iter()
        .zip(links)
        .map(|(config, link)| GroupLinkStatus {
            address: format!("{}:{}", config.address, config.port),
            bind: config.bind.clone(),
            interface: config.interface.clone(),
            state: link.state,
            stats: SrtLinkStats {
                rtt_ms: link.rtt_ms,
                send_rate_mbps: link.send_rate_mbps,
                packets_sent: count(link.packets_sent),
                packets_lost: count(link.packets_lost),
                packets_retransmitted: count(link.packets_retransmitted),
                packets_dropped: count(link.packets_dropped),
                negotiated_latency_ms: count(link.negotiated_latency_ms),
            },
        })
        .collect()
}

/// Status of each configured link while there is no group to ask (connecting, or failed).
pub fn links_without_group(configured: &[SrtGroupLink], state: LinkState) -> Vec<GroupLinkStatus> {
    configured
        .iter()
        .map(|config| GroupLinkStatus {
            address: format!("{}:{}", config.address, config.port),
            bind: config.bind.clone(),
            interface: config.interface.clone(),
            state,
            stats: SrtLinkStats::default(),
        })
        .collect()
}

fn count(v: i64) -> u64 {
    v.max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use feedline_config::{Encryption, Secret};

    fn group(links: Vec<SrtGroupLink>) -> OutputTransport {
        OutputTransport::SrtGroup {
            mode: SrtGroupMode::Backup,
            links,
            latency_ms: 240,
            passphrase: Some(Secret::new("bonded link secret")),
            encryption: Encryption::Aes256,
            stream_id: Some("venue/cam1".into()),
            fec: None,
        }
    }

    fn link(address: &str, bind: Option<&str>, weight: Option<u16>) -> SrtGroupLink {
        SrtGroupLink {
            address: address.into(),
            port: 9000,
            bind: bind.map(String::from),
            interface: None,
            weight,
        }
    }

    #[test]
    fn the_config_becomes_libsrt_group_settings() {
        let settings = group_settings(&group(vec![
            link("192.0.2.1", Some("10.0.1.2"), None),
            link("198.51.100.1", Some("10.0.2.2"), None),
            link("203.0.113.1", None, Some(9)),
        ]))
        .expect("settings");
        assert_eq!(settings.mode, GroupMode::Backup);
        assert_eq!(
            settings.links,
            vec![
                Link {
                    bind: Some("10.0.1.2:0".parse().expect("addr")),
                    interface: None,
                    peer: "192.0.2.1:9000".parse().expect("addr"),
                    weight: 3,
                },
                Link {
                    bind: Some("10.0.2.2:0".parse().expect("addr")),
                    interface: None,
                    peer: "198.51.100.1:9000".parse().expect("addr"),
                    weight: 2,
                },
                Link {
                    bind: None,
                    interface: None,
                    peer: "203.0.113.1:9000".parse().expect("addr"),
                    weight: 9,
                },
            ]
        );
        assert_eq!(settings.latency_ms, 240);
        assert_eq!(settings.key_bytes, 32);
        assert_eq!(settings.passphrase.as_deref(), Some("bonded link secret"));
        assert_eq!(settings.stream_id.as_deref(), Some("venue/cam1"));
        assert_eq!(settings.packet_filter, None);
        // Like the plain SRT output: every loss report answered.
        assert_eq!(settings.retransmit_algorithm, 0);
    }

    #[test]
    fn a_receiver_name_resolves_in_the_bind_addresses_family() {
        let (bind, peer) = resolve(&link("localhost", Some("127.0.0.1"), None)).expect("resolves");
        assert_eq!(bind, Some("127.0.0.1:0".parse().expect("addr")));
        assert!(peer.is_ipv4() && peer.ip().is_loopback(), "{peer}");
        let err = resolve(&link("no-such-host.invalid", None, None)).expect_err("unknown host");
        assert!(
            err.starts_with("cannot resolve no-such-host.invalid"),
            "{err}"
        );
    }
}
