//! The systemd service protocol (`sd_notify`): READY=1 once the channels run and the API
//! listens, WATCHDOG=1 while the media threads are alive, STOPPING=1 on the way out.
//!
//! The protocol is one datagram per message on the socket named by `$NOTIFY_SOCKET`, so it is
//! written here on std's Unix datagram socket rather than linked from libsystemd. Outside
//! systemd (no `$NOTIFY_SOCKET`) every call is a no-op.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;
use tracing::{debug, warn};

/// Where systemd listens, if it started us as `Type=notify`.
fn socket_address() -> Option<std::os::unix::net::SocketAddr> {
    address_of(&std::env::var_os("NOTIFY_SOCKET")?.to_string_lossy())
}

/// `$NOTIFY_SOCKET`'s value as an address: a path, or `@name` in the abstract namespace.
fn address_of(path: &str) -> Option<std::os::unix::net::SocketAddr> {
    if let Some(name) = path.strip_prefix('@') {
        // Linux abstract namespace.
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).ok()
    } else {
        std::os::unix::net::SocketAddr::from_pathname(path).ok()
    }
}

/// Sends one notification (`READY=1`, `WATCHDOG=1`, `STATUS=…`, several joined by newlines).
pub fn notify(state: &str) {
    if let Some(address) = socket_address() {
        notify_to(&address, state);
    }
}

fn notify_to(address: &std::os::unix::net::SocketAddr, state: &str) {
    let sent = UnixDatagram::unbound().and_then(|s| s.send_to_addr(state.as_bytes(), address));
    match sent {
        Ok(_) => debug!(state, "sd_notify"),
        Err(e) => warn!(error = %e, "cannot notify systemd"),
    }
}

/// How often systemd wants a heartbeat (half its `WatchdogSec=`), if it wants one from us.
pub fn watchdog_period() -> Option<Duration> {
    period_from(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

/// `WATCHDOG_USEC` and `WATCHDOG_PID` as systemd sets them: the heartbeat is ours to send only
/// when the PID is ours (or unset).
fn period_from(usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Duration> {
    let usec: u64 = usec?.parse().ok()?;
    if pid
        .and_then(|p| p.parse::<u32>().ok())
        .is_some_and(|pid| pid != me)
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_the_watchdog_timeout_for_our_pid_only() {
        assert_eq!(
            period_from(Some("30000000"), None, 42),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            period_from(Some("30000000"), Some("42"), 42),
            Some(Duration::from_secs(15))
        );
        assert_eq!(period_from(Some("30000000"), Some("1"), 42), None);
        assert_eq!(period_from(Some("0"), None, 42), None);
        assert_eq!(period_from(None, None, 42), None);
    }

    #[test]
    fn notifications_reach_the_socket_systemd_names() {
        let dir = std::env::temp_dir().join(format!("feedline-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixDatagram::bind(&path).expect("bind");
        let address = address_of(&path.to_string_lossy()).expect("address");
        notify_to(&address, "READY=1\nSTATUS=2 channels running");
        let mut buf = [0u8; 128];
        let n = listener.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"READY=1\nSTATUS=2 channels running");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_at_sign_names_the_abstract_namespace() {
        let address = address_of("@/org/freedesktop/systemd1/notify").expect("address");
        use std::os::linux::net::SocketAddrExt;
        assert_eq!(
            address.as_abstract_name(),
            Some(&b"/org/freedesktop/systemd1/notify"[..])
        );
    }
}
