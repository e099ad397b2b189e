//! What an SRT group output's links tell the operator: an alarm while the output carries on
//! with a path lost, and an event when a link changes state. The output itself stays
//! `connected` on one good path, so without this a dead ISP would show only in the link table.

use feedline_api::status::{Alarm, AlarmSeverity, OutputLive, SrtGroupLinkLive};
use feedline_store::Severity;

/// A link that carries the stream or is ready to (backup mode).
fn is_carrying(link: &SrtGroupLinkLive) -> bool {
    matches!(link.state.as_str(), "active" | "standby")
}

/// How an operator recognises the link: its number in the config, where it goes and, when
/// bound, which local address (which uplink) it leaves from.
fn describe(index: usize, link: &SrtGroupLinkLive) -> String {
    let from = match (&link.interface, &link.bind) {
        (Some(interface), Some(bind)) => format!("{interface} {bind} → "),
        (Some(interface), None) => format!("{interface} → "),
        (None, Some(bind)) => format!("{bind} → "),
        (None, None) => String::new(),
    };
    format!("link {} ({from}{})", index + 1, link.address)
}

/// A warning while a connected group output has links that carry nothing. (An output that is
/// not connected has its own alarm.)
pub fn alarm(channel: &str, output: &OutputLive) -> Option<Alarm> {
    if output.state != "connected" || output.links.iter().all(is_carrying) {
        return None;
    }
    let carrying = output.links.iter().filter(|l| is_carrying(l)).count();
    let lost: Vec<String> = output
        .links
        .iter()
        .enumerate()
        .filter(|(_, l)| !is_carrying(l))
        .map(|(i, l)| format!("{} {}", describe(i, l), l.state))
        .collect();
    Some(Alarm {
        severity: AlarmSeverity::Warning,
        channel: Some(channel.to_string()),
        source: format!("output/{}", output.name),
        message: format!(
            "output {}: {carrying} of {} links carrying the stream; {}",
            output.name,
            output.links.len(),
            lost.join(", ")
        ),
    })
}

/// What a state means to the operator: a link that is down and one being redialled (every
/// 0.5 s while its path is dead) are the same news, so moving between them is not an event.
fn meaning(state: &str) -> &str {
    match state {
        "down" | "connecting" => "lost",
        other => other,
    }
}

/// One event per link whose state changed in meaning between two looks at the output.
pub fn transitions(
    channel: &str,
    before: &OutputLive,
    now: &OutputLive,
) -> Vec<(Severity, String)> {
    // A changed config (another number of links) is not a link event.
    if before.links.len() != now.links.len() {
        return Vec::new();
    }
    before
        .links
        .iter()
        .zip(&now.links)
        .enumerate()
        .filter(|(_, (b, n))| meaning(&b.state) != meaning(&n.state))
        .map(|(i, (b, n))| {
            let severity = if matches!(n.state.as_str(), "silent" | "down") {
                Severity::Warning
            } else {
                Severity::Info
            };
            let message = format!(
                "output {channel}/{} {}: {} → {}",
                now.name,
                describe(i, n),
                b.state,
                n.state
            );
            (severity, message)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use feedline_api::status::SrtLive;

    fn link(address: &str, bind: Option<&str>, state: &str) -> SrtGroupLinkLive {
        SrtGroupLinkLive {
            address: address.into(),
            bind: bind.map(String::from),
            interface: None,
            state: state.into(),
            srt: SrtLive {
                rtt_ms: 50.0,
                send_rate_mbps: 2.0,
                packets_sent: 1000,
                packets_lost: 0,
                packets_retransmitted: 0,
                packets_dropped: 0,
                negotiated_latency_ms: 200,
            },
        }
    }

    fn group(state: &str, links: Vec<SrtGroupLinkLive>) -> OutputLive {
        OutputLive {
            state: state.into(),
            links,
            ..OutputLive::stopped("bonded", "srt-group")
        }
    }

    /// A group output in `state` over two unbound links in the given states.
    fn two_links(state: &str, first: &str, second: &str) -> OutputLive {
        group(
            state,
            vec![
                link("203.0.113.10:9000", None, first),
                link("203.0.113.11:9000", None, second),
            ],
        )
    }

    #[test]
    fn a_lost_path_on_a_connected_group_is_a_warning_naming_the_link() {
        let output = group(
            "connected",
            vec![
                link("203.0.113.10:9000", Some("192.0.2.10"), "active"),
                link("203.0.113.10:9000", Some("198.51.100.20"), "silent"),
            ],
        );
        let alarm = alarm("main", &output).expect("an alarm");
        assert_eq!(alarm.severity, AlarmSeverity::Warning);
        assert_eq!(alarm.channel.as_deref(), Some("main"));
        assert_eq!(alarm.source, "output/bonded");
        assert_eq!(
            alarm.message,
            "output bonded: 1 of 2 links carrying the stream; link 2 (198.51.100.20 → 203.0.113.10:9000) silent"
        );
    }

    #[test]
    fn a_link_is_named_by_its_interface_when_it_has_one() {
        let mut modem = link("203.0.113.10:9000", None, "down");
        modem.interface = Some("wwan0".into());
        assert_eq!(describe(2, &modem), "link 3 (wwan0 → 203.0.113.10:9000)");
        modem.bind = Some("100.64.0.7".into());
        assert_eq!(
            describe(2, &modem),
            "link 3 (wwan0 100.64.0.7 → 203.0.113.10:9000)"
        );
    }

    #[test]
    fn no_link_alarm_while_every_link_carries_or_the_output_is_down() {
        let healthy = two_links("connected", "active", "standby");
        assert!(alarm("main", &healthy).is_none());
        // The output's own alarm speaks for a group with no link up.
        let down = two_links("reconnecting", "down", "down");
        assert!(alarm("main", &down).is_none());
        let plain = group("connected", Vec::new());
        assert!(alarm("main", &plain).is_none());
    }

    #[test]
    fn each_link_state_change_is_an_event() {
        let before = two_links("connected", "active", "active");
        let silent = two_links("connected", "active", "silent");
        assert_eq!(
            transitions("main", &before, &silent),
            vec![(
                Severity::Warning,
                "output main/bonded link 2 (203.0.113.11:9000): active → silent".to_string()
            )]
        );
        assert_eq!(
            transitions("main", &silent, &before),
            vec![(
                Severity::Info,
                "output main/bonded link 2 (203.0.113.11:9000): silent → active".to_string()
            )]
        );
        assert!(transitions("main", &before, &before).is_empty());
        // Redialling a dead path: down and connecting by turns, one piece of news.
        let down = two_links("connected", "active", "down");
        let redialling = two_links("connected", "active", "connecting");
        assert_eq!(transitions("main", &silent, &down).len(), 1);
        assert!(transitions("main", &down, &redialling).is_empty());
        assert!(transitions("main", &redialling, &down).is_empty());
        assert_eq!(
            transitions("main", &redialling, &before),
            vec![(
                Severity::Info,
                "output main/bonded link 2 (203.0.113.11:9000): connecting → active".to_string()
            )]
        );
        assert!(transitions("main", &before, &group("connected", Vec::new())).is_empty());
    }
}
