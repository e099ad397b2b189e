//! A userspace impairment relay for UDP (SRT, RIST, RTP). It sits between a sender and a
//! receiver on loopback and impairs both directions: delay, jitter, random or burst loss,
//! duplication (jitter also reorders) and a cut on command. This machine's kernel has no netem,
//! so this is the tests' netem. Deterministic for a given seed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What one direction of the link does to packets.
#[derive(Debug, Clone, Copy)]
pub struct Impairment {
    /// One-way delay: RTT is the sum of both directions' delays.
    pub delay: Duration,
    /// Each packet is delayed by up to this much more, uniformly; packets may overtake.
    pub jitter: Duration,
    /// Long-run fraction of packets dropped, 0.0–1.0.
    pub loss: f64,
    /// Mean length of a loss burst in packets (Gilbert–Elliott); 1.0 is independent loss.
    pub burst: f64,
    /// Fraction of packets sent twice.
    pub duplicate: f64,
}

impl Impairment {
    pub fn clean() -> Self {
        Impairment {
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            loss: 0.0,
            burst: 1.0,
            duplicate: 0.0,
        }
    }

    pub fn lossy(delay_ms: u64, loss: f64) -> Self {
        Impairment {
            delay: Duration::from_millis(delay_ms),
            loss,
            ..Impairment::clean()
        }
    }
}

/// Each relay really lost `loss` (within ±30 %) of what the client (the sender, when the
/// appliance calls) sent through it towards the server.
pub fn assert_paths_lost(relays: &[Relay], loss: f64) {
    for (i, relay) in relays.iter().enumerate() {
        let measured = relay.forward.loss_fraction();
        assert!(
            (loss * 0.7..loss * 1.3).contains(&measured),
            "path {i} loss to the receiver {measured:.3}"
        );
    }
}

/// The relay seed a test uses: its own `default`, or `FEEDLINE_IMPAIR_SEED` plus `default`, so
/// a measurement can be repeated over other loss patterns (the seed fixes which packets drop).
pub fn seed(default: u64) -> u64 {
    std::env::var("FEEDLINE_IMPAIR_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(default, |s| s.wrapping_mul(1000).wrapping_add(default))
}

/// Packet counts of one direction.
#[derive(Debug, Default)]
pub struct DirectionStats {
    pub received: AtomicU64,
    pub dropped: AtomicU64,
    pub duplicated: AtomicU64,
}

impl DirectionStats {
    pub fn loss_fraction(&self) -> f64 {
        let received = self.received.load(Ordering::Relaxed);
        if received == 0 {
            return 0.0;
        }
        self.dropped.load(Ordering::Relaxed) as f64 / received as f64
    }
}

/// xorshift64*: small, fast, reproducible; statistical quality is plenty for drop decisions.
struct Dice(u64);

impl Dice {
    /// Seeds through splitmix64, so that neighbouring seeds (one relay per path: 100, 101)
    /// give unrelated loss patterns. Until 2026-11-23 the state was `seed | 1`, which made
    /// seeds 100 and 101 the same: both "independent" paths of the group tests lost the same
    /// packets, and the group lost a packet whenever both copies and their retransmissions
    /// fell together.
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        // xorshift's state must never be 0.
        Dice((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Gilbert–Elliott two-state loss: in the bad state every packet is lost. The transition
/// probabilities give the requested long-run loss and mean burst length.
struct LossModel {
    to_bad: f64,
    to_good: f64,
    bad: bool,
}

impl LossModel {
    fn new(loss: f64, burst: f64) -> Self {
        let burst = burst.max(1.0);
        let loss = loss.clamp(0.0, 0.99);
        LossModel {
            to_bad: loss / (burst * (1.0 - loss)),
            to_good: 1.0 / burst,
            bad: false,
        }
    }

    fn lose(&mut self, dice: &mut Dice) -> bool {
        let roll = dice.next();
        self.bad = if self.bad {
            roll >= self.to_good
        } else {
            roll < self.to_bad
        };
        self.bad
    }
}

/// Packets waiting for their due time: (due, arrival order, bytes), earliest first.
type Queue = Arc<(Mutex<BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>>>, Condvar)>;
/// Sends one packet on to its side of the link.
type Deliver = Box<dyn Fn(&[u8]) + Send>;

pub struct Relay {
    /// Where the client (e.g. an SRT caller) sends to instead of the server.
    pub port: u16,
    /// Client → server.
    pub forward: Arc<DirectionStats>,
    /// Server → client.
    pub backward: Arc<DirectionStats>,
    cut: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    queues: Vec<Queue>,
    threads: Vec<JoinHandle<()>>,
}

impl Relay {
    /// Relays between a client (whoever sends to `port` first) and `server`.
    pub fn start(
        server: SocketAddr,
        forward: Impairment,
        backward: Impairment,
        seed: u64,
    ) -> Relay {
        let front = UdpSocket::bind("127.0.0.1:0").expect("bind relay front");
        Relay::start_on(front, server, forward, backward, seed)
    }

    /// As `start`, with the client-facing socket given (RTP/RTCP need a chosen port pair).
    pub fn start_on(
        front: UdpSocket,
        server: SocketAddr,
        forward: Impairment,
        backward: Impairment,
        seed: u64,
    ) -> Relay {
        let back = UdpSocket::bind("127.0.0.1:0").expect("bind relay back");
        back.connect(server).expect("connect relay to server");
        for s in [&front, &back] {
            s.set_read_timeout(Some(Duration::from_millis(50)))
                .expect("read timeout");
        }
        let port = front.local_addr().expect("front address").port();
        let client: Arc<Mutex<Option<SocketAddr>>> = Arc::new(Mutex::new(None));
        let (cut, stop) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let stats = (
            Arc::new(DirectionStats::default()),
            Arc::new(DirectionStats::default()),
        );
        let to_server: Queue = Arc::default();
        let to_client: Queue = Arc::default();
        let mut threads = Vec::new();

        // Receivers: impair, then queue for the due time.
        let receive = |socket: UdpSocket,
                       queue: Queue,
                       impairment: Impairment,
                       stats: Arc<DirectionStats>,
                       learn_client: Option<Arc<Mutex<Option<SocketAddr>>>>,
                       seed: u64| {
            let (cut, stop) = (cut.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut dice = Dice::new(seed);
                let mut loss = LossModel::new(impairment.loss, impairment.burst);
                let mut order = 0u64;
                let mut buf = vec![0u8; 65536];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, from)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    if let Some(client) = &learn_client {
                        *client.lock().unwrap_or_else(|p| p.into_inner()) = Some(from);
                    }
                    stats.received.fetch_add(1, Ordering::Relaxed);
                    if cut.load(Ordering::Relaxed) || loss.lose(&mut dice) {
                        stats.dropped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let copies = if dice.next() < impairment.duplicate {
                        stats.duplicated.fetch_add(1, Ordering::Relaxed);
                        2
                    } else {
                        1
                    };
                    for _ in 0..copies {
                        let extra = impairment.jitter.mul_f64(dice.next());
                        let due = Instant::now() + impairment.delay + extra;
                        order += 1;
                        let (heap, ready) = &*queue;
                        heap.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(Reverse((due, order, buf[..n].to_vec())));
                        ready.notify_one();
                    }
                }
            })
        };
        let front_rx = front.try_clone().expect("clone front");
        let back_rx = back.try_clone().expect("clone back");
        threads.push(receive(
            front_rx,
            to_server.clone(),
            forward,
            stats.0.clone(),
            Some(client.clone()),
            seed,
        ));
        threads.push(receive(
            back_rx,
            to_client.clone(),
            backward,
            stats.1.clone(),
            None,
            seed.rotate_left(17) ^ 0x9E37_79B9_7F4A_7C15,
        ));

        // Senders: release each packet at its due time.
        let send = |queue: Queue, deliver: Deliver| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let (heap, ready) = &*queue;
                let mut heap = heap.lock().unwrap_or_else(|p| p.into_inner());
                while !stop.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    match heap.peek() {
                        Some(Reverse((due, _, _))) if *due <= now => {
                            if let Some(Reverse((_, _, packet))) = heap.pop() {
                                drop(heap);
                                deliver(&packet);
                                heap = queue.0.lock().unwrap_or_else(|p| p.into_inner());
                            }
                        }
                        Some(Reverse((due, _, _))) => {
                            let wait = *due - now;
                            heap = ready
                                .wait_timeout(heap, wait)
                                .map(|(g, _)| g)
                                .unwrap_or_else(|p| p.into_inner().0);
                        }
                        None => {
                            heap = ready
                                .wait_timeout(heap, Duration::from_millis(50))
                                .map(|(g, _)| g)
                                .unwrap_or_else(|p| p.into_inner().0);
                        }
                    }
                }
            })
        };
        threads.push(send(
            to_server.clone(),
            Box::new(move |p| {
                let _ = back.send(p);
            }),
        ));
        let client_for_send = client.clone();
        threads.push(send(
            to_client.clone(),
            Box::new(move |p| {
                let to = *client_for_send.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(to) = to {
                    let _ = front.send_to(p, to);
                }
            }),
        ));
        Relay {
            port,
            forward: stats.0,
            backward: stats.1,
            cut,
            stop,
            queues: vec![to_server, to_client],
            threads,
        }
    }

    /// Cuts the link (both directions) or restores it.
    pub fn cut(&self, cut: bool) {
        self.cut.store(cut, Ordering::Relaxed);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for q in &self.queues {
            q.1.notify_all();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Two bound loopback sockets on ports P and P+1 with P even, as RTP and RTCP want them.
/// An even port whose pair (RTP, RTCP) was free a moment ago, for a receiver to listen on.
pub fn free_even_port() -> u16 {
    let (rtp, _rtcp) = even_port_pair();
    rtp.local_addr().expect("address").port()
}

pub fn even_port_pair() -> (UdpSocket, UdpSocket) {
    for _ in 0..200 {
        let probe = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = probe.local_addr().expect("address").port() & !1;
        drop(probe);
        if port < 1024 {
            continue;
        }
        if let (Ok(rtp), Ok(rtcp)) = (
            UdpSocket::bind(("127.0.0.1", port)),
            UdpSocket::bind(("127.0.0.1", port + 1)),
        ) {
            return (rtp, rtcp);
        }
    }
    panic!("no free even UDP port pair on loopback");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loss_model_hits_its_rate_and_burst_length() {
        for (rate, burst) in [(0.05, 1.0), (0.10, 4.0)] {
            let mut dice = Dice::new(42);
            let mut model = LossModel::new(rate, burst);
            let n = 200_000;
            let (mut lost, mut bursts, mut was_lost) = (0u32, 0u32, false);
            for _ in 0..n {
                let l = model.lose(&mut dice);
                if l {
                    lost += 1;
                    if !was_lost {
                        bursts += 1;
                    }
                }
                was_lost = l;
            }
            let measured = f64::from(lost) / f64::from(n);
            let mean_burst = f64::from(lost) / f64::from(bursts);
            assert!(
                (measured - rate).abs() < rate * 0.1,
                "loss {measured} for {rate}"
            );
            assert!(
                (mean_burst - burst).abs() < burst * 0.15 + 0.1,
                "burst {mean_burst} for {burst}"
            );
        }
    }

    /// Two paths of a group test are relays seeded 100 and 101 (and 500, 501): their losses
    /// must be independent, or the group's redundancy is not tested at all.
    #[test]
    fn neighbouring_seeds_lose_independently() {
        for (a, b) in [(100, 101), (500, 501), (40, 41), (21_100, 21_101)] {
            let (mut dice_a, mut dice_b) = (Dice::new(a), Dice::new(b));
            let (mut model_a, mut model_b) = (LossModel::new(0.1, 1.0), LossModel::new(0.1, 1.0));
            let n = 100_000;
            let both = (0..n)
                .filter(|_| model_a.lose(&mut dice_a) & model_b.lose(&mut dice_b))
                .count();
            // Independent paths at 10 % each lose the same packet 1 % of the time.
            let measured = both as f64 / f64::from(n);
            assert!(
                (measured - 0.01).abs() < 0.002,
                "seeds {a} and {b} lose the same packet {measured:.4} of the time"
            );
        }
    }

    #[test]
    fn packets_cross_with_the_delay_and_a_cut_stops_them() {
        let server = UdpSocket::bind("127.0.0.1:0").expect("server");
        server
            .set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        let relay = Relay::start(
            server.local_addr().expect("addr"),
            Impairment::lossy(40, 0.0),
            Impairment::clean(),
            7,
        );
        let client = UdpSocket::bind("127.0.0.1:0").expect("client");
        let sent = Instant::now();
        client
            .send_to(b"hello", ("127.0.0.1", relay.port))
            .expect("send");
        let mut buf = [0u8; 16];
        let (n, _) = server.recv_from(&mut buf).expect("delivered");
        assert_eq!(&buf[..n], b"hello");
        assert!(sent.elapsed() >= Duration::from_millis(40), "delay applied");
        relay.cut(true);
        client
            .send_to(b"lost", ("127.0.0.1", relay.port))
            .expect("send");
        assert!(
            server.recv_from(&mut buf).is_err(),
            "a cut link delivers nothing"
        );
        assert_eq!(relay.forward.dropped.load(Ordering::Relaxed), 1);
    }
}
